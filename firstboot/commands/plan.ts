// `kiln-firstboot plan --config node.yaml [--render DIR]`: the role plan for a node config, and
// optionally every file it would write, under DIR, without touching the system.
import { writeFileAtomic } from '../../core/fs.ts';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { KilnError, ValidationError } from '../../core/errors.ts';
import { readNodeConfig } from '../../node/config/node-file.ts';
import { gatherFacts } from '../role/facts.ts';
import { describePlan, planRole } from '../role/plan.ts';
import { writeOut } from '../../core/output.ts';

export async function planCommand(values: Record<string, unknown>): Promise<number> {
  const file = values.config as string | undefined;
  if (!file)
    throw new KilnError('plan needs --config FILE', {
      hint: 'kiln-firstboot plan --config /etc/kiln/node.yaml [--render DIR]',
      exitCode: 2,
    });
  const text = await readFile(file, 'utf8').catch((cause: unknown) => {
    throw new KilnError(`cannot read ${file}`, {
      file,
      cause,
      hint: 'give the kiln node config (the kiln: key of your cloud-config, as its own YAML file)',
      exitCode: 2,
    });
  });
  const { config, problems } = readNodeConfig(text, file);
  if (!config) throw new ValidationError(problems);
  // facts from this machine's root (or --root): the image's kubelet defaults, baked images, manifests
  const steps = planRole(config, gatherFacts((values.root as string | undefined) ?? '/', config.manifestsDir));
  if (values.json)
    writeOut(
      `${JSON.stringify(
        steps.map((s) => ({ ...s, files: s.files.map(({ contents: _c, ...f }) => f) })),
        null,
        2,
      )}\n`,
    );
  else writeOut(`${config.role} plan for ${config.node.name} (${config.cluster.name}):\n${describePlan(steps)}\n`);
  const dir = values.render as string | undefined;
  if (dir) {
    for (const f of steps.flatMap((s) => s.files)) await writeFileAtomic(path.join(dir, f.path), f.contents, f.secret ? 0o600 : f.mode);
    writeOut(`rendered ${steps.flatMap((s) => s.files).length} files under ${dir}\n`);
  }
  return 0;
}
