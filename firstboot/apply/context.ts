// The one object every apply step works on: where the system is, what to make of it, how to talk.
import { describeFailure, exec } from '../../core/exec.ts';
import type { Provisioning } from '../../node/model.ts';

export interface ApplyContext {
  /** `/` on a node; a temporary tree in tests. Every path a step touches is under it. */
  root: string;
  model: Provisioning;
  /** True when root is the running system: start units, reload networkd, set the kernel hostname. */
  live: boolean;
  /** One line for the console and the journal; never pass secrets. */
  log(line: string): void;
  /** Time spent in the user's commands and external tools, reported apart from firstboot's own. */
  clock: { externalMs: number };
}

/** Runs a tool; its own stderr goes into the error (tools print no secrets we hand them as files). */
export async function run(ctx: Pick<ApplyContext, 'clock'>, cmd: string, args: string[], opts: { input?: string } = {}): Promise<string> {
  const t0 = performance.now();
  const r = await exec(cmd, args, opts.input !== undefined ? { input: opts.input } : {});
  ctx.clock.externalMs += performance.now() - t0;
  if (r.failed) throw new Error(describeFailure(cmd, args, r));
  return r.stdout;
}
