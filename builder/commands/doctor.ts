import { checkHost } from '../host/tools.ts';
import { writeOut } from '../../core/output.ts';

/** `kiln doctor`: what kiln runs on this host, what each tool is for, what is missing. */
export async function doctorCommand(opts: Record<string, unknown>): Promise<number> {
  const status = await checkHost();
  const missing = status.filter((s) => !s.found);
  if (opts.json) {
    writeOut(`${JSON.stringify({ ok: missing.length === 0, tools: status }, null, 2)}\n`);
  } else {
    const width = Math.max(...status.map((s) => s.name.length));
    for (const s of status)
      writeOut(
        `${s.found ? 'ok     ' : 'MISSING'}  ${s.name.padEnd(width)}  ${s.purpose}${s.found ? '' : ` (apt-get install ${s.package})`}\n`,
      );
    writeOut(
      missing.length === 0
        ? 'all host tools present\n'
        : `\n${missing.length} missing: apt-get install ${[...new Set(missing.map((m) => m.package))].join(' ')}  (or run scripts/host-deps)\n`,
    );
  }
  return missing.length === 0 ? 0 : 1;
}
