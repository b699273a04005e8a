// Running the role plan: each planned step writes its files, then does its action. Actions are
// idempotent (a crash between an action and the journal entry reruns it harmlessly), and the time
// spent inside kubeadm, helm, kubectl and waits is counted apart from firstboot's own.
import { writeFileAtomic } from '../../core/fs.ts';
import { existsSync, readFileSync } from 'node:fs';
import { describeFailure, exec } from '../../core/exec.ts';
import { KilnError } from '../../core/errors.ts';
import type { NodeConfig } from '../../node/config/schema.ts';
import type { ActionName, HostFacts, PlannedStep } from './types.ts';
import { under } from '../apply/fs.ts';
import { hostsMaps, setHostsEntry } from '../apply/hosts.ts';
import { CILIUM_VALUES } from './cilium.ts';
import { controlPlaneEndpoint } from '../../node/config/vrrp.ts';
import { kubeadmArgs } from './kubeadm.ts';
import { CHART_DIR } from '../../node/layout.ts';
import { resolveAddon } from './addons.ts';
import { ADDON_VALUES_DIR, bakedCilium } from './plan.ts';
import { checkLocalChart } from './charts.ts';

const ADMIN_CONF = '/etc/kubernetes/admin.conf';

/**
 * kubeadm's CoreDNS prefers other nodes (a soft anti-affinity), but at first boot the init node is
 * the only one, both replicas land there and stay. With minDomains 2 the second replica of a
 * rollout waits until a second node exists, then runs there; pod-template-hash counts only the
 * rollout's own pods, so the old ones keep serving meanwhile.
 */
const COREDNS_SPREAD = {
  spec: {
    template: {
      spec: {
        topologySpreadConstraints: [
          {
            maxSkew: 1,
            minDomains: 2,
            topologyKey: 'kubernetes.io/hostname',
            whenUnsatisfiable: 'DoNotSchedule',
            labelSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            matchLabelKeys: ['pod-template-hash'],
          },
        ],
      },
    },
  },
};

export interface RoleContext {
  root: string;
  live: boolean;
  config: NodeConfig;
  manifestsDir: string;
  log(line: string): void;
  /** Time spent in external tools, user commands and waits (not firstboot's own), shared with the generic steps. */
  clock: { externalMs: number };
  /** Extra environment for the tools (the run's role options and the host's toolEnv). */
  env?: Record<string, string>;
  /** What the plan was made from: the image's kubelet defaults, baked image archives, manifests. */
  facts: HostFacts;
  /** Bounds for waits and retries; tests shorten them. */
  timing?: { joinAttempts?: number; retryMs?: number; waitSeconds?: number };
}

/** Runs a tool with node paths as arguments, with ctx.env added to firstboot's environment. */
async function tool(ctx: RoleContext, cmd: string, args: string[]): Promise<string> {
  const t0 = performance.now();
  try {
    const r = await exec(cmd, args, { env: { ...ctx.env } });
    if (r.missing)
      throw new KilnError(`${cmd} is not installed on this node`, {
        hint: `the ${ctx.config.role} role needs ${cmd}; build the image with kubernetes.components including it (or bake it in with the air-gap bundle)`,
      });
    if (r.failed) throw new Error(describeFailure(cmd, args, r));
    return r.stdout;
  } finally {
    ctx.clock.externalMs += performance.now() - t0;
  }
}

async function pause(ctx: RoleContext, ms: number): Promise<void> {
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, ms));
  ctx.clock.externalMs += performance.now() - t0;
}

/**
 * Retries `attempt` with doubling pauses (up to 30 s) until it succeeds or `attempts` are used up.
 * A KilnError (a tool that is not installed) will not get better by waiting: thrown at once.
 */
async function retry<T>(ctx: RoleContext, what: string, attempts: number, attempt: () => Promise<T>): Promise<T> {
  let wait = ctx.timing?.retryMs ?? 2000;
  for (let i = 1; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= attempts || error instanceof KilnError) throw error;
      ctx.log(`  ${what}: attempt ${i} failed (${(error as Error).message.split('\n')[0]}); retrying in ${Math.round(wait / 1000)} s`);
      await pause(ctx, wait);
      wait = Math.min(wait * 2, 30_000);
    }
  }
}

