// A Helm chart repository on loopback for tests: a chart archive the test makes itself (Chart.yaml,
// values.yaml, a template) and the index.yaml `helm repo index` would write for it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

/** Writes <repo>/<name>-<version>.tgz and <repo>/index.yaml; returns the archive's sha256. */
export function makeChartRepo(repo: string, name: string, version: string, opts: { digest?: string } = {}): string {
  const src = path.join(repo, '.src', name);
  mkdirSync(path.join(src, 'templates'), { recursive: true });
  writeFileSync(path.join(src, 'Chart.yaml'), YAML.stringify({ apiVersion: 'v2', name, version, description: `kiln test chart ${name}` }));
  writeFileSync(path.join(src, 'values.yaml'), 'replicas: 1\n');
  writeFileSync(path.join(src, 'templates/configmap.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n');
  const archive = path.join(repo, `${name}-${version}.tgz`);
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-czf', archive, '-C', path.join(repo, '.src'), name]);
  const sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');
  const index = {
    apiVersion: 'v1',
    entries: { [name]: [{ apiVersion: 'v2', name, version, digest: opts.digest ?? sha256, urls: [`${name}-${version}.tgz`] }] },
  };
  writeFileSync(path.join(repo, 'index.yaml'), YAML.stringify(index));
  return sha256;
}
