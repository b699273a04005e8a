// One firstboot pass: find the metadata → parse and validate → resolve → preflight → steps.
// Nothing is written outside /run/kiln until every check has passed.
import path from 'node:path';
import { formatProblem } from '../core/problem.ts';
import { KilnError, ValidationError } from '../core/errors.ts';
import { preflightProblems } from './apply/preflight.ts';
import type { ApplyContext } from './apply/context.ts';
import { stepsFor, type Pass, type Step } from './apply/steps.ts';
import type { Host } from './host.ts';
import { parseCmdline, type Cmdline } from './metadata/cmdline.ts';
import { decodeMetadata } from '../node/metadata/decode.ts';
import { findSource, NO_SOURCE_HINT } from './metadata/providers.ts';
import { needsNetwork, resolveModel } from './resolve.ts';
import { StateJournal } from './state.ts';
import { StatusReporter } from './status.ts';
import { roleSteps, type RoleOptions } from './role/steps.ts';
import type { ReportTarget } from '../node/serve.ts';
import { postReport, reportBody, reportTarget, type ReportOptions } from './report.ts';
import { cmdlineValue } from './metadata/cmdline.ts';
import { runInstall, type InstallTools } from './install/install.ts';
import { machineInstallTools } from './install/tools.ts';

export const EXIT = { ok: 0, failed: 1, invalid: 2, noSource: 3 } as const;

export interface RunOptions {
  host: Host;
  pass: Pass;
  /** Where status.json goes: /run/kiln on a node. */
  runDir?: string;
  out?: (line: string) => void;
  /** Tool environment and wait bounds for the role steps (the host's toolEnv is added to the environment). */
  role?: RoleOptions;
  /** Bounds of the report to kiln cluster serve (kiln.report=). */
  report?: ReportOptions;
  /** The disks, mounts and reboot of `install`; the machine's own by default. */
  install?: InstallTools;
}

