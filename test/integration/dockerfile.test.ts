// The Dockerfile builds a bookworm image with dist/kiln and the host tools.
//
// No container registry is reachable here, so the base image is made locally: mmdebstrap writes a
// minimal bookworm tarball (cached in .cache/test/), `podman import` turns it into
// localhost/kiln-test-base, and the Dockerfile's BASE build arg points at it. apt inside the
// build still uses the Debian mirror. `podman run` is refused in this sandbox, so the built image
// is checked by mounting it and chrooting into it.
//
// KILN_TEST_HOST_DEPS="pkg ..." installs only those packages (faster); default: the full set.
import { execa } from 'execa';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findOnPath } from '../../builder/host/tools.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const podman = await findOnPath('podman');
const ci = process.env.CI === 'true';
// Skip only when podman is absent and this is not CI; in CI a missing podman is a failure.
const skip = !podman && !ci;

const BASE_TAG = 'localhost/kiln-test-base:latest';
const IMAGE_TAG = 'localhost/kiln:test';
const baseTar = path.join(repo, '.cache/test/debian-bookworm-apt-base.tar');
const smallerSet = process.env.KILN_TEST_HOST_DEPS?.trim();

const timings: Record<string, number> = {};
let mountpoint: string | undefined;
let imageSize: number | undefined;
const created: string[] = [];

interface Ran {
  status: number | undefined;
  stdout: string;
  stderr: string;
}

// Asynchronous on purpose: podman build takes over a minute, and a worker whose event loop is
// blocked that long misses vitest's 60 s RPC deadline ("Timeout calling onTaskUpdate"), failing the run.
async function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Ran> {
  const r = await execa(cmd, args, {
    cwd: opts.cwd ?? repo,
    env: opts.env ?? process.env,
    extendEnv: false,
    reject: false,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
}

async function must(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<string> {
  const r = await run(cmd, args, opts);
  if (r.status !== 0) {
    const tail = (s: string) => s.split('\n').slice(-40).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} failed (status ${r.status}):\n${tail(r.stdout)}\n${tail(r.stderr)}`);
  }
  return r.stdout;
}

async function timed<T>(name: string, fn: () => T | Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await fn();
  } finally {
    timings[name] = (Date.now() - started) / 1000;
  }
}

describe.skipIf(skip)(
  skip ? 'Dockerfile (skipped: podman is not installed — apt-get install podman, or run scripts/host-deps)' : 'Dockerfile',
  () => {
    beforeAll(async () => {
      if (!podman) throw new Error('podman is not installed (CI=true, so this fails instead of skipping): run scripts/host-deps');

      await timed('base tarball (mmdebstrap)', async () => {
        if (existsSync(baseTar)) return;
        if (!(await findOnPath('mmdebstrap'))) throw new Error('mmdebstrap is not installed: run scripts/host-deps');
        await mkdir(path.dirname(baseTar), { recursive: true });
        // Written under a temporary name and renamed, so an interrupted run leaves no half tarball.
        const tmp = path.join(path.dirname(baseTar), `.tmp-${process.pid}-${path.basename(baseTar)}`);
        try {
          await must('mmdebstrap', ['--variant=apt', '--format=tar', '--quiet', 'bookworm', tmp]);
          await rename(tmp, baseTar);
        } finally {
          await rm(tmp, { recursive: true, force: true });
        }
      });
      await timed('podman import', async () => {
        created.push(BASE_TAG);
        await must('podman', ['import', baseTar, BASE_TAG]);
      });
      await timed('npm run dist', async () => {
        if (!existsSync(path.join(repo, 'dist/kiln')) || !existsSync(path.join(repo, 'dist/kiln-firstboot')))
          await must(process.execPath, ['scripts/dist.mjs']);
      });
      await timed('podman build', async () => {
        const args = ['build', '--isolation', 'chroot', '--pull=never', '--layers=false', '--build-arg', `BASE=${BASE_TAG}`];
        if (smallerSet) args.push('--build-arg', `HOST_DEPS=${smallerSet}`);
        created.push(IMAGE_TAG);
        await must('podman', [...args, '-t', IMAGE_TAG, '.']);
      });
      imageSize = Number((await must('podman', ['image', 'inspect', '--format', '{{.Size}}', IMAGE_TAG])).trim());
      mountpoint = (await must('podman', ['image', 'mount', IMAGE_TAG])).trim();
    });

    afterAll(async () => {
      if (mountpoint) await run('podman', ['image', 'unmount', IMAGE_TAG]);
      for (const tag of created.reverse()) await run('podman', ['rmi', '--force', tag]);
      const report = Object.entries(timings).map(([k, v]) => `  ${k}: ${v.toFixed(1)}s`);
      if (imageSize) report.push(`  image size: ${(imageSize / 1048576).toFixed(0)} MiB`);
      console.log(`Dockerfile test timings${smallerSet ? ` (HOST_DEPS=${smallerSet})` : ' (full host-deps set)'}:\n${report.join('\n')}`);
    });

    function inImage(...args: string[]): Promise<Ran> {
      return run('chroot', [mountpoint!, ...args], {
        cwd: '/',
        env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', LANG: 'C.UTF-8' },
      });
    }

    it('has kiln as the entrypoint', async () => {
      const [config] = JSON.parse(await must('podman', ['image', 'inspect', IMAGE_TAG])) as Array<{ Config: { Entrypoint?: string[] } }>;
      expect(config!.Config.Entrypoint).toEqual(['kiln']);
    });

    it('carries kiln-firstboot beside kiln (for the images kiln builds)', async () => {
      const r = await inImage('/usr/local/bin/kiln-firstboot', '--version');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^kiln-firstboot \d+\.\d+\.\d+/);
    });

    it('runs /usr/local/bin/kiln', async () => {
      const r = await inImage('/usr/local/bin/kiln', '--version');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^kiln \d+\.\d+\.\d+/);
      expect(r.stderr).toBe('');
    });

    it('has the host tools (mmdebstrap)', async () => {
      const r = await inImage('mmdebstrap', '--version');
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/^mmdebstrap \d/);
    });

    it.skipIf(Boolean(smallerSet))('has every host tool kiln doctor checks (full host-deps set)', async () => {
      const r = await inImage('/usr/local/bin/kiln', 'doctor', '--json');
      const report = JSON.parse(r.stdout) as { ok: boolean; tools: Array<{ name: string; found?: string }> };
      expect(report.tools.filter((t) => !t.found).map((t) => t.name)).toEqual([]);
      expect(r.status).toBe(0);
    });

    it('cleaned the apt lists', () => {
      expect(readdirSync(path.join(mountpoint!, 'var/lib/apt/lists')).filter((f) => f !== 'partial' && f !== 'lock')).toEqual([]);
    });
  },
);
