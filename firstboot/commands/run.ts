import { KilnError } from '../../core/errors.ts';
import { realHost } from '../host.ts';
import { runPass } from '../run.ts';

export async function runCommand(values: Record<string, unknown>): Promise<number> {
  const pass = values.pass as string;
  if (pass !== 'early' && pass !== 'late')
    throw new KilnError(`unknown pass "${pass}"`, { hint: 'use --pass early or --pass late', exitCode: 2 });
  return runPass({ host: realHost, pass });
}
