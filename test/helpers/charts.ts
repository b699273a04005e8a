// A Helm chart repository on loopback for tests: chart archives the test makes itself (Chart.yaml,
// values.yaml, templates) and the index.yaml `helm repo index` would write for them.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';

export interface TestChart {
  /** The index's digest instead of the archive's (a repository that lies). */
  digest?: string;
  /** values.yaml text. */
  values?: string;
  /** Template files by name under templates/ (default: one ConfigMap). */
  templates?: Record<string, string>;
  /** What Chart.yaml says, when it is to differ from the name and version the index gives. */
  chartYaml?: { name?: string; version?: string; kubeVersion?: string };
}

/** A workload running `image` (e.g. `{{ .Values.image }}`), for charts whose images a test derives. */
export const workload = (kind: 'Deployment' | 'DaemonSet', name: string, image: string) =>
  `apiVersion: apps/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\n  namespace: {{ .Release.Namespace }}\nspec:\n  selector: { matchLabels: { app: ${name} } }\n  template:\n    metadata: { labels: { app: ${name} } }\n    spec:\n      containers:\n        - name: ${name}\n          image: ${image}\n`;

/** Writes <repo>/<name>-<version>.tgz and <repo>/index.yaml; returns the archive's sha256. */
export function makeChartRepo(repo: string, name: string, version: string, opts: TestChart = {}): string {
  const src = path.join(repo, '.src', name);
  rmSync(src, { recursive: true, force: true });
  mkdirSync(path.join(src, 'templates'), { recursive: true });
  const meta = { apiVersion: 'v2', name, version, description: `kiln test chart ${name}`, ...opts.chartYaml };
  writeFileSync(path.join(src, 'Chart.yaml'), YAML.stringify(meta));
  writeFileSync(path.join(src, 'values.yaml'), opts.values ?? 'replicas: 1\n');
  const templates = opts.templates ?? { 'configmap.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n' };
  for (const [file, text] of Object.entries(templates)) writeFileSync(path.join(src, 'templates', file), text);
  const archive = path.join(repo, `${name}-${version}.tgz`);
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '-czf', archive, '-C', path.join(repo, '.src'), name]);
  const sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');
  // several charts may share a repository: add to its index
  const indexFile = path.join(repo, 'index.yaml');
  let index: { apiVersion: string; entries: Record<string, unknown[]> } = { apiVersion: 'v1', entries: {} };
  try {
    index = YAML.parse(readFileSync(indexFile, 'utf8'));
  } catch {
    // a new repository
  }
  index.entries[name] = [{ apiVersion: 'v2', name, version, digest: opts.digest ?? sha256, urls: [`${name}-${version}.tgz`] }];
  writeFileSync(indexFile, YAML.stringify(index));
  return sha256;
}
