// TEST ONLY. What the Kubernetes binaries the stand-ins play (kubeadm, kubectl, the API server)
// say about their version and platform.

/** Go's name for this machine's architecture (GOARCH): node says x64 where Go says amd64. */
export const GOARCH = process.arch === 'x64' ? 'amd64' : process.arch;

/** k8s.io/apimachinery's version.Info of a binary claiming `gitVersion` (e.g. v1.31.4). */
export function versionInfo(gitVersion: string) {
  const [major, minor] = gitVersion.slice(1).split('.');
  return {
    major: major ?? '1',
    minor: minor ?? '0',
    gitVersion,
    gitCommit: 'kiln-test-standin',
    gitTreeState: 'clean',
    buildDate: '2024-12-10T11:43:21Z',
    goVersion: 'go1.22.9',
    compiler: 'gc',
    platform: `linux/${GOARCH}`,
  };
}
