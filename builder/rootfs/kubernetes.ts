// Facts about Kubernetes releases the builder needs without downloading anything.

/** The pause image kubeadm uses per minor release (kubeadm's constants.PauseVersion). */
const PAUSE_BY_MINOR: Record<number, string> = {
  28: '3.9',
  29: '3.9',
  30: '3.9',
  31: '3.10',
  32: '3.10',
  33: '3.10',
  34: '3.10.1',
};

function minorOf(version: string): number {
  return Number(/^v1\.([0-9]+)\./.exec(version)?.[1] ?? NaN);
}

export function pauseImageFor(version: string): string | undefined {
  const tag = PAUSE_BY_MINOR[minorOf(version)];
  return tag ? `registry.k8s.io/pause:${tag}` : undefined;
}
