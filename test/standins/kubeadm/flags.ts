// TEST ONLY. kubeadm's command line: the flags of each command (as its --help lists them), the
// phases --skip-phases may name, and the rules kubeadm applies to them.
import { bool, list, parseFlags, type FlagSpecs, type ParsedFlags } from '../flags.ts';
import { Refusal } from '../lib/context.ts';
import type { InitConfiguration, JoinConfiguration } from './config.ts';
import { validateIgnorePreflight } from './validate.ts';

export const GLOBAL: FlagSpecs = {
  v: { type: 'int32', short: 'v' },
  'log-file': { type: 'string' },
  'log-file-max-size': { type: 'int' },
  'one-output': { type: 'bool' },
  'skip-headers': { type: 'bool' },
  'skip-log-headers': { type: 'bool' },
  'add-dir-header': { type: 'bool' },
  rootfs: { type: 'string' },
  help: { type: 'bool', short: 'h' },
};

export const INIT_FLAGS: FlagSpecs = {
  'apiserver-advertise-address': { type: 'string' },
  'apiserver-bind-port': { type: 'int32' },
  'apiserver-cert-extra-sans': { type: 'stringSlice' },
  'cert-dir': { type: 'string' },
  'certificate-key': { type: 'string' },
  config: { type: 'string' },
  'control-plane-endpoint': { type: 'string' },
  'cri-socket': { type: 'string' },
  'dry-run': { type: 'bool' },
  'feature-gates': { type: 'string' },
  'ignore-preflight-errors': { type: 'stringSlice' },
  'image-repository': { type: 'string' },
  'kubernetes-version': { type: 'string' },
  'node-name': { type: 'string' },
  patches: { type: 'string' },
  'pod-network-cidr': { type: 'string' },
  'service-cidr': { type: 'string' },
  'service-dns-domain': { type: 'string' },
  'skip-certificate-key-print': { type: 'bool' },
  'skip-phases': { type: 'stringSlice' },
  'skip-token-print': { type: 'bool' },
  token: { type: 'string' },
  'token-ttl': { type: 'duration' },
  'upload-certs': { type: 'bool' },
};

export const JOIN_FLAGS: FlagSpecs = {
  'apiserver-advertise-address': { type: 'string' },
  'apiserver-bind-port': { type: 'int32' },
  'certificate-key': { type: 'string' },
  config: { type: 'string' },
  'control-plane': { type: 'bool' },
  'cri-socket': { type: 'string' },
  'discovery-file': { type: 'string' },
  'discovery-token': { type: 'string' },
  'discovery-token-ca-cert-hash': { type: 'stringSlice' },
  'discovery-token-unsafe-skip-ca-verification': { type: 'bool' },
  'dry-run': { type: 'bool' },
  'ignore-preflight-errors': { type: 'stringSlice' },
  'node-name': { type: 'string' },
  patches: { type: 'string' },
  'skip-phases': { type: 'stringSlice' },
  'tls-bootstrap-token': { type: 'string' },
  token: { type: 'string' },
};

export const RESET_FLAGS: FlagSpecs = {
  'cert-dir': { type: 'string' },
  'cleanup-tmp-dir': { type: 'bool' },
  config: { type: 'string' },
  'cri-socket': { type: 'string' },
  'dry-run': { type: 'bool' },
  force: { type: 'bool', short: 'f' },
  'ignore-preflight-errors': { type: 'stringSlice' },
  kubeconfig: { type: 'string' },
  'skip-phases': { type: 'stringSlice' },
};

/** Flags kubeadm lets through beside --config (validation.isAllowedFlag); "skip-*" too. */
const ALLOWED_WITH_CONFIG = new Set([
  'config',
  'ignore-preflight-errors',
  'dry-run',
  'kubeconfig',
  'node-name',
  'kubeconfig-dir',
  'upload-certs',
  'print-join-command',
  'rootfs',
  'v',
  'log-file',
]);

export const INIT_PHASES = [
  'preflight',
  ...[
    '',
    '/all',
    '/ca',
    '/apiserver',
    '/apiserver-kubelet-client',
    '/front-proxy-ca',
    '/front-proxy-client',
    '/etcd-ca',
    '/etcd-server',
    '/etcd-peer',
    '/etcd-healthcheck-client',
    '/apiserver-etcd-client',
    '/sa',
  ].map((s) => `certs${s}`),
  ...['', '/all', '/admin', '/super-admin', '/kubelet', '/controller-manager', '/scheduler'].map((s) => `kubeconfig${s}`),
  'etcd',
  'etcd/local',
  ...['', '/all', '/apiserver', '/controller-manager', '/scheduler'].map((s) => `control-plane${s}`),
  'kubelet-start',
  'wait-control-plane',
  ...['', '/all', '/kubeadm', '/kubelet'].map((s) => `upload-config${s}`),
  'upload-certs',
  'mark-control-plane',
  'bootstrap-token',
  ...['', '/all', '/enable-client-cert-rotation', '/experimental-cert-rotation'].map((s) => `kubelet-finalize${s}`),
  ...['', '/all', '/coredns', '/kube-proxy'].map((s) => `addon${s}`),
  'show-join-command',
];

export const JOIN_PHASES = [
  'preflight',
  ...['', '/all', '/download-certs', '/certs', '/kubeconfig', '/control-plane'].map((s) => `control-plane-prepare${s}`),
  'kubelet-start',
  'etcd-join',
  'kubelet-wait-bootstrap',
  ...['', '/all', '/etcd', '/update-status', '/mark-control-plane'].map((s) => `control-plane-join${s}`),
  'wait-control-plane',
];

/** A kubeadm command's flags, with the global ones; kubeadm normalises `_` to `-` in flag names. */
export function parseCommand(args: string[], specs: FlagSpecs = {}): ParsedFlags {
  return parseFlags(args, { ...GLOBAL, ...specs }, { normalizeUnderscores: true });
}

export function checkMixedArguments(p: ParsedFlags): void {
  if (!p.values.has('config')) return;
  const mixed = p.changed.filter((f) => !ALLOWED_WITH_CONFIG.has(f) && !f.startsWith('skip-'));
  if (mixed.length > 0) throw new Refusal(`can not mix '--config' with arguments [${mixed.join(' ')}]`);
}

export function isSkipped(skip: Set<string>, phase: string): boolean {
  for (const s of skip) if (phase === s || phase.startsWith(`${s}/`)) return true;
  return false;
}

/**
 * How an init or join runs: the preflight errors to ignore (flags and nodeRegistration), the phases
 * to skip and whether it is a dry run (flags win over the config's skipPhases and dryRun).
 */
export function runOptions(
  p: ParsedFlags,
  cfg: InitConfiguration | JoinConfiguration,
  phases: string[],
): { ignore: Set<string>; skip: Set<string>; dryRun: boolean } {
  const ignore = validateIgnorePreflight(list(p, 'ignore-preflight-errors'), cfg.nodeRegistration?.ignorePreflightErrors);
  const skip = p.values.has('skip-phases') ? list(p, 'skip-phases') : ((cfg.skipPhases ?? []) as string[]);
  for (const s of skip) if (!phases.includes(s)) throw new Refusal(`invalid phase name: ${s}`);
  return { ignore, skip: new Set(skip), dryRun: bool(p, 'dry-run') || cfg.dryRun === true };
}
