// TEST ONLY. `kubeadm config images list`: the images kubeadm pulls for a version, as kubeadm
// 1.31 names them (constants.go and images.go): the control-plane components at the version,
// etcd, CoreDNS and pause at the versions that release pins.
import { str } from '../flags.ts';
import { Refusal, STANDIN, type Ctx } from '../lib/context.ts';
import { parseCommand } from './flags.ts';

/** What each minor release pins (kubeadm's constants: DefaultEtcdVersion, CoreDNSVersion, PauseVersion). */
const PINNED: Record<string, { etcd: string; coredns: string; pause: string }> = {
  '1.31': { etcd: '3.5.15-0', coredns: 'v1.11.3', pause: '3.10' },
};

const IMAGES_LIST_FLAGS = {
  'allow-missing-template-keys': { type: 'bool' },
  config: { type: 'string' },
  'feature-gates': { type: 'string' },
  'image-repository': { type: 'string' },
  'kubernetes-version': { type: 'string' },
  output: { type: 'string', short: 'o' },
  'show-managed-fields': { type: 'bool' },
} as const;

const DEFAULT_REPOSITORY = 'registry.k8s.io';

export function config(args: string[], ctx: Ctx): number {
  const [sub, verb, ...rest] = args;
  if (sub !== 'images' || verb !== 'list')
    throw new Refusal(
      `${STANDIN} "kubeadm config ${[sub, verb].filter(Boolean).join(' ')}" is not simulated by the test stand-in (only "config images list" is)`,
    );
  const p = parseCommand(rest, IMAGES_LIST_FLAGS);
  if (p.positional.length > 0) throw new Refusal(`unknown command "${p.positional[0]}" for "kubeadm config images list"`);
  if (p.values.has('config'))
    throw new Refusal(`${STANDIN} --config is not simulated for "config images list"; give --kubernetes-version and --image-repository`);
  const version = str(p, 'kubernetes-version');
  // without it, kubeadm asks dl.k8s.io for stable-1: a build must never depend on that
  if (!version)
    throw new Refusal(`${STANDIN} --kubernetes-version is required here: kubeadm would fetch https://dl.k8s.io/release/stable-1.txt`);
  const m = /^v?(1\.[0-9]+)\.[0-9]+$/.exec(version);
  if (!m) throw new Refusal(`couldn't parse Kubernetes version "${version}"`);
  const pinned = PINNED[m[1]!];
  if (!pinned)
    throw new Refusal(`${STANDIN} the stand-in knows the images of Kubernetes ${Object.keys(PINNED).join(', ')} only, not ${version}`);
  const output = str(p, 'output') ?? 'text';
  if (output !== 'text') throw new Refusal(`${STANDIN} --output ${output} is not simulated (text only)`);
  const repo = str(p, 'image-repository') || DEFAULT_REPOSITORY;
  const v = version.startsWith('v') ? version : `v${version}`;
  // images.go: the official CoreDNS image moved to <registry>/coredns/coredns; a custom repository keeps <repo>/coredns
  const dns = repo === DEFAULT_REPOSITORY ? `${repo}/coredns/coredns` : `${repo}/coredns`;
  const images = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'].map((c) => `${repo}/${c}:${v}`);
  images.push(`${dns}:${pinned.coredns}`, `${repo}/pause:${pinned.pause}`, `${repo}/etcd:${pinned.etcd}`);
  ctx.out(`${images.join('\n')}\n`);
  return 0;
}
