// bootcmd (early) and runcmd (late): the node's own commands, run inside its root.
import { execa } from 'execa';
import type { Command } from '../../node/model.ts';
import type { ApplyContext } from './context.ts';

async function runAll(ctx: ApplyContext, commands: Command[], what: string): Promise<string> {
  for (const [i, c] of commands.entries()) {
    const argv = typeof c === 'string' ? ['/bin/sh', '-c', c] : c;
    // a test root is entered with chroot; the node runs them directly
    const [cmd, ...args] = ctx.root === '/' ? argv : ['chroot', ctx.root, ...argv];
    const t0 = performance.now();
    const r = await execa(cmd!, args, { reject: false, all: true, env: { KILN_FIRSTBOOT: '1' } });
    ctx.clock.externalMs += performance.now() - t0;
    // commands are the user's: their output goes to the journal (not the status file) as they wrote it
    for (const line of (r.all ?? '').split('\n').filter(Boolean).slice(-20)) ctx.log(`  ${what}[${i}]: ${line}`);
    if (r.exitCode !== 0) throw new Error(`${what}[${i}] exited with ${r.exitCode ?? r.signal}`);
  }
  return `${commands.length} command${commands.length === 1 ? '' : 's'}`;
}

export const applyBootcmd = (ctx: ApplyContext) => runAll(ctx, ctx.model.bootcmd, 'bootcmd');
export const applyRuncmd = (ctx: ApplyContext) => runAll(ctx, ctx.model.runcmd, 'runcmd');
