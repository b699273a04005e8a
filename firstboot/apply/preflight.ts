// Everything that can be checked against the target root before the first write: owners that
// will not exist, files Ignition must not overwrite, time zones the image lacks.
import { readFileSync, lstatSync } from 'node:fs';
import type { Problem } from '../../core/problem.ts';
import { NODE_CONFIG_PATH } from '../../node/layout.ts';
import { type Owner, type Provisioning } from '../../node/model.ts';
import { addonProblems, readAddonDescriptors } from '../role/addons.ts';
import { readIds, under } from './fs.ts';

/** `runs`: the steps this run will apply; what belongs to other steps (done, or another pass) is not checked. */
export function preflightProblems(model: Provisioning, root: string, runs: (step: string) => boolean = () => true): Problem[] {
  const ids = readIds(root);
  const users = new Set([...ids.users.keys(), ...model.users.map((u) => u.name)]);
  const groups = new Set([
    ...ids.groups.keys(),
    ...model.groups.map((g) => g.name),
    ...model.users.filter((u) => !u.noUserGroup).map((u) => u.name),
  ]);
  const problems: Problem[] = [];
  const owner = (o: Owner | undefined, kind: 'user' | 'group', origin: { file: string; path: string }) => {
    if (o?.name !== undefined && !(kind === 'user' ? users : groups).has(o.name))
      problems.push({
        ...origin,
        path: `${origin.path}/${kind}`,
        message: `${kind} "${o.name}" does not exist on the node and is not created by this config`,
        hint: `add it to ${kind === 'user' ? 'users' : 'groups'}, or use a numeric id`,
        severity: 'error' as const,
      });
  };
  for (const e of [...model.files, ...model.directories, ...model.links]) {
    owner(e.user, 'user', e.origin);
    owner(e.group, 'group', e.origin);
  }
  for (const u of model.users) {
    for (const g of [...u.groups, ...(u.primaryGroup ? [u.primaryGroup] : [])])
      if (!groups.has(g))
        problems.push({
          ...u.origin,
          path: `${u.origin.path}/groups`,
          message: `group "${g}" does not exist on the node`,
          hint: 'create it under groups, or drop it from the user',
          severity: 'error' as const,
        });
  }
  for (const f of runs('files') ? model.files : []) {
    if (f.overwrite || !f.contents) continue;
    let current: Buffer | undefined;
    try {
      if (lstatSync(under(root, f.path)).isFile()) current = readFileSync(under(root, f.path));
      else current = Buffer.from('\0not a file');
    } catch {
      continue;
    }
    const wanted = f.contents.kind === 'inline' ? f.contents.data : undefined;
    if (!wanted || !current.equals(wanted))
      problems.push({
        ...f.origin,
        message: `${f.path} already exists on the node and overwrite is false`,
        hint: 'set "overwrite": true if kiln-firstboot may replace it',
        severity: 'error' as const,
      });
  }
  for (const l of runs('links') ? model.links : []) {
    if (l.overwrite) continue;
    try {
      lstatSync(under(root, l.path));
      problems.push({
        ...l.origin,
        message: `${l.path} already exists on the node and overwrite is false`,
        hint: 'set "overwrite": true if kiln-firstboot may replace it',
        severity: 'error' as const,
      });
    } catch {
      /* free */
    }
  }
  if (model.timezone && runs('timezone')) {
    try {
      lstatSync(under(root, `/usr/share/zoneinfo/${model.timezone}`));
    } catch {
      problems.push({
        file: 'user-data',
        path: '/timezone',
        message: `time zone "${model.timezone}" is not in the image's /usr/share/zoneinfo`,
        hint: 'use an IANA name such as Europe/Berlin or UTC (package tzdata)',
        severity: 'error' as const,
      });
    }
  }
  // a node config's addons must be installable from what this image holds
  if (model.node)
    for (const p of addonProblems(model.node, readAddonDescriptors(root)))
      problems.push({ file: NODE_CONFIG_PATH, ...p, severity: 'error' as const });
  return problems;
}
