// The generic provisioning steps, in order. Each is a named function over the apply context, with
// the condition that adds it; the early pass runs them before systemd-networkd starts.
import type { Provisioning } from '../../node/model.ts';
import { applyBootcmd, applyRuncmd } from './commands.ts';
import type { ApplyContext } from './context.ts';
import { applyGroups, applyHostname, applyUsers } from './identity.ts';
import { applyDirectories, applyFiles, applyLinks } from './storage.ts';
import { applyNetwork, applyNtp, applyTimezone, applyUnits } from './system.ts';

export type Pass = 'early' | 'late';

export interface Step {
  name: string;
  pass: Pass;
  when: (m: Provisioning) => boolean;
  /** Runs on every boot, not once per instance (cloud-init's bootcmd). */
  everyBoot?: boolean;
  /** Returns a short summary for the console: names and counts, never contents. */
  apply: (ctx: ApplyContext) => Promise<string>;
}

const STEPS: Step[] = [
  // every boot, as cloud-init's update_hostname: live-boot resets a live node's hostname each boot
  { name: 'hostname', pass: 'early', when: (m) => Boolean(m.hostname ?? m.fqdn), apply: applyHostname, everyBoot: true },
  { name: 'groups', pass: 'early', when: (m) => m.groups.length > 0, apply: applyGroups },
  { name: 'users', pass: 'early', when: (m) => m.users.length > 0, apply: applyUsers },
  { name: 'directories', pass: 'early', when: (m) => m.directories.length > 0, apply: applyDirectories },
  { name: 'files', pass: 'early', when: (m) => m.files.length > 0, apply: applyFiles },
  { name: 'links', pass: 'early', when: (m) => m.links.length > 0, apply: applyLinks },
  { name: 'units', pass: 'early', when: (m) => m.units.length > 0, apply: applyUnits },
  { name: 'network', pass: 'early', when: (m) => m.network.length > 0, apply: applyNetwork },
  { name: 'timezone', pass: 'early', when: (m) => m.timezone !== undefined, apply: applyTimezone },
  { name: 'ntp', pass: 'early', when: (m) => m.ntp !== undefined && m.ntp.servers.length + m.ntp.pools.length > 0, apply: applyNtp },
  { name: 'bootcmd', pass: 'early', when: (m) => m.bootcmd.length > 0, apply: applyBootcmd, everyBoot: true },
  { name: 'runcmd', pass: 'late', when: (m) => m.runcmd.length > 0, apply: applyRuncmd },
];

/** The steps a pass runs for this model; `all` when the early pass had to wait for the network. */
export function stepsFor(model: Provisioning, passes: Pass[]): Step[] {
  return STEPS.filter((s) => passes.includes(s.pass) && s.when(model));
}
