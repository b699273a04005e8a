// systemd units, networkd files, time zone and NTP servers.
import { writeFileAtomic } from '../../core/fs.ts';
import { readFile, rm, symlink } from 'node:fs/promises';
import { run, type ApplyContext } from './context.ts';
import { ensureParents, exists, under } from './fs.ts';
import { DEFAULT_NETWORK } from '../../node/layout.ts';

const rootFlag = (ctx: ApplyContext) => (ctx.root === '/' ? [] : [`--root=${ctx.root}`]);

export async function applyUnits(ctx: ApplyContext): Promise<string> {
  const names = ctx.model.units.map((u) => u.name);
  // PID1 loads a unit it has never seen when it is started; only units already in its memory (a
  // drop-in for containerd, say) need a daemon-reload, which costs seconds this early in boot.
  // list-units only lists (show would load them and make every unit look known).
  const inMemory = ctx.live
    ? (await run(ctx, 'systemctl', ['list-units', '--all', '--plain', '--no-legend', '--', ...names])).trim() !== ''
    : false;
  for (const u of ctx.model.units) {
    if (u.contents !== undefined) await writeFileAtomic(under(ctx.root, `/etc/systemd/system/${u.name}`), u.contents, 0o644);
    for (const d of u.dropins) await writeFileAtomic(under(ctx.root, `/etc/systemd/system/${u.name}.d/${d.name}`), d.contents, 0o644);
  }
  const done: string[] = [];
  for (const u of ctx.model.units) {
    // systemctl knows [Install] better than we would; --no-reload: one reload at most, below
    const verb = u.mask ? 'mask' : u.enabled === true ? 'enable' : u.enabled === false ? 'disable' : undefined;
    if (verb) await run(ctx, 'systemctl', [...rootFlag(ctx), '--no-reload', verb, u.name]);
    done.push(`${u.name}${verb ? ` (${verb === 'mask' ? 'masked' : `${verb}d`})` : ''}`);
  }
  if (ctx.live) {
    if (inMemory) await run(ctx, 'systemctl', ['daemon-reload']);
    // the boot transaction was computed before these units existed: queue what was enabled now
    const start = ctx.model.units.filter((x) => x.enabled === true && !x.mask).map((u) => u.name);
    if (start.length > 0) await run(ctx, 'systemctl', ['start', '--no-block', ...start]);
  }
  return done.join(', ');
}

/** udev named the NICs before this pass ran; .link files (set-name) apply on an "add" event. */
export async function renameNics(ctx: ApplyContext): Promise<void> {
  if (!ctx.live) return;
  await run(ctx, 'udevadm', ['control', '--reload']);
  await run(ctx, 'udevadm', ['trigger', '--action=add', '--subsystem-match=net']);
  await run(ctx, 'udevadm', ['settle', '--timeout=30']);
}

/** The image's catch-all DHCP file; a node with its own network-config must not also DHCP everywhere. */
export async function applyNetwork(ctx: ApplyContext): Promise<string> {
  for (const f of ctx.model.network) await writeFileAtomic(under(ctx.root, `/etc/systemd/network/${f.name}`), f.contents, 0o644);
  const fallback = under(ctx.root, DEFAULT_NETWORK);
  await rm(fallback, { force: true });
  await symlink('/dev/null', fallback); // masked, as systemd reads a link to /dev/null
  if (ctx.model.network.some((f) => f.name.endsWith('.link'))) await renameNics(ctx);
  // networkd writes its state file once running; the early pass runs before it (nothing to reload)
  if (ctx.live && (await exists('/run/systemd/netif/state'))) await run(ctx, 'networkctl', ['reload']);
  return ctx.model.network.map((f) => f.name).join(', ');
}

export async function applyTimezone(ctx: ApplyContext): Promise<string> {
  const zone = ctx.model.timezone!;
  const localtime = under(ctx.root, '/etc/localtime');
  await ensureParents(localtime);
  await rm(localtime, { force: true });
  await symlink(`/usr/share/zoneinfo/${zone}`, localtime);
  await writeFileAtomic(under(ctx.root, '/etc/timezone'), `${zone}\n`, 0o644);
  return zone;
}

/** chrony (the image's NTP client) reads /etc/chrony/conf.d; Debian's default pool is commented out. */
export async function applyNtp(ctx: ApplyContext): Promise<string> {
  const { servers, pools } = ctx.model.ntp!;
  const lines = [
    '# written by kiln-firstboot from the node metadata',
    ...servers.map((s) => `server ${s} iburst`),
    ...pools.map((p) => `pool ${p} iburst`),
  ];
  await writeFileAtomic(under(ctx.root, '/etc/chrony/conf.d/50-kiln.conf'), `${lines.join('\n')}\n`, 0o644);
  const main = under(ctx.root, '/etc/chrony/chrony.conf');
  const text = await readFile(main, 'utf8').catch(() => undefined);
  if (text !== undefined) await writeFileAtomic(main, text.replace(/^(pool |server )/gm, '#kiln: $1'), 0o644);
  if (ctx.live) await run(ctx, 'systemctl', ['try-restart', '--no-block', 'chrony.service']);
  return [...servers, ...pools].join(', ');
}
