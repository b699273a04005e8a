// kiln-firstboot update --check FILE: would this node take this bundle? The signature against the
// image's trusted keys, freshness against the running image, every part's size and sha256, and,
// given the control plane's version, the skew policy — all before anything is written (this verb
// writes nothing at all; installing into the other slot comes with the A/B layout).
import { KilnError } from '../../core/errors.ts';
import { writeOut } from '../../core/output.ts';
import { skewProblem, type NodeRole } from '../../node/update/skew.ts';
import { readBundle } from '../update/bundle.ts';
import { runningImage, trustedUpdateKeys } from '../update/check.ts';

const ROLES: Record<string, NodeRole> = { init: 'control-plane', 'control-plane': 'control-plane', worker: 'worker' };

export async function updateCommand(positionals: string[], values: Record<string, unknown>): Promise<number> {
  const usage = 'usage: kiln-firstboot update --check FILE [--role control-plane|worker --control-plane vX.Y.Z] [--root DIR] [--json]';
  if (!values.check || positionals.length !== 1)
    throw new KilnError('update needs --check and one bundle file', { hint: usage, exitCode: 2 });
  const role = values.role === undefined ? undefined : ROLES[String(values.role)];
  if (values.role !== undefined && !role)
    throw new KilnError(`--role ${String(values.role)} is not a node role`, { hint: 'control-plane (or init) or worker', exitCode: 2 });
  if ((role === undefined) !== (values['control-plane'] === undefined))
    throw new KilnError('--role and --control-plane go together: the skew policy needs both', { hint: usage, exitCode: 2 });
  const root = String(values.root ?? '/');
  const file = positionals[0]!;
  const trusted = await trustedUpdateKeys(root);
  if (trusted.length === 0)
    throw new KilnError('this node’s image trusts no update key, so it takes no bundle', {
      hint: 'build the image with update.signingKey or update.trustedKeys in its spec',
      exitCode: 2,
    });
  const running = await runningImage(root);
  const manifest = await readBundle(file, trusted, running);
  const skew = role ? skewProblem({ bundle: manifest.kubernetes, controlPlane: String(values['control-plane']), role }) : undefined;
  if (skew) throw new KilnError(skew.message, { file, hint: skew.hint, exitCode: 2 });
  const bytes = manifest.parts.reduce((n, p) => n + p.bytes, 0);
  if (values.json) {
    writeOut(`${JSON.stringify({ file, accepted: true, skewChecked: role !== undefined, manifest }, null, 2)}\n`);
    return 0;
  }
  writeOut(
    [
      `${file}: this node would take it`,
      `  image ${manifest.image} (${manifest.specHash.slice(0, 12)}), Kubernetes ${manifest.kubernetes}, built at ${new Date(manifest.sourceDateEpoch * 1000).toISOString()}`,
      `  newer than the running ${running.image} (${running.specHash.slice(0, 12)}, ${new Date(running.sourceDateEpoch * 1000).toISOString()})`,
      `  ${manifest.parts.length} parts, ${(bytes / 2 ** 20).toFixed(0)} MiB, every sha256 verified: ${manifest.parts.map((p) => `${p.name} (${p.role})`).join(', ')}`,
      role
        ? `  version skew: ${manifest.kubernetes} on a ${role} under a ${String(values['control-plane'])} control plane is within policy`
        : '  version skew: not checked (give --role and --control-plane)',
      '',
    ].join('\n'),
  );
  return 0;
}
