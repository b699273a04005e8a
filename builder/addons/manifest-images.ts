// The container images a chart's rendered manifests run (pure): every container, init container and
// ephemeral container of every pod template, found by the kind's pod-spec path, in first-seen order.
import { ValidationError } from '../../core/errors.ts';
import { readYamlStream } from '../../core/yaml.ts';

/** Where each workload kind keeps its pod spec; a kind not listed runs no pods of its own. */
const POD_SPEC_PATHS: ReadonlyArray<{ kinds: readonly string[]; path: readonly string[] }> = [
  { kinds: ['Pod'], path: ['spec'] },
  { kinds: ['Deployment', 'DaemonSet', 'StatefulSet', 'ReplicaSet', 'ReplicationController', 'Job'], path: ['spec', 'template', 'spec'] },
  { kinds: ['CronJob'], path: ['spec', 'jobTemplate', 'spec', 'template', 'spec'] },
  { kinds: ['PodTemplate'], path: ['template', 'spec'] },
];

const CONTAINER_LISTS = ['initContainers', 'containers', 'ephemeralContainers'] as const;

export interface ManifestImage {
  ref: string;
  /** Who runs it: `DaemonSet/kube-system/cilium-envoy container cilium-envoy`. */
  usedBy: string;
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function podSpec(doc: Record<string, unknown>): Record<string, unknown> | undefined {
  const entry = POD_SPEC_PATHS.find((e) => e.kinds.includes(String(doc.kind)));
  const spec = entry?.path.reduce<unknown>((v, k) => (isMap(v) ? v[k] : undefined), doc);
  return isMap(spec) ? spec : undefined;
}

/** Every image the manifests name, once each (the first user kept); `source` names the text in errors. */
export function manifestImages(text: string, source: string): ManifestImage[] {
  const seen = new Map<string, ManifestImage>();
  for (const { value } of readYamlStream(text, source, { duplicateKeys: 'last-wins' })) {
    // `helm template` prints a List only for a chart that templates one itself
    const docs = isMap(value) && value.kind === 'List' && Array.isArray(value.items) ? value.items : [value];
    for (const doc of docs) {
      if (!isMap(doc)) continue;
      const spec = podSpec(doc);
      if (!spec) continue;
      const meta = isMap(doc.metadata) ? doc.metadata : {};
      const owner = [String(doc.kind), ...(meta.namespace ? [String(meta.namespace)] : []), String(meta.name ?? '?')].join('/');
      for (const list of CONTAINER_LISTS) {
        const containers = spec[list];
        if (containers === undefined || containers === null) continue;
        if (!Array.isArray(containers))
          throw new ValidationError([
            {
              file: source,
              path: '',
              message: `${owner}: ${list} is not a list`,
              hint: 'the chart renders a malformed pod spec',
              severity: 'error',
            },
          ]);
        for (const c of containers) {
          const image = isMap(c) ? c.image : undefined;
          const usedBy = `${owner} ${list === 'containers' ? 'container' : list.replace(/s$/, '').replace(/C/, ' c')} ${isMap(c) ? String(c.name ?? '?') : '?'}`;
          if (typeof image !== 'string' || image.trim() === '')
            throw new ValidationError([
              {
                file: source,
                path: '',
                message: `${usedBy} names no image`,
                hint: 'set the image through the chart values',
                severity: 'error',
              },
            ]);
          if (!seen.has(image)) seen.set(image, { ref: image, usedBy });
        }
      }
    }
  }
  return [...seen.values()];
}