export async function runPass(opts: RunOptions): Promise<number> {
  const { host, pass } = opts;
  const runDir = opts.runDir ?? path.join(host.root, 'run/kiln');
  const status = new StatusReporter(path.join(runDir, `status-${pass}.json`), pass, opts.out);
  const started = performance.now();
  status.update({});
  let cmdline: Cmdline = new Map();
  // the seed as served: the report to kiln cluster serve proves the node holds it
  let seed: Buffer | undefined;
  let carriedReport: ReportTarget | undefined;
  const report = async (outcome: 'done' | 'failed', reason?: string) => {
    const target = reportTarget(cmdline) ?? carriedReport;
    if (!target || !seed) return;
    const warning = await postReport(target, reportBody(outcome, seed, reason), opts.report);
    if (warning) status.warn(warning);
    else status.line(`reported "${outcome}" to the boot server`);
  };
  try {
    cmdline = parseCmdline(await host.cmdline());
    const found = await findSource(host, cmdline);
    if (!found) {
      status.update({ state: 'no-source', error: { message: 'no metadata source found', hint: NO_SOURCE_HINT } });
      status.line(`no metadata source found; ${NO_SOURCE_HINT}`);
      return EXIT.noSource;
    }
    carriedReport = found.report;
    status.update({ source: { provider: found.provider, location: found.location } });
    status.line(`source: ${found.provider} (${found.location})`);
    for (const w of found.warnings) status.warn(w);
    if (found.needsNetwork && pass === 'early') return waitForNetwork(status);

    const raw = await found.load();
    seed = raw.userData.data;
    const model = decodeMetadata(raw);
    for (const w of model.warnings) status.warn(formatProblem(w));
    if (needsNetwork(model) && pass === 'early') return waitForNetwork(status);
    await resolveModel(model);
    // a live boot (ISO or PXE) of a node with install: it installs, and the installed system provisions
    const install = model.node?.install;
    if (install && cmdlineValue(cmdline, 'boot') === 'live') {
      if (pass === 'early') {
        status.update({ state: 'waiting-for-network' });
        status.line('install: the disk is written in the late pass; this live system provisions nothing');
        return EXIT.ok;
      }
      const disk = await runInstall(
        {
          install,
          cmdline,
          seed: raw.userData,
          ...((target) => (target ? { report: target } : {}))(reportTarget(cmdline)),
          log: (l) => status.line(l),
        },
        opts.install ?? machineInstallTools,
      );
      status.update({ state: 'installed' });
      status.line(
        `installed to ${disk} in ${Math.round(performance.now() - started)} ms; rebooting into it, where the first boot continues`,
      );
      await (opts.install ?? machineInstallTools).reboot();
      return EXIT.ok;
    }
    const journal = new StateJournal(path.join(host.root, 'var/lib/kiln/firstboot.json'));
    const sameInstance = journal.instanceId === model.instanceId;
    status.update({ instanceId: model.instanceId });
    const ctx: ApplyContext = {
      root: host.root,
      model,
      live: host.root === '/',
      log: (l: string) => status.line(l),
      clock: { externalMs: 0 },
    };
    if (sameInstance && journal.passDone(pass)) {
      status.line(`instance ${model.instanceId} is already provisioned`);
      for (const step of stepsFor(model, [pass]).filter((s) => s.everyBoot)) await runStep(step, ctx, status);
      status.update({ state: 'already-provisioned' });
      return EXIT.ok;
    }
    // the late pass also runs the early steps when the early pass waited for the network
    const passes: Pass[] = pass === 'late' && !(sameInstance && journal.passDone('early')) ? ['early', 'late'] : [pass];
    const toRun = new Set(
      stepsFor(model, passes)
        .filter((s) => !(sameInstance && journal.isDone(s.name)))
        .map((s) => s.name),
    );
    const preflight = preflightProblems(model, host.root, (name) => toRun.has(name));
    if (preflight.length > 0) throw new ValidationError(preflight);
    journal.begin(model.instanceId);
    // the node's role (kubeadm, keepalived, Cilium, …) follows the generic steps in the late pass
    const roleOptions: RoleOptions = { ...opts.role, env: { ...opts.role?.env, ...host.toolEnv } };
    const role = passes.includes('late') && model.node ? roleSteps(model.node, host.root, ctx.log, ctx.clock, roleOptions) : undefined;
    for (const step of [...stepsFor(model, passes), ...(role?.steps ?? [])]) {
      if (journal.isDone(step.name) && !step.everyBoot) {
        status.step(step.name, 'skipped', { summary: 'done before a restart' });
        continue;
      }
      await runStep(step, ctx, status);
      // a stop here (before the journal knows) runs the step again; after markDone, it is skipped
      host.checkpoint?.(`${step.name}:unrecorded`);
      journal.markDone(step.name);
      host.checkpoint?.(step.name);
    }
    for (const p of passes) journal.markPass(p);
    status.update({ state: 'done' });
    const total = Math.round(performance.now() - started);
    const external = Math.round(ctx.clock.externalMs);
    status.line(
      `${pass} pass done in ${total} ms${external > 0 ? ` (own ${total - external} ms; ${external} ms in the user's commands, tools such as useradd, systemctl, kubeadm and helm, and waits)` : ''} (instance ${model.instanceId})`,
    );
    // the late pass ends the first boot (it runs the early steps too when those waited)
    if (pass === 'late') await report('done');
    return EXIT.ok;
  } catch (error) {
    const code = fail(status, error);
    await report('failed', status.status.error?.message);
    return code;
  }
}

async function runStep(step: Step, ctx: ApplyContext, status: StatusReporter): Promise<void> {
  status.step(step.name, 'running');
  const t0 = performance.now();
  try {
    const summary = await step.apply(ctx);
    status.step(step.name, 'done', { summary, ms: Math.round(performance.now() - t0) });
  } catch (cause) {
    status.step(step.name, 'failed', { error: (cause as Error).message.split('\n')[0]! });
    throw new KilnError(`step ${step.name} failed`, {
      cause,
      hint: 'see the journal of this unit for details; fix the metadata or the node and reboot to retry',
    });
  }
}

function waitForNetwork(status: StatusReporter): number {
  status.update({ state: 'waiting-for-network' });
  status.line('the metadata is fetched over the network: provisioning runs in the late pass, after network-online.target');
  return EXIT.ok;
}

function fail(status: StatusReporter, error: unknown): number {
  if (error instanceof ValidationError) {
    status.update({ state: 'failed', error: { message: error.message, problems: error.problems } });
    status.line(`invalid metadata, nothing applied: ${error.message}`);
    for (const p of error.problems) status.line(`  ${formatProblem(p).replace(/\n/g, '\n  ')}`);
    return EXIT.invalid;
  }
  const e = error instanceof KilnError ? error : new KilnError((error as Error).message ?? String(error), { cause: error });
  status.update({ state: 'failed', error: { message: e.message, ...(e.hint ? { hint: e.hint } : {}) } });
  status.line(`failed: ${e.describe()}`);
  // bad input the readers refused as such (a seed file that is a directory, an unpinned remote config)
  return e.exitCode === 2 ? EXIT.invalid : EXIT.failed;
}
