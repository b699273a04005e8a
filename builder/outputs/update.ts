// The update output, update.tar: what a node installs into its other root slot, signed with the
// spec's update.signingKey. Its parts are the rootfs as the same zstd squashfs the live outputs
// carry (read-only, compressed, reproducible) and the kernel and initrd that boot it; the manifest
// names the image, its spec hash, Kubernetes version and SOURCE_DATE_EPOCH (a node takes only
// newer bundles), and every part's size and sha256 (node/update/manifest.ts).
import path from 'node:path';
import { ValidationError } from '../../core/errors.ts';
import type { Problem } from '../../core/problem.ts';
import { KILN_VERSION } from '../../core/version.ts';
import { writeBundle } from '../update/bundle.ts';
import { signingKey } from '../update/keys.ts';
import type { Artifact, Converter } from './converter.ts';
import { liveKernel, liveSquashfs } from './live.ts';

export const UPDATE_BUNDLE = 'update.tar';

export const updateConverter: Converter<'update'> = {
  format: 'update',
  description: 'signed update bundle (update.tar): root squashfs, kernel and initrd for a node to install into its other slot',
  tools: ['mksquashfs'],
  validate: (spec) => {
    const problems: Problem[] = [];
    if (!/^v\d+\.\d+\.\d+$/.test(spec.kubernetes.version))
      problems.push({
        file: spec.file,
        path: '/kubernetes/version',
        message: `the update output needs a release version of Kubernetes, not ${spec.kubernetes.version}`,
        hint: 'a node checks the bundle against its cluster by vMAJOR.MINOR.PATCH (the skew policy)',
        severity: 'error',
      });
    if (spec.update.signingKey === undefined)
      problems.push({
        file: spec.file,
        path: '/update/signingKey',
        message: 'the update output needs a key to sign it with',
        hint: 'run kiln keygen --out keys, then set update.signingKey: keys/update.key in the spec',
        severity: 'error',
      });
    if (problems.length) throw new ValidationError(problems);
  },
  convert: async (ctx): Promise<Artifact[]> => {
    const key = await signingKey(ctx.spec);
    const squashfs = await liveSquashfs(ctx);
    const kernel = await liveKernel(ctx);
    const manifest = await writeBundle(
      path.join(ctx.stagingDir, UPDATE_BUNDLE),
      {
        kiln: KILN_VERSION,
        image: ctx.spec.name,
        specHash: ctx.spec.hash,
        kubernetes: ctx.spec.kubernetes.version,
        sourceDateEpoch: ctx.spec.sourceDateEpoch,
      },
      [
        { name: 'rootfs.squashfs', role: 'root', file: squashfs },
        { name: 'vmlinuz', role: 'kernel', file: kernel.vmlinuz },
        { name: 'initrd.img', role: 'initrd', file: kernel.initrd },
      ],
      key!,
    );
    const mib = manifest.parts.reduce((n, p) => n + p.bytes, 0) / 2 ** 20;
    ctx.log(`${UPDATE_BUNDLE}: ${mib.toFixed(0)} MiB in ${manifest.parts.length} parts, signed`);
    return [{ format: 'update', path: UPDATE_BUNDLE }];
  },
};
