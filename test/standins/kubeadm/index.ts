// TEST ONLY. A stand-in for kubeadm (v1beta4 configs; messages and exit codes of kubeadm 1.31):
// `version`, `init`, `join` and `reset`. It checks its input as strictly as kubeadm does, and where
// kubeadm would only warn about something that silently loses a setting (an unknown key, an
// ignored document, a patch file it skips) it refuses, saying so with "[kiln-test-standin]". It
// then simulates the effects the next steps depend on under KILN_STANDIN_ROOT: kubeconfigs,
// static Pod stubs, the kubelet's config, and the node in the simulated cluster.
import { findCommand, str } from '../flags.ts';
import { Refusal, STANDIN, report, toYaml, type Ctx } from '../lib/context.ts';
import { versionInfo } from '../lib/version.ts';
import { GLOBAL, parseCommand } from './flags.ts';
import { config } from './images.ts';
import { init } from './init.ts';
import { join } from './join.ts';
import { HELP } from './messages.ts';
import { reset } from './reset.ts';

export async function kubeadm(args: string[], ctx: Ctx): Promise<number> {
  const { command, rest } = findCommand(args, GLOBAL);
  try {
    switch (command) {
      case undefined:
        parseCommand(rest);
        ctx.out(HELP.kubeadm);
        return 0;
      case 'version':
        return version(rest, ctx);
      case 'init':
        return await init(rest, ctx);
      case 'join':
        return await join(rest, ctx);
      case 'reset':
        return reset(rest, ctx);
      case 'config':
        return config(rest, ctx);
      case 'certs':
      case 'completion':
      case 'help':
      case 'kubeconfig':
      case 'token':
      case 'upgrade':
        throw new Refusal(`${STANDIN} "kubeadm ${command}" is not simulated by the test stand-in (only version, init, join and reset are)`);
      default:
        throw new Refusal(`unknown command "${command}" for "kubeadm"`);
    }
  } catch (error) {
    return report(ctx, error, command ? `kubeadm ${command}` : 'kubeadm');
  }
}

function version(args: string[], ctx: Ctx): number {
  const p = parseCommand(args, { output: { type: 'string', short: 'o' } });
  if (p.positional.length > 0) throw new Refusal(`unknown command "${p.positional[0]}" for "kubeadm version"`);
  const info = versionInfo(ctx.kubeVersion());
  switch (str(p, 'output') ?? '') {
    case '':
      ctx.out(
        `kubeadm version: &version.Info{Major:"${info.major}", Minor:"${info.minor}", GitVersion:"${info.gitVersion}", GitCommit:"${info.gitCommit}", GitTreeState:"${info.gitTreeState}", BuildDate:"${info.buildDate}", GoVersion:"${info.goVersion}", Compiler:"${info.compiler}", Platform:"${info.platform}"}\n`,
      );
      return 0;
    case 'short':
      ctx.out(`${info.gitVersion}\n`);
      return 0;
    case 'json':
      ctx.out(`${JSON.stringify({ clientVersion: info }, null, 2)}\n`);
      return 0;
    case 'yaml':
      ctx.out(toYaml({ clientVersion: info }));
      return 0;
    default:
      throw new Refusal(`invalid output format: ${str(p, 'output')}`);
  }
}
