// What a Helm chart archive (.tgz) says it is, read from its own Chart.yaml (pure: bytes in).
// `helm upgrade --version` is a no-op for a local or URL chart, so the builder (when it bakes a
// chart) and firstboot (before it installs one) check the name and version here instead.
import path from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { gunzipBounded, TOO_LARGE } from '../core/compress.ts';
import { ValidationError } from '../core/errors.ts';
import { readYaml } from '../core/yaml.ts';

export interface ChartMeta {
  name: string;
  version: string;
}

/** Chart.yaml is small; a larger one is not a chart's. */
const CHART_YAML_BYTES = 1024 * 1024;

function refuse(file: string, message: string, hint: string): never {
  throw new ValidationError([{ file, path: '', message, hint, severity: 'error' }]);
}

/** helm's loader: the first path component is the chart's directory, the rest is cleaned (a//b, ./a). */
const cleaned = (name: string) => path.posix.normalize(name.replace(/^\.?\/+/, '')).replace(/\/+$/, '');

/**
 * The top directory's Chart.yaml text. helm strips each entry's first component and reads every
 * Chart.yaml it then finds at the top (the last wins), so an archive with two top directories or
 * two top Chart.yaml entries could say one chart here and install another: both are refused.
 */
async function chartYamlText(tarData: Buffer, file: string): Promise<string | undefined> {
  const extract = tar.extract();
  const tops = new Set<string>();
  const found: string[] = [];
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const name = cleaned(header.name);
      const top = name.split('/')[0]!;
      if (name !== '' && name !== '.') tops.add(top);
      const wanted = header.type === 'file' && name.split('/').length === 2 && name.endsWith('/Chart.yaml');
      if (!wanted) {
        stream.resume();
        stream.on('end', next);
        return;
      }
      if ((header.size ?? 0) > CHART_YAML_BYTES) {
        stream.destroy();
        reject(new ValidationError([{ file, path: '', message: 'Chart.yaml is over 1 MiB', hint: 'not a Helm chart', severity: 'error' }]));
        return;
      }
      const parts: Buffer[] = [];
      stream.on('data', (c: unknown) => parts.push(c as Buffer));
      stream.on('end', () => {
        found.push(Buffer.concat(parts).toString('utf8'));
        next();
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  Readable.from([tarData]).pipe(extract);
  try {
    await done;
  } catch (error) {
    if (error instanceof ValidationError) throw error;
    refuse(file, 'not a tar archive inside the gzip', 'a Helm chart is a .tgz made by `helm package`');
  }
  if (tops.size > 1)
    refuse(
      file,
      `more than one top directory (${[...tops].sort().slice(0, 4).join(', ')})`,
      'a Helm chart archive holds one directory, <name>/',
    );
  if (found.length > 1) refuse(file, 'more than one Chart.yaml at the top', 'a Helm chart archive holds one <name>/Chart.yaml');
  return found[0];
}

/** The chart's name and version; a ValidationError naming `file` when it is not a chart archive. */
export async function readChartMeta(data: Buffer, file: string): Promise<ChartMeta> {
  const inflated = gunzipBounded(data);
  if (inflated === 'not-gzip') refuse(file, 'not a gzipped archive', 'a Helm chart is a .tgz made by `helm package`');
  if (inflated === 'too-large') refuse(file, TOO_LARGE, 'a Helm chart is a few hundred kilobytes');
  const text = await chartYamlText(inflated, file);
  if (text === undefined) refuse(file, 'no Chart.yaml in the archive', 'a Helm chart archive holds <name>/Chart.yaml');
  return parseChartYaml(text, file);
}

/** A Chart.yaml's name and version (an unpacked chart directory's, or the one inside an archive). */
export function parseChartYaml(text: string, file: string): ChartMeta {
  const meta = readYaml(text, `${file}: Chart.yaml`, { failsafe: true }).value as Record<string, unknown> | null;
  const name = meta?.name;
  const version = meta?.version;
  if (typeof name !== 'string' || typeof version !== 'string')
    refuse(file, 'Chart.yaml names no chart name and version', 'a Helm chart archive holds <name>/Chart.yaml with name and version');
  return { name, version };
}

/** A message when the archive is not the chart it is taken for; undefined when it is. */
export function chartMismatch(meta: ChartMeta, name: string, version: string): string | undefined {
  if (meta.name === name && meta.version.replace(/^v/, '') === version.replace(/^v/, '')) return undefined;
  return `the archive is ${meta.name} ${meta.version}, not ${name} ${version}`;
}