/** Polls `probe` at a steady interval until it holds or `seconds` have passed (a missing tool fails at once). */
async function waitFor(ctx: RoleContext, what: string, seconds: number, probe: () => Promise<unknown>): Promise<void> {
  const deadline = performance.now() + seconds * 1000;
  for (;;) {
    try {
      await probe();
      return;
    } catch (error) {
      if (error instanceof KilnError) throw error;
      if (performance.now() >= deadline)
        throw new Error(`${what}: not ready after ${seconds} s (${(error as Error).message.split('\n')[0]})`, { cause: error });
      await pause(ctx, ctx.timing?.retryMs ?? 2000);
    }
  }
}

async function systemctl(ctx: RoleContext, verb: 'enable' | 'restart', unit: string): Promise<void> {
  if (!ctx.live) {
    if (verb === 'enable') await tool(ctx, 'systemctl', [`--root=${ctx.root}`, 'enable', unit]);
    return;
  }
  await tool(ctx, 'systemctl', verb === 'enable' ? ['enable', '--now', unit] : ['restart', unit]);
}

/** kubeadm-init and kubeadm-join: the node's role decides which (kubeadmArgs). */
async function kubeadm(ctx: RoleContext): Promise<string> {
  const args = kubeadmArgs(ctx.config);
  const done = (p: string) => existsSync(under(ctx.root, p));
  // kubeadm is not idempotent: its own output files say whether it already ran
  if (args[0] === 'init' && done('/etc/kubernetes/manifests/kube-apiserver.yaml') && done(ADMIN_CONF)) return 'already initialised';
  if (args[0] === 'join' && done('/etc/kubernetes/kubelet.conf')) return 'already joined';
  if (args[0] === 'init') await tool(ctx, 'kubeadm', args);
  // joiners may boot before the init node has finished: retry with backoff
  else await retry(ctx, 'kubeadm join', ctx.timing?.joinAttempts ?? 60, () => tool(ctx, 'kubeadm', args));
  return `kubeadm ${args[0]} ${controlPlaneEndpoint(ctx.config).host}:${controlPlaneEndpoint(ctx.config).port}`;
}

