// TEST ONLY. Builds the stand-ins into one executable (a Node single-executable application, made
// by scripts/dist.mjs exactly like dist/kiln) and lays it out as an overlay directory for test
// images: usr/local/bin/kiln-test-standins plus kubeadm, helm and kubectl symlinks to it, and the
// unit of the stand-in API server (network mode). The executable is cached by a hash of everything
// it is built from, so repeated runs reuse it.
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, mkdir, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { lock } from '../../core/fs.ts';
import { repoRoot, testCacheDir } from '../helpers/build.ts';
import { upstreamDir } from '../helpers/upstream.ts';
import { APISERVER_UNIT } from './lib/program.ts';

export const STANDINS_PROGRAM = 'kiln-test-standins';
export const STANDIN_TOOLS = ['kubeadm', 'helm', 'kubectl'] as const;

/** The stand-in API server's unit: `kubeadm init` (and control-plane joins) start it; enabled, so a reboot starts it again. */
export const APISERVER_UNIT_TEXT = `# TEST ONLY - NOT FOR PRODUCTION IMAGES (kiln's test/standins/build.ts)
[Unit]
Description=kiln TEST ONLY stand-in apiserver (kiln-test-standins; never in a user's image)
# only where kubeadm init or a control-plane join signed this node's serving certificate
ConditionPathExists=/etc/kubernetes/pki/apiserver.crt

[Service]
ExecStart=/usr/local/bin/kiln-test-standins apiserver
Restart=on-failure
RestartSec=2s

[Install]
WantedBy=multi-user.target
`;

const README = `TEST ONLY - NOT FOR PRODUCTION IMAGES

usr/local/bin/kiln-test-standins (and the kubeadm, helm and kubectl symlinks to it) are
stand-ins kiln's tests use because the real tools cannot be downloaded where the tests run.
They check their arguments and config files as strictly as the real tools, simulate the files
later steps need under $KILN_STANDIN_ROOT (default /), and record every call, secrets included,
in $KILN_STANDIN_ROOT/var/lib/kiln-test/standins.jsonl. They do not run Kubernetes.

At / (unless /etc/kiln-test/standins/cluster-ca.crt simulates the cluster), kubeadm init with a
real cluster CA signs /etc/kubernetes/pki/apiserver.crt and starts etc/systemd/system/${APISERVER_UNIT},
a stand-in API server (\`kiln-test-standins apiserver\`) on the kube-apiserver's port; kubeadm join
on the other nodes discovers it over the network (token, CA pin, certificate key) and registers
its Node there. Its state, bootstrap tokens and keys included, is the 0600 file
/var/lib/kiln-test/apiserver.json. The unit (enabled in multi-user.target):

${APISERVER_UNIT_TEXT}
Built by test/standins/build.ts; only test specs include this overlay.
`;

/** Everything the executable is built from: its sources, the upstream field lists, the build script and lock file, and this node. */
async function sourceKey(): Promise<string> {
  const hash = createHash('sha256').update(process.version).update('\0');
  const dir = path.join(repoRoot, 'test/standins');
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && e.name !== 'build.ts' && e.name !== 'testing.ts')
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
  for (const f of files)
    hash
      .update(path.relative(repoRoot, f))
      .update('\0')
      .update(await readFile(f));
  for (const f of ['kubeadm-v1beta4.json', 'kubelet-v1beta1.json', 'kubeproxy-v1alpha1.json'])
    hash
      .update(f)
      .update('\0')
      .update(await readFile(path.join(upstreamDir, 'kubernetes', f)));
  for (const f of ['package.json', 'package-lock.json', 'scripts/dist.mjs'])
    hash
      .update(f)
      .update('\0')
      .update(await readFile(path.join(repoRoot, f)).catch(() => Buffer.alloc(0)));
  return hash.digest('hex');
}

/** The cached executable for the current sources, built when missing. */
export async function standinsExecutable(log: (line: string) => void = () => {}): Promise<string> {
  const key = (await sourceKey()).slice(0, 16);
  const dir = path.join(testCacheDir, 'standins');
  const exe = path.join(dir, `${STANDINS_PROGRAM}-${key}`);
  const ready = () =>
    stat(exe).then(
      (s) => s.isFile() && s.size > 0,
      () => false,
    );
  if (!(await ready())) {
    await mkdir(dir, { recursive: true });
    const release = await lock(`${exe}.lock`, log);
    try {
      if (!(await ready())) {
        log(`building ${STANDINS_PROGRAM} (${key})`);
        const r = await execa(
          process.execPath,
          [path.join(repoRoot, 'scripts/dist.mjs'), '--entry', 'test/standins/main.ts', '--name', STANDINS_PROGRAM, '--out', exe],
          { cwd: repoRoot, reject: false, all: true },
        );
        if (r.exitCode !== 0) throw new Error(`building ${STANDINS_PROGRAM} failed (exit ${r.exitCode}):\n${r.all ?? ''}`);
      }
    } finally {
      await release();
    }
    // older builds of other sources: drop the ones unused for a day
    for (const name of await readdir(dir)) {
      const file = path.join(dir, name);
      if (name.startsWith(`${STANDINS_PROGRAM}-`) && file !== exe && !name.endsWith('.lock')) {
        const s = await stat(file).catch(() => undefined);
        if (s && Date.now() - s.mtimeMs > 24 * 3600_000) await rm(file, { force: true });
      }
    }
  }
  const now = new Date();
  await utimes(exe, now, now).catch(() => {});
  return exe;
}

/** etc/systemd/system/kiln-test-apiserver.service under `dir`, enabled by its multi-user.target.wants link. */
export async function writeApiserverUnit(dir: string): Promise<void> {
  const units = path.join(dir, 'etc/systemd/system');
  await mkdir(path.join(units, 'multi-user.target.wants'), { recursive: true });
  await writeFile(path.join(units, APISERVER_UNIT), APISERVER_UNIT_TEXT, { mode: 0o644 });
  const wants = path.join(units, 'multi-user.target.wants', APISERVER_UNIT);
  await rm(wants, { force: true });
  await symlink(`/etc/systemd/system/${APISERVER_UNIT}`, wants);
}

/**
 * Writes the stand-in overlay under `dir`: usr/local/bin/kiln-test-standins, the kubeadm, helm and
 * kubectl symlinks to it, the stand-in API server's unit, and a README saying it is for tests only.
 */
export async function buildStandinsOverlay(dir: string): Promise<void> {
  const exe = await standinsExecutable();
  const bin = path.join(dir, 'usr/local/bin');
  await mkdir(bin, { recursive: true });
  const target = path.join(bin, STANDINS_PROGRAM);
  await rm(target, { force: true });
  // a reflink where the filesystem has them, a copy otherwise: never a hard link into the cache
  await copyFile(exe, target, constants.COPYFILE_FICLONE);
  await chmod(target, 0o755);
  for (const tool of STANDIN_TOOLS) {
    const link = path.join(bin, tool);
    await rm(link, { force: true });
    await symlink(STANDINS_PROGRAM, link);
  }
  await writeApiserverUnit(dir);
  await writeFile(path.join(dir, 'README'), README, { mode: 0o644 });
}
