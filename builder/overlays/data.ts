// The values templates see, derived once from the resolved spec: pairs ready to print.
import type { ResolvedSpec } from '../spec/defaults.ts';
import type { SliceSettings, JournaldSettings } from '../spec/schema.ts';
import { KILN_VERSION } from '../../core/version.ts';
import type { ImageFacts } from '../../node/layout.ts';

const SLICE_DIRECTIVES: Array<[keyof SliceSettings, string]> = [
  ['cpuWeight', 'CPUWeight'],
  ['memoryLow', 'MemoryLow'],
  ['memoryHigh', 'MemoryHigh'],
  ['memoryMax', 'MemoryMax'],
  ['tasksMax', 'TasksMax'],
];

const JOURNALD_DIRECTIVES: Array<[keyof JournaldSettings, string]> = [
  ['storage', 'Storage'],
  ['compress', 'Compress'],
  ['systemMaxUse', 'SystemMaxUse'],
  ['systemKeepFree', 'SystemKeepFree'],
  ['systemMaxFileSize', 'SystemMaxFileSize'],
  ['runtimeMaxUse', 'RuntimeMaxUse'],
  ['maxRetentionSec', 'MaxRetentionSec'],
  ['rateLimitIntervalSec', 'RateLimitIntervalSec'],
  ['rateLimitBurst', 'RateLimitBurst'],
  ['forwardToSyslog', 'ForwardToSyslog'],
];

const systemdValue = (v: unknown) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v));

function directives<T extends object>(settings: T, table: Array<[keyof T, string]>): Array<[string, string]> {
  return table.filter(([key]) => settings[key] !== undefined).map(([key, name]) => [name, systemdValue(settings[key])]);
}

export function templateData(spec: ResolvedSpec) {
  const { slices, journald, kubelet } = spec.node;
  const image: ImageFacts = {
    name: spec.name,
    specHash: spec.hash,
    kilnVersion: KILN_VERSION,
    sourceDateEpoch: spec.sourceDateEpoch,
    suite: spec.base.suite,
    kubernetesVersion: spec.kubernetes.version,
    kubernetesComponents: spec.kubernetes.components,
    runtime: spec.runtime.engine,
    sandboxImage: spec.runtime.sandboxImage,
    // firstboot runs kubeadm with imagePullPolicy Never then
    controlPlaneImagesPreloaded: spec.images.kubernetes !== undefined,
  };
  return {
    spec,
    image,
    slices: {
      kubesvc: directives(slices.kubesvc, SLICE_DIRECTIVES),
      container: directives(slices.container, SLICE_DIRECTIVES),
      system: directives(slices.system, SLICE_DIRECTIVES),
    },
    journald: directives(journald, JOURNALD_DIRECTIVES),
    kubelet,
    docker: {
      'cgroup-parent': 'container.slice',
      'exec-opts': ['native.cgroupdriver=systemd'],
      hosts: spec.runtime.docker.hosts,
      'log-driver': 'journald',
      'log-opts': { tag: spec.runtime.docker.logTag },
      'metrics-addr': spec.runtime.docker.metricsAddress,
      'storage-driver': 'overlay2',
    },
  };
}
