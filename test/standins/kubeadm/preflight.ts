// TEST ONLY. kubeadm's preflight checks, with their names (for --ignore-preflight-errors) and
// messages. The machine checks look at this machine only when the root is / (in a VM).
import { availableParallelism, totalmem } from 'node:os';
import { Refusal, STANDIN, type Ctx } from '../lib/context.ts';
import type { ClusterConfiguration } from './config.ts';
import { MANIFESTS, STATIC_PODS } from './effects.ts';

export interface Check {
  name: string;
  errors: string[];
  warnings?: string[];
}

export function fileAvailable(ctx: Ctx, file: string): Check {
  return { name: `FileAvailable-${file.replace(/\//g, '-')}`, errors: ctx.exists(file) ? [`${file} already exists`] : [] };
}

export function dirAvailable(ctx: Ctx, dir: string): Check {
  return { name: `DirAvailable-${dir.replace(/\//g, '-')}`, errors: ctx.list(dir).length > 0 ? [`${dir} is not empty`] : [] };
}

/** No static Pod manifest may exist yet. */
export function staticPodChecks(ctx: Ctx): Check[] {
  return STATIC_PODS.map((c) => fileAvailable(ctx, `${MANIFESTS}/${c}.yaml`));
}

export function machineChecks(ctx: Ctx, controlPlane: boolean): Check[] {
  const checks: Check[] = [];
  if (ctx.root === '/') {
    const uid = process.getuid?.() ?? 0;
    checks.push({ name: 'IsPrivilegedUser', errors: uid === 0 ? [] : ['user is not running as root'] });
  }
  if (controlPlane) {
    const cpus = Number(ctx.env.KILN_STANDIN_NUM_CPU) || availableParallelism();
    checks.push({ name: 'NumCPU', errors: cpus < 2 ? [`the number of available CPUs ${cpus} is less than the required 2`] : [] });
    const mem = Number(ctx.env.KILN_STANDIN_MEM_MB) || Math.floor(totalmem() / 1024 / 1024);
    checks.push({ name: 'Mem', errors: mem < 1700 ? [`the system RAM (${mem} MB) is less than the minimum 1700 MB`] : [] });
  }
  return checks;
}

export function ipForwardCheck(ctx: Ctx): Check[] {
  if (ctx.root !== '/') return [];
  const name = 'FileContent--proc-sys-net-ipv4-ip_forward';
  let content: string;
  try {
    content = ctx.read('/proc/sys/net/ipv4/ip_forward').trim();
  } catch {
    return [{ name, errors: ['/proc/sys/net/ipv4/ip_forward does not exist'] }];
  }
  return [{ name, errors: content === '1' ? [] : ['/proc/sys/net/ipv4/ip_forward contents are not set to 1'] }];
}

/**
 * The cluster's Kubernetes version against this kubeadm's: a label (stable-1, none) falls back to
 * the client version as kubeadm does offline; too old is refused, newer is a preflight warning.
 * Sets `cluster.kubernetesVersion` to the version used.
 */
export function checkKubernetesVersion(ctx: Ctx, cluster: ClusterConfiguration): Check[] {
  const client = ctx.kubeVersion();
  let wanted = cluster.kubernetesVersion as string | undefined;
  if (!wanted || !/^v?[0-9]+\.[0-9]+\.[0-9]+/.test(wanted)) {
    const label = wanted ?? 'stable-1';
    ctx.err(
      `W0000 00:00:00.000000       1 version.go:104] could not fetch a Kubernetes version from the internet: unable to get URL "https://dl.k8s.io/release/${label}.txt": ${STANDIN} no network\nW0000 00:00:00.000000       1 version.go:105] falling back to the local client version: ${client}\n`,
    );
    ctx.warn(`kubernetesVersion ${JSON.stringify(label)} needs the internet; fell back to the client version ${client}`);
    wanted = client;
  }
  const m = /^v?([0-9]+)\.([0-9]+)\.([0-9]+)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.exec(wanted);
  if (!m)
    throw new Refusal(`couldn't parse Kubernetes version ${JSON.stringify(wanted)}: could not parse ${JSON.stringify(wanted)} as version`);
  cluster.kubernetesVersion = wanted.startsWith('v') ? wanted : `v${wanted}`;
  const [cMajor, cMinor] = client.slice(1).split('.').map(Number) as [number, number];
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major < cMajor || (major === cMajor && minor < cMinor - 1))
    throw new Refusal(
      `this version of kubeadm only supports deploying clusters with the control plane version >= ${cMajor}.${cMinor - 1}.0. Current version: ${wanted}`,
    );
  if (major > cMajor || (major === cMajor && minor > cMinor))
    return [
      {
        name: 'KubernetesVersion',
        errors: [],
        warnings: [
          `Kubernetes version is greater than kubeadm version. Please consider to upgrade kubeadm. Kubernetes version: ${wanted.replace(/^v/, '')}. Kubeadm version: ${cMajor}.${cMinor}.x`,
        ],
      },
    ];
  return [];
}

/** Prints warnings (and ignored errors); refuses when any error is not ignored. */
export function runChecks(ctx: Ctx, checks: Check[], ignore: Set<string>): void {
  const errors: string[] = [];
  for (const c of checks) {
    const ignored = ignore.has('all') || ignore.has(c.name.toLowerCase());
    for (const w of [...(c.warnings ?? []), ...(ignored ? c.errors : [])]) {
      ctx.err(`\t[WARNING ${c.name}]: ${w}\n`);
      ctx.warn(`[WARNING ${c.name}]: ${w}`);
    }
    if (!ignored) for (const e of c.errors) errors.push(`\t[ERROR ${c.name}]: ${e}\n`);
  }
  if (errors.length > 0)
    throw new Refusal(
      `error execution phase preflight: [preflight] Some fatal errors occurred:\n${errors.join('')}[preflight] If you know what you are doing, you can make a check non-fatal with \`--ignore-preflight-errors=...\``,
    );
}
