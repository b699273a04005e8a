// The control-plane images of the Kubernetes version, asked of the verified kubeadm itself
// (`kubeadm config images list`): kiln keeps no table of etcd, CoreDNS and pause versions that
// could drift from what the kubeadm in the image will look for.
import { KilnError } from '../../core/errors.ts';
import type { InstalledBinary } from '../binaries/resolve.ts';
import { runVerifiedBinary } from '../binaries/run.ts';
import type { ResolvedSpec } from '../spec/defaults.ts';
import { parseImageRef } from './refs.ts';

const KUBEADM_REPOSITORY = 'registry.k8s.io';

export async function kubeadmImages(spec: ResolvedSpec, binaries: InstalledBinary[]): Promise<string[]> {
  const at = '/images/kubernetes';
  const kubeadm = binaries.find((b) => b.path === '/usr/bin/kubeadm');
  if (!kubeadm)
    throw new KilnError('no verified kubeadm to ask for the control-plane images', {
      file: spec.file,
      path: at,
      hint: 'set kubernetes.source and include kubeadm in kubernetes.components',
      exitCode: 2,
    });
  const r = await runVerifiedBinary(
    kubeadm,
    () => ['config', 'images', 'list', '--kubernetes-version', spec.kubernetes.version, '--image-repository', KUBEADM_REPOSITORY],
    { timeoutMs: 120_000, maxBytes: 2 ** 20 },
  );
  if (r.exitCode !== 0)
    throw new KilnError(
      `kubeadm config images list failed: ${r.startError ?? (r.timedOut ? 'no answer in 2 minutes' : (r.stderr || r.stdout).trim().split('\n')[0])}`,
      {
        file: spec.file,
        path: at,
        hint: 'the kubeadm from kubernetes.source must run on this build host (linux/amd64)',
        exitCode: 2,
      },
    );
  const refs = r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const bad = refs.find((ref) => !parseImageRef(ref));
  if (refs.length === 0 || bad !== undefined)
    throw new KilnError(`kubeadm config images list printed ${bad === undefined ? 'nothing' : `"${bad}", not an image reference`}`, {
      file: spec.file,
      path: at,
      hint: 'is kubernetes.source a real kubeadm?',
      exitCode: 2,
    });
  return refs;
}

/** Where to pull `ref` from when the spec names a mirror of registry.k8s.io (same paths below it). */
export function pullSource(ref: string, pullFrom: string | undefined): string {
  return pullFrom && ref.startsWith(`${KUBEADM_REPOSITORY}/`) ? `${pullFrom}${ref.slice(KUBEADM_REPOSITORY.length)}` : ref;
}
