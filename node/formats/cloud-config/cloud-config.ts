// One #cloud-config document → the model. Each supported key is checked on its own so every
// problem in the document is reported at once; unsupported keys become warnings (keys.ts).
import YAML from 'yaml';
import { adoptNodeConfig } from '../../config/node-file.ts';
import { nodeConfigProblems } from '../../config/parse.ts';
import type { NodeConfig } from '../../config/schema.ts';
import { NODE_CONFIG_PATH } from '../../layout.ts';
import { type Command } from '../../model.ts';
import { applyWriteFiles } from './files.ts';
import { applyHostname, type MetaData } from './hostname.ts';
import { ntpKeyWarnings, unsupportedKeyWarnings } from './keys.ts';
import { KEY_SCHEMAS, Ntp } from './schema.ts';
import { applyUsers } from './users.ts';
import { isMapping, type Context } from './report.ts';

export function applyCloudConfig(value: unknown, meta: MetaData, ctx: Context): void {
  const { report, model } = ctx;
  if (value === null || value === undefined) return applyHostname({}, meta, ctx);
  if (!isMapping(value))
    return report.error(
      '',
      `cloud-config must be a mapping of keys, not ${Array.isArray(value) ? 'a list' : typeof value}`,
      'start with "#cloud-config", then keys such as hostname:, users:, write_files:',
    );
  const cfg = value;

  unsupportedKeyWarnings(cfg, report);
  // files in the order cloud-init writes them: write_files, /etc/hosts, keys; then kiln's node config
  applyWriteFiles(cfg, ctx);
  applyHostname(cfg, meta, ctx);
  applyUsers(cfg, ctx);
  applyKiln(cfg, ctx);
  const conflict = model.files.findIndex((f) => f.path === NODE_CONFIG_PATH && f.origin.path.startsWith('/write_files'));
  if (cfg.kiln !== undefined && conflict >= 0)
    report.error(
      model.files[conflict]!.origin.path + '/path',
      `${NODE_CONFIG_PATH} is written from the kiln: key`,
      'put the node config under kiln: only',
    );
  // a node config written by write_files is checked like any other
  else report.problems.push(...adoptNodeConfig(model));

  for (const key of ['bootcmd', 'runcmd'] as const) {
    if (cfg[key] === undefined || !report.check(KEY_SCHEMAS[key], cfg[key], `/${key}`)) continue;
    // cloud-init skips null runcmd entries
    model[key].push(...(cfg[key] as Array<Command | null>).filter((c): c is Command => c !== null));
  }

  if (cfg.ntp !== undefined && cfg.ntp !== null && report.check(Ntp, cfg.ntp, '/ntp')) {
    const ntp = cfg.ntp as { enabled?: boolean; servers?: string[]; pools?: string[] };
    ntpKeyWarnings(ntp, report);
    if (ntp.enabled === false)
      report.warn(
        '/ntp/enabled',
        'ntp.enabled is false: kiln leaves time sync as the image has it (systemd-timesyncd)',
        'kiln does not turn time sync off',
      );
    // no servers and no pools: the image's defaults stay, as cloud-init would use the distro's pools
    else if ((ntp.servers?.length ?? 0) + (ntp.pools?.length ?? 0) > 0) model.ntp = { servers: ntp.servers ?? [], pools: ntp.pools ?? [] };
  }

  if (cfg.timezone !== undefined && report.check(KEY_SCHEMAS.timezone, cfg.timezone, '/timezone')) model.timezone = cfg.timezone as string;
}

/** The kiln node config: checked by the node config rules, kept in the model and written to disk. */
function applyKiln(cfg: Record<string, unknown>, ctx: Context): void {
  const { report, model } = ctx;
  if (cfg.kiln === undefined) return;
  const problems = nodeConfigProblems(cfg.kiln, report.file, '/kiln');
  if (problems.length > 0) return void report.problems.push(...problems);
  model.node = cfg.kiln as NodeConfig;
  model.files.push({
    path: NODE_CONFIG_PATH,
    contents: { kind: 'inline', data: Buffer.from(YAML.stringify(cfg.kiln)) },
    append: [],
    mode: 0o600,
    overwrite: true,
    secret: true,
    origin: { file: report.origin, path: '/kiln' },
  });
}
