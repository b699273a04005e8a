// Kubernetes' version skew policy as it bounds an image update: a node takes a bundle only when
// the bundle's kubelet (the image's Kubernetes version) stays within what the cluster's control
// plane supports. Control planes move one minor at a time (kubeadm upgrades one minor per step and
// never downgrades); a worker's kubelet is never newer than the oldest apiserver and, here, at most
// one minor older (kiln keeps nodes one step apart, tighter than upstream's three).
import { KilnError } from '../../core/errors.ts';

export type NodeRole = 'control-plane' | 'worker';

interface Version {
  major: number;
  minor: number;
  text: string;
}

function parse(text: string, what: string): Version {
  const m = /^v(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) throw new KilnError(`${what} "${text}" is not a Kubernetes version`, { hint: 'a version such as v1.31.4' });
  return { major: Number(m[1]), minor: Number(m[2]), text };
}

export interface SkewInput {
  /** The bundle's Kubernetes version (its manifest's `kubernetes`). */
  bundle: string;
  /** The oldest kube-apiserver among the control planes (mid-upgrade, the ones not yet updated). */
  controlPlane: string;
  role: NodeRole;
}

/** Why this update would break the skew policy, or undefined when it may go ahead. */
export function skewProblem(input: SkewInput): { message: string; hint: string } | undefined {
  const bundle = parse(input.bundle, "the bundle's Kubernetes version");
  const cp = parse(input.controlPlane, "the control plane's Kubernetes version");
  const step = `${bundle.text} on a cluster whose control plane runs ${cp.text}`;
  if (bundle.major !== cp.major)
    return { message: `${step}: a different major version`, hint: 'Kubernetes has no supported path across major versions' };
  const ahead = bundle.minor - cp.minor;
  if (input.role === 'control-plane') {
    if (ahead > 1)
      return {
        message: `${step}: ${ahead} minor versions ahead`,
        hint: `control planes upgrade one minor version at a time: update to a v${cp.major}.${cp.minor + 1} bundle first`,
      };
    if (ahead < 0)
      return {
        message: `${step}: a downgrade of the control plane`,
        hint: 'kubeadm does not downgrade a control plane (etcd and the API objects move forward only); roll back to the previous slot instead',
      };
    return undefined;
  }
  if (ahead > 0)
    return {
      message: `${step}: the kubelet would be newer than the apiserver`,
      hint: 'update every control plane first (kiln cluster update does, in that order)',
    };
  if (ahead < -1)
    return {
      message: `${step}: ${-ahead} minor versions behind`,
      hint: `a node stays within one minor version of its control plane: use a v${cp.major}.${cp.minor} or v${cp.major}.${cp.minor - 1} bundle`,
    };
  return undefined;
}
