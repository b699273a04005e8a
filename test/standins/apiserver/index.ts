// TEST ONLY. `kiln-test-standins apiserver`: the stand-in kube-apiserver of a network-mode test
// cluster (see server.ts), run by kiln-test-apiserver.service until SIGTERM or SIGINT. It takes no
// arguments: its port is the --secure-port of the kube-apiserver static Pod kubeadm wrote.
import { Refusal, STANDIN, report, type Ctx } from '../lib/context.ts';
import { APISERVER_MANIFEST, startApiserver } from './server.ts';

export async function apiserver(args: string[], ctx: Ctx): Promise<number> {
  try {
    if (args.length > 0)
      throw new Refusal(
        `${STANDIN} the stand-in apiserver takes no arguments (got ${args.join(' ')}): it listens on the --secure-port of ${APISERVER_MANIFEST}, or on KILN_STANDIN_APISERVER_LISTEN`,
      );
    const server = await startApiserver(ctx, (line) => ctx.out(`${line}\n`));
    const signal = await new Promise<string>((resolve) => {
      const stop = (name: string) => () => {
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        resolve(name);
      };
      const onTerm = stop('SIGTERM');
      const onInt = stop('SIGINT');
      process.once('SIGTERM', onTerm);
      process.once('SIGINT', onInt);
    });
    ctx.out(`${signal}: shutting down\n`);
    await server.close();
    return 0;
  } catch (error) {
    return report(ctx, error, 'apiserver');
  }
}
