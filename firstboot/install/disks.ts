// The facts selectDisk chooses from: lsblk's JSON (whole disks, their partitions' file systems and
// mount points) and the /dev/disk/by-id and by-path links. Parsing is pure (diskFacts); reading
// the machine is apart (readDisks).
import { readdir, realpath } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { KilnError } from '../../core/errors.ts';
import type { DiskFacts } from './select.ts';

/** The columns asked for; lsblk ≥ 2.37 (bookworm has 2.38) prints RM and RO as booleans. */
export const LSBLK_ARGS = ['--json', '--bytes', '--output', 'NAME,PATH,TYPE,SIZE,RM,RO,SERIAL,MODEL,TRAN,PTTYPE,FSTYPE,LABEL,MOUNTPOINTS'];

interface LsblkDevice {
  path?: string;
  type?: string;
  size?: number | string;
  rm?: boolean | string;
  ro?: boolean | string;
  serial?: string | null;
  model?: string | null;
  tran?: string | null;
  pttype?: string | null;
  fstype?: string | null;
  label?: string | null;
  mountpoints?: (string | null)[];
  children?: LsblkDevice[];
}

const flag = (v: boolean | string | undefined) => v === true || v === '1';
const text = (v: string | null | undefined) => (v ? v.trim() || undefined : undefined);

/** Whole disks from `lsblk` JSON, with the by-id / by-path names that resolve to each (link name → device path). */
export function diskFacts(lsblkJson: string, links: { byId: Map<string, string>; byPath: Map<string, string> }): DiskFacts[] {
  let parsed: { blockdevices?: LsblkDevice[] };
  try {
    parsed = JSON.parse(lsblkJson) as { blockdevices?: LsblkDevice[] };
  } catch (cause) {
    throw new KilnError('lsblk printed no JSON', { cause, hint: 'util-linux 2.37 or later is needed (lsblk --json)' });
  }
  const namesOf = (map: Map<string, string>, dev: string) =>
    [...map]
      .filter(([, target]) => target === dev)
      .map(([name]) => name)
      .sort();
  return (parsed.blockdevices ?? [])
    .filter((d) => d.type === 'disk' && d.path)
    .map((d) => {
      const all = [
        d,
        ...(d.children ?? []).flatMap(function walk(c: LsblkDevice): LsblkDevice[] {
          return [c, ...(c.children ?? []).flatMap(walk)];
        }),
      ];
      const serial = text(d.serial);
      const model = text(d.model);
      const transport = text(d.tran);
      const partitionTable = text(d.pttype);
      return {
        path: d.path!,
        size: Number(d.size ?? 0),
        removable: flag(d.rm),
        readOnly: flag(d.ro),
        ...(serial ? { serial } : {}),
        ...(model ? { model } : {}),
        ...(transport ? { transport } : {}),
        ...(partitionTable ? { partitionTable } : {}),
        filesystems: all.flatMap((p) =>
          text(p.fstype) ? [{ type: text(p.fstype)!, ...(text(p.label) ? { label: text(p.label)! } : {}) }] : [],
        ),
        mounts: all.flatMap((p) => (p.mountpoints ?? []).filter((m): m is string => typeof m === 'string' && m !== '')),
        byId: namesOf(links.byId, d.path!),
        byPath: namesOf(links.byPath, d.path!),
      };
    });
}

async function links(dir: string): Promise<Map<string, string>> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out = new Map<string, string>();
  for (const name of names) {
    const target = await realpath(path.join(dir, name)).catch(() => undefined);
    if (target) out.set(name, target);
  }
  return out;
}

/** This machine's disks (udev settled first, so the by-id links exist). */
export async function readDisks(): Promise<DiskFacts[]> {
  await execa('udevadm', ['settle', '--timeout=30'], { reject: false });
  const r = await execa('lsblk', LSBLK_ARGS, { reject: false });
  if (r.exitCode !== 0) throw new KilnError(`lsblk failed: ${r.stderr.trim()}`, { hint: 'is util-linux installed in the image?' });
  return diskFacts(r.stdout, { byId: await links('/dev/disk/by-id'), byPath: await links('/dev/disk/by-path') });
}
