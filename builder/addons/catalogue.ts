// The addon catalogue (addons/*.yaml): what kiln knows how to bake in — a Helm chart pinned by
// repository, name and version, the namespace and values it installs with, the values a site must
// give, and the images it runs (preloaded with it). Validated when read, like a spec.
import { Type, type Static } from '@sinclair/typebox';
import { listAssets } from '../assets.ts';
import { ValidationError } from '../../core/errors.ts';
import { REF_PATTERN } from '../images/refs.ts';
import { parseDocumentText, type DocumentKind } from '../../core/document.ts';
import { CHART_DIR } from '../../node/layout.ts';
import { Strict } from '../../core/schema.ts';

const DNS_LABEL = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';

export const AddonSchema = Type.Object(
  {
    name: Type.String({ pattern: DNS_LABEL }),
    why: Type.String({ minLength: 20 }),
    chart: Type.Object(
      {
        repository: Type.String({ pattern: '^(https?|file)://[^\\s]+[^/\\s]$' }),
        name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$' }),
        version: Type.String({ pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+([-+][0-9A-Za-z.-]+)?$' }),
      },
      Strict,
    ),
    namespace: Type.String({ pattern: DNS_LABEL }),
    values: Type.Record(Type.String(), Type.Unknown()),
    /** Dotted value paths the node config must set (the site's NFS server, say). */
    requiredValues: Type.Optional(Type.Array(Type.String({ pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*$' }))),
    images: Type.Array(Type.String({ pattern: REF_PATTERN }), { minItems: 1 }),
  },
  Strict,
);

export type Addon = Static<typeof AddonSchema>;

const ADDON: DocumentKind<Addon> = { what: 'addon', example: 'addons/metrics-server.yaml', schema: AddonSchema, rules: [] };

/** Parses one catalogue file; problems name the file, the line and the field. */
export function parseAddon(text: string, file: string): Addon {
  const addon = parseDocumentText(text, file, ADDON);
  const expected = file
    .split('/')
    .at(-1)!
    .replace(/\.yaml$/, '');
  if (addon.name !== expected)
    throw new ValidationError([
      {
        file,
        path: '/name',
        message: `"${addon.name}" is not the file's name`,
        hint: `name it ${expected}, or rename the file`,
        severity: 'error' as const,
      },
    ]);
  return addon;
}

/** Every addon kiln ships, by name. */
export async function loadCatalogue(): Promise<Map<string, Addon>> {
  const assets = (await listAssets('addons')).filter((a) => a.path.endsWith('.yaml'));
  return new Map(
    assets.map((a) => [
      a.path
        .split('/')
        .at(-1)!
        .replace(/\.yaml$/, ''),
      parseAddon(a.data.toString('utf8'), a.path),
    ]),
  );
}

export const chartPath = (a: Addon) => `${CHART_DIR}/${a.chart.name}-${a.chart.version}.tgz`;
