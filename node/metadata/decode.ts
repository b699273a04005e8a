// Raw metadata bytes → the provisioning model: pick the format, parse each file, and report the
// problems of all files together.
import { createHash } from 'node:crypto';
import { type Problem } from '../../core/problem.ts';
import { ValidationError } from '../../core/errors.ts';
import { parseMetaData, parseUserData } from '../formats/cloud-config/index.ts';
import { parseIgnition } from '../formats/ignition/parse.ts';
import { parseNetworkConfig } from '../formats/network/index.ts';
import type { Provisioning } from '../model.ts';

/** Raw bytes as the source holds them; parsing is the next stage's business. */
export interface RawMetadata {
  /** `ignition`: the user data is an Ignition config; `nocloud`: NoCloud files; `sniff`: decide by content. */
  kind: 'ignition' | 'nocloud' | 'sniff';
  userData: { name: string; data: Buffer };
  metaData?: { name: string; data: Buffer };
  networkConfig?: { name: string; data: Buffer };
}

/** JSON user data is Ignition (cloud-config and scripts start with `#`): the Ignition parser says what is wrong with it. */
function looksLikeIgnition(data: Buffer): boolean {
  const text = data.toString('utf8').trimStart();
  return text.startsWith('{') || text.startsWith('[');
}

/** Runs each parser, gathering every file's problems before failing. */
function collect<T>(problems: Problem[], parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ValidationError) {
      problems.push(...error.problems);
      return undefined;
    }
    throw error;
  }
}

export function decodeMetadata(raw: RawMetadata): Provisioning {
  const problems: Problem[] = [];
  const { userData } = raw;
  let meta: { instanceId: string; localHostname?: string } | undefined;
  if (raw.metaData) meta = collect(problems, () => parseMetaData(raw.metaData!.data.toString('utf8'), raw.metaData!.name));
  // a config given by URL or path has no meta-data: its content identifies the instance
  meta ??=
    raw.kind === 'nocloud'
      ? undefined
      : { instanceId: `kiln-sha256-${createHash('sha256').update(userData.data).digest('hex').slice(0, 16)}` };
  const ignition = raw.kind === 'ignition' || looksLikeIgnition(userData.data);
  let model: Provisioning | undefined;
  if (ignition) {
    model = collect(problems, () => parseIgnition(userData.data.toString('utf8'), userData.name));
    // NoCloud's instance-id decides first boot even when user-data is Ignition
    if (model && raw.kind === 'nocloud' && meta) model.instanceId = meta.instanceId;
    if (model && meta?.localHostname && !model.hostname) model.hostname = meta.localHostname;
  } else if (meta) {
    model = collect(problems, () => parseUserData(userData.data, userData.name, meta!));
  }
  const network = raw.networkConfig
    ? collect(problems, () => parseNetworkConfig(raw.networkConfig!.data.toString('utf8'), raw.networkConfig!.name))
    : undefined;
  if (problems.length > 0 || !model) throw new ValidationError(problems);
  if (network) {
    model.network.push(...network.files);
    model.warnings.push(...network.warnings);
  }
  return model;
}
