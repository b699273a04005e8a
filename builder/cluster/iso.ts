// The NoCloud seed as a `cidata` ISO (what libvirt, Proxmox and QEMU attach as a CD-ROM), made
// reproducibly: fixed volume and file dates, so the same seed gives the same bytes.
import { execa } from 'execa';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ToolError } from '../../core/errors.ts';
import type { NoCloudSeed } from './nocloud.ts';

/** The dates inside every cidata.iso (2024-01-01T00:00:00Z): they carry no information, only bytes. */
const ISO_EPOCH = 1704067200;

/** cidata.iso bytes for a seed, built in a private directory under workDir (user-data holds secrets). */
export async function cidataIso(seed: NoCloudSeed, workDir: string): Promise<Buffer> {
  const dir = await mkdtemp(path.join(workDir, 'cidata-'));
  try {
    const tree = path.join(dir, 'seed');
    await mkdir(tree, { mode: 0o700 });
    for (const [name, text] of Object.entries(seed)) await writeFile(path.join(tree, name), text, { mode: 0o600 });
    const iso = path.join(dir, 'cidata.iso');
    const date = new Date(ISO_EPOCH * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
    try {
      await execa(
        'xorriso',
        [
          '-as',
          'mkisofs',
          '-quiet',
          '-o',
          iso,
          '-V',
          'cidata',
          '-J',
          '-r',
          `--modification-date=${date}00`,
          '--set_all_file_dates',
          `=${ISO_EPOCH}`,
          tree,
        ],
        {
          env: { SOURCE_DATE_EPOCH: String(ISO_EPOCH), TZ: 'UTC' },
        },
      );
    } catch (cause) {
      const e = cause as { code?: string; stderr?: string };
      throw new ToolError(
        'xorriso',
        e.code === 'ENOENT'
          ? 'not found'
          : `failed: ${String(e.stderr ?? '')
              .trim()
              .split('\n')
              .pop()}`,
        {
          hint: 'install it (apt-get install xorriso); `kiln doctor` lists the host tools',
          cause,
        },
      );
    }
    return await readFile(iso);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
