// How fast the cluster notices a node is gone (pure). Three settings must agree: kubelet posts its
// status every nodeStatusUpdateFrequency; kube-controller-manager looks every nodeMonitorPeriod
// and marks a node NotReady after nodeMonitorGracePeriod without a post. The grace period must
// allow kubelet several missed posts, or a busy node flaps NotReady.
import type { NodeConfig } from './schema.ts';

type NodeHealth = NonNullable<NodeConfig['cluster']['nodeHealth']>;

/** Posts a node may miss before it counts as gone (kubelet retries a failed post, nodeStatusUpdateRetry). */
export const MISSED_POSTS = 4;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000 };

/** A duration of the schema's shape (40s, 500ms, 2m) in milliseconds. */
export function durationMs(text: string): number {
  const m = /^([0-9]+)(ms|s|m)$/.exec(text);
  return m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
}

/** The three settings from one grace period in seconds, in Kubernetes' own proportions (40s, 5s, 10s). */
export function nodeHealthFor(graceSeconds: number): NodeHealth {
  const update = Math.max(1, Math.floor(graceSeconds / MISSED_POSTS));
  const monitor = Math.max(1, Math.round(graceSeconds / 8));
  return { nodeMonitorGracePeriod: `${graceSeconds}s`, nodeMonitorPeriod: `${monitor}s`, nodeStatusUpdateFrequency: `${update}s` };
}

/** Why these settings would make nodes flap or be noticed late; empty when they agree. */
export function nodeHealthProblems(h: NodeHealth): Array<{ field: keyof NodeHealth; message: string; hint: string }> {
  const [grace, monitor, update] = [h.nodeMonitorGracePeriod, h.nodeMonitorPeriod, h.nodeStatusUpdateFrequency].map(durationMs) as [
    number,
    number,
    number,
  ];
  const out: Array<{ field: keyof NodeHealth; message: string; hint: string }> = [];
  if (grace < MISSED_POSTS * update)
    out.push({
      field: 'nodeMonitorGracePeriod',
      message: `${h.nodeMonitorGracePeriod} is less than ${MISSED_POSTS} status posts (nodeStatusUpdateFrequency ${h.nodeStatusUpdateFrequency})`,
      hint: `a node that misses one post would be marked NotReady: make the grace period at least ${MISSED_POSTS}× nodeStatusUpdateFrequency`,
    });
  if (monitor >= grace)
    out.push({
      field: 'nodeMonitorPeriod',
      message: `${h.nodeMonitorPeriod} is not shorter than the grace period ${h.nodeMonitorGracePeriod}`,
      hint: 'the controller must look several times within the grace period (Kubernetes: 5s of 40s)',
    });
  return out;
}
