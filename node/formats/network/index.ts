// cloud-init network-config (version 1 or 2, bare or under `network:`) → systemd-networkd files.
// Pure: nothing is written; the caller puts the files under /etc/systemd/network.
import { type Problem } from '../../../core/problem.ts';
import { ValidationError } from '../../../core/errors.ts';
import { byPosition } from '../../../core/problem.ts';
import { readYaml } from '../../../core/yaml.ts';
import type { NetworkdFile } from '../../model.ts';
import { render } from './render.ts';
import { checkNets } from './semantics.ts';
import type { Net } from './types.ts';
import { parseV1 } from './v1.ts';
import { parseV2 } from './v2.ts';
import { Report } from '../../../core/problem.ts';
import { Fields, at, isMapping, show } from './validate.ts';

const SHAPE = 'version: 2 (netplan format) or version: 1 (cloud-init list format), optionally under a top-level network: key';

/**
 * Parses a network-config document. Every problem found is thrown at once as a ValidationError;
 * warnings (deprecated or unsupported keys, likely mistakes) come back with the files.
 */
export function parseNetworkConfig(text: string, file: string): { files: NetworkdFile[]; warnings: Problem[] } {
  const doc = readYaml(text, file);
  const report = new Report(file);
  const nets = read(report, doc.value);
  checkNets(report, nets);
  const located = (problems: Problem[]) => problems.map((p) => doc.locate(p)).sort(byPosition);
  if (report.problems.length > 0) throw new ValidationError(located(report.problems));
  return { files: render(nets, file), warnings: located(report.warnings) };
}

function read(r: Report, value: unknown): Net[] {
  if (value === null || value === undefined) {
    r.error('', 'network-config is empty', SHAPE);
    return [];
  }
  if (!isMapping(value)) {
    r.error('', `network-config must be a mapping, not ${show(value)}`, SHAPE);
    return [];
  }
  let base = '';
  let body: unknown = value;
  if (Object.hasOwn(value, 'network')) {
    for (const key of Object.keys(value).filter((k) => k !== 'network'))
      r.error(at('', key), `unknown key "${key}" next to network:`, 'with a top-level network: key, all settings go under it');
    base = '/network';
    body = value.network;
    if (!isMapping(body)) {
      r.error(base, `network: must be a mapping, not ${show(body)}`, SHAPE.replace(', optionally under a top-level network: key', ''));
      return [];
    }
  }
  const f = new Fields(r, body as Record<string, unknown>, base);
  // cloud-init's switch to leave networking alone
  if (f.value.config === 'disabled') {
    f.keys(['config', 'version']);
    r.warn(
      f.at('config'),
      'network configuration is disabled',
      'no networkd files are generated; the image’s default networking stays in place',
    );
    return [];
  }
  if (!f.need('version', SHAPE)) return [];
  const version = f.value.version;
  if (version === 1 || version === 2) {
    const nets = version === 1 ? parseV1(r, f) : parseV2(r, f);
    if (nets.length === 0 && r.problems.length === 0)
      r.warn(
        base,
        'network-config configures no interface',
        'no networkd files are generated; the image’s default networking stays in place',
      );
    return nets;
  }
  if (version === '1' || version === '2')
    r.error(f.at('version'), `version "${version}" is a string`, `write version: ${version} without quotes`);
  else
    r.error(
      f.at('version'),
      `version ${show(version)} is not supported`,
      'version: 1 (cloud-init list format) or version: 2 (netplan format)',
    );
  return [];
}