/** Each step's action, by the step's name. */
const ACTIONS: Record<ActionName, (ctx: RoleContext) => Promise<string>> = {
  async 'node-hosts'(ctx) {
    const file = under(ctx.root, '/etc/hosts');
    const current = existsSync(file) ? readFileSync(file, 'utf8') : '127.0.0.1\tlocalhost\n';
    const { name, advertiseAddress } = ctx.config.node;
    // the hostname step maps the node name (and its FQDN) there already when they are the same
    if (hostsMaps(current, advertiseAddress, name)) return `${name} → ${advertiseAddress} (already)`;
    await writeFileAtomic(file, setHostsEntry(current, advertiseAddress, [name]), 0o644);
    return `${name} → ${advertiseAddress}`;
  },
  async keepalived(ctx) {
    if (!ctx.live) await systemctl(ctx, 'enable', 'keepalived.service');
    else {
      // enabled for later boots, then started once: a restart starts a stopped unit, and one that
      // was already running (a rerun) reads the new config (enable --now and a restart started it twice)
      await tool(ctx, 'systemctl', ['enable', 'keepalived.service']);
      await systemctl(ctx, 'restart', 'keepalived.service');
    }
    return 'keepalived enabled';
  },
  async 'wait-vip'(ctx) {
    if (!ctx.live) return 'skipped (not the running system)';
    const vip = controlPlaneEndpoint(ctx.config).host;
    await waitFor(ctx, 'the VIP', ctx.timing?.waitSeconds ?? 60, async () => {
      const out = await tool(ctx, 'ip', ['-o', 'addr', 'show']);
      if (!out.split('\n').some((l) => l.includes(` ${vip}/`))) throw new Error(`${vip} is not on any interface yet`);
    });
    return `${vip} is up`;
  },
  async containerd(ctx) {
    if (!ctx.live) return 'skipped (not the running system)';
    await waitFor(ctx, 'containerd', ctx.timing?.waitSeconds ?? 60, () => tool(ctx, 'ctr', ['version']));
    return 'containerd answers';
  },
  async 'preload-images'(ctx) {
    const images = ctx.facts.preloadImages;
    if (ctx.live) for (const image of images) await tool(ctx, 'ctr', ['-n', 'k8s.io', 'images', 'import', image]);
    return `${images.length} image archive${images.length === 1 ? '' : 's'}${ctx.live ? '' : ' (not imported: not the running system)'}`;
  },
  'kubeadm-init': kubeadm,
  'kubeadm-join': kubeadm,
  async 'wait-apiserver'(ctx) {
    await waitFor(ctx, 'the API server', ctx.timing?.waitSeconds ?? 300, async () => {
      const out = await tool(ctx, 'kubectl', ['--kubeconfig', ADMIN_CONF, 'get', '--raw', '/readyz']);
      if (out.trim() !== 'ok') throw new Error(`readyz says ${out.trim().slice(0, 60)}`);
    });
    return 'API server ready';
  },
  async 'coredns-spread'(ctx) {
    await tool(ctx, 'kubectl', [
      '--kubeconfig',
      ADMIN_CONF,
      '--namespace',
      'kube-system',
      'patch',
      'deployment',
      'coredns',
      '--type',
      'strategic',
      '--patch',
      JSON.stringify(COREDNS_SPREAD),
    ]);
    return 'coredns: one replica per node (topology spread, minDomains 2)';
  },
  async cilium(ctx) {
    const version = ctx.config.cilium!.version;
    const local = `${CHART_DIR}/cilium-${version}.tgz`;
    const chart = existsSync(under(ctx.root, local)) ? local : `https://helm.cilium.io/cilium-${version}.tgz`;
    const baked = bakedCilium(ctx.config, ctx.facts);
    await checkLocalChart(ctx.root, chart, { name: 'cilium', version, sha256: baked?.sha256 });
    const defaults = baked ? ['--values', `${ADDON_VALUES_DIR}/cilium.defaults.json`] : [];
    await tool(ctx, 'helm', [
      'upgrade',
      '--install',
      'cilium',
      chart,
      '--namespace',
      'kube-system',
      '--version',
      version,
      ...defaults,
      '--values',
      CILIUM_VALUES,
      '--kubeconfig',
      ADMIN_CONF,
      '--wait',
      '--timeout',
      '10m',
    ]);
    return `cilium ${version} (${chart.startsWith('/') ? 'baked chart' : 'chart URL'})`;
  },
  async addons(ctx) {
    for (const a of ctx.config.addons ?? []) {
      const r = resolveAddon(a, ctx.facts.addons);
      await checkLocalChart(ctx.root, r.chart, r.expect);
      await tool(ctx, 'helm', [
        'upgrade',
        '--install',
        a.name,
        r.chart,
        '--namespace',
        r.namespace,
        '--create-namespace',
        ...(r.version ? ['--version', r.version] : []),
        ...(r.defaults ? ['--values', `${ADDON_VALUES_DIR}/${a.name}.defaults.json`] : []),
        '--values',
        `${ADDON_VALUES_DIR}/${a.name}.values.json`,
        '--kubeconfig',
        ADMIN_CONF,
        '--wait',
        '--timeout',
        '10m',
      ]);
    }
    return (ctx.config.addons ?? []).map((a) => a.name).join(', ');
  },
  async manifests(ctx) {
    await tool(ctx, 'kubectl', ['--kubeconfig', ADMIN_CONF, 'apply', '-f', ctx.manifestsDir, '--recursive']);
    return ctx.manifestsDir;
  },
  async 'labels-taints'(ctx) {
    const { name, labels, taints } = ctx.config.node;
    const pairs = Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`);
    if (pairs.length > 0) await tool(ctx, 'kubectl', ['--kubeconfig', ADMIN_CONF, 'label', 'node', name, ...pairs, '--overwrite']);
    const specs = (taints ?? []).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`);
    if (specs.length > 0) await tool(ctx, 'kubectl', ['--kubeconfig', ADMIN_CONF, 'taint', 'node', name, ...specs, '--overwrite']);
    return pairs.length + specs.length > 0
      ? `${pairs.length} label${pairs.length === 1 ? '' : 's'}, ${specs.length} taint${specs.length === 1 ? '' : 's'}`
      : 'nothing beyond registration';
  },
  async 'etcd-snapshots'(ctx) {
    await systemctl(ctx, 'enable', 'kiln-etcd-snapshot.timer');
    const keep = ctx.config.etcdSnapshots?.retention ?? 24;
    return `${ctx.config.etcdSnapshots?.schedule ?? 'hourly'}, keep ${keep}`;
  },
};

/** One planned step: its files (secrets 0600 at most), then the action of its name. */
export async function runRoleStep(step: PlannedStep, ctx: RoleContext): Promise<string> {
  for (const f of step.files) await writeFileAtomic(under(ctx.root, f.path), f.contents, f.secret ? f.mode & 0o700 : f.mode);
  const summary = step.action ? await ACTIONS[step.name](ctx) : '';
  const files = step.files.length > 0 ? `${step.files.length} file${step.files.length === 1 ? '' : 's'}` : '';
  return [files, summary].filter(Boolean).join('; ');
}
