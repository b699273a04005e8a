// A real containerd daemon of its own (root, state and socket in a temp directory), for tests
// that import and pull images the way a node does.
import { execa, type ResultPromise } from 'execa';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface Containerd {
  address: string;
  ctr(args: string[]): Promise<string>;
  /** `ctr -n NS images ls` as name → manifest digest (the CRI's sha256:<config> id entries left out). */
  images(namespace: string): Promise<Map<string, string>>;
  stop(): Promise<void>;
}

export async function startContainerd(dir: string): Promise<Containerd> {
  mkdirSync(dir, { recursive: true });
  const address = path.join(dir, 'containerd.sock');
  const config = path.join(dir, 'config.toml');
  // no CRI plugin: these tests use the content store and image service only
  writeFileSync(
    config,
    `version = 2\nroot = "${dir}/root"\nstate = "${dir}/state"\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n[grpc]\n  address = "${address}"\n`,
  );
  const child: ResultPromise = execa('containerd', ['--config', config], { reject: false, stdio: 'ignore' });
  const ctr = async (args: string[]) => (await execa('ctr', ['--address', address, ...args])).stdout;
  for (let i = 0; i < 100 && !existsSync(address); i++) await new Promise((r) => setTimeout(r, 100));
  try {
    await ctr(['version']);
  } catch (error) {
    child.kill();
    throw error;
  }
  const images = async (namespace: string) =>
    new Map(
      (await ctr(['-n', namespace, 'images', 'ls']))
        .split('\n')
        .slice(1)
        .map((l) => l.split(/\s+/))
        .filter(([ref]) => ref && !ref.startsWith('sha256:'))
        .map(([ref, , digest]) => [ref!, digest!] as [string, string]),
    );
  return { address, ctr, images, stop: async () => void (child.kill(), await child) };
}
