import { readStateFile } from '../../core/json.ts';
import { StatusSchema, type Status } from '../status.ts';
import { writeOut } from '../../core/output.ts';

const PASSES = ['early', 'late'];

export async function statusCommand(values: Record<string, unknown>): Promise<number> {
  const found: Status[] = [];
  for (const pass of PASSES) {
    const status = await readStateFile<Status>(
      `/run/kiln/status-${pass}.json`,
      StatusSchema,
      'kiln-firstboot rewrites it on its next run; remove it, or run the pass again (systemctl restart kiln-firstboot)',
    );
    if (status) found.push(status);
  }
  if (values.json) {
    writeOut(`${JSON.stringify(found, null, 2)}\n`);
  } else if (found.length === 0) {
    writeOut('kiln-firstboot has not run on this boot (no /run/kiln/status-*.json)\n');
  } else {
    for (const s of found) {
      writeOut(
        `${s.pass} pass: ${s.state}${s.source ? ` — ${s.source.provider} (${s.source.location})` : ''}${s.instanceId ? `, instance ${s.instanceId}` : ''}\n`,
      );
      for (const step of s.steps)
        writeOut(
          `  ${step.name.padEnd(12)} ${step.state}${step.summary ? `  ${step.summary}` : ''}${step.error ? `  ${step.error}` : ''}\n`,
        );
      if (s.error) writeOut(`  error: ${s.error.message}${s.error.hint ? `\n  hint: ${s.error.hint}` : ''}\n`);
    }
  }
  return found.some((s) => s.state === 'failed' || s.state === 'no-source') ? 1 : 0;
}
