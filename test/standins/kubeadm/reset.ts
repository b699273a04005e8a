// TEST ONLY. `kubeadm reset -f`: removes what init and join wrote and the node from the simulated
// cluster, so a test can run them again.
import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { bool, str } from '../flags.ts';
import { APISERVER_STATE } from '../apiserver/state.ts';
import { Refusal, STANDIN, type Ctx } from '../lib/context.ts';
import { KUBECONFIG_FILES, MANIFESTS } from './effects.ts';
import { RESET_FLAGS, checkMixedArguments, parseCommand } from './flags.ts';

export function reset(args: string[], ctx: Ctx): number {
  const p = parseCommand(args, RESET_FLAGS);
  if (p.positional.length > 0) throw new Refusal(`unknown command "${p.positional[0]}" for "kubeadm reset"`);
  checkMixedArguments(p);
  if (!bool(p, 'force')) throw new Refusal(`${STANDIN} kubeadm reset asks for confirmation on the terminal; pass --force (-f)`);
  if (bool(p, 'dry-run')) {
    ctx.out('[dryrun] Would remove the files kubeadm wrote\n');
    return 0;
  }
  const certDir = str(p, 'cert-dir') ?? '/etc/kubernetes/pki';
  ctx.out(
    '[reset] Deleted contents of the etcd data directory: /var/lib/etcd\n[reset] Stopping the kubelet service\n[reset] Unmounting mounted directories in "/var/lib/kubelet"\n',
  );
  for (const dir of [MANIFESTS, '/var/lib/etcd', '/var/lib/kubelet', certDir])
    for (const e of ctx.list(dir)) rmSync(ctx.host(`${dir}/${e}`), { recursive: true, force: true });
  for (const f of KUBECONFIG_FILES) rmSync(ctx.host(f), { force: true });
  // network mode: what the stand-in API server served stands for this node's etcd, gone with it
  rmSync(ctx.host(APISERVER_STATE), { force: true });
  ctx.out(
    `[reset] Deleting contents of directories: [${MANIFESTS} /var/lib/kubelet ${certDir}]\n[reset] Deleting files: [${KUBECONFIG_FILES.join(' ')}]\n`,
  );
  const state = ctx.loadState();
  // the node this root stands for: the one registered here (or named like the host)
  const name = hostname().trim().toLowerCase();
  const here = Object.keys(state.nodes);
  for (const n of here) if (n === name || here.length === 1) delete state.nodes[n];
  ctx.saveState(state);
  return 0;
}
