// `kiln-firstboot plan --config node.yaml [--render DIR]`: the role plan for a node config, and
// optionally every file it would write, under DIR, without touching the system.
import { readInputFile, writeFileAtomic } from '../../core/fs.ts';
import { stat } from 'node:fs/promises';
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
  const text = (await readInputFile(file, {
    what: 'the node config',
    hint: 'give the kiln node config (the kiln: key of your cloud-config, as its own YAML file)',
  }))!;
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
    // checked before the first write: a file (or a file inside DIR) where a directory must go is bad input
    const files = steps.flatMap((s) => s.files);
    for (const target of [dir, ...files.map((f) => path.dirname(path.join(dir, f.path)))]) {
      const info = await stat(target).catch(() => undefined);
      if (info && !info.isDirectory())
        throw new KilnError(`--render: ${target} exists and is not a directory`, {
          file: target,
          hint: 'give --render a new or empty directory: the plan writes a tree of files under it',
          exitCode: 2,
        });
    }
    for (const f of files) await writeFileAtomic(path.join(dir, f.path), f.contents, f.secret ? 0o600 : f.mode);
    writeOut(`rendered ${steps.flatMap((s) => s.files).length} files under ${dir}\n`);
  }
  return 0;
}
