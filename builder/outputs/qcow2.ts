// The `qcow2` output: disk.qcow2, the raw disk compressed. qemu-img writes clusters in order
// (no -W) with zlib, so the same disk.raw gives the same bytes.
import path from 'node:path';
import { KilnError } from '../../core/errors.ts';
import type { Converter } from './converter.ts';
import { run } from './disk/run.ts';

const QCOW2_PATH = 'disk.qcow2';

function qemuImgArgs(raw: string, qcow2: string): string[] {
  return ['convert', '-q', '-c', '-f', 'raw', '-O', 'qcow2', '-o', 'compat=1.1,cluster_size=65536,compression_type=zlib', raw, qcow2];
}

export const qcow2Converter: Converter<'qcow2'> = {
  format: 'qcow2',
  description: 'the raw disk as a compressed qcow2 image (disk.qcow2)',
  tools: ['qemu-img'],
  requires: ['raw'],
  convert: async ({ spec, stagingDir, produced }) => {
    const raw = produced.get('raw')?.[0];
    if (!raw) throw new KilnError('qcow2 needs the raw disk, which was not built');
    await run('qemu-img', qemuImgArgs(path.join(stagingDir, raw.path), path.join(stagingDir, QCOW2_PATH)), {
      sourceDateEpoch: spec.sourceDateEpoch,
    });
    return [{ format: 'qcow2', path: QCOW2_PATH }];
  },
};
