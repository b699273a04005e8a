// TEST ONLY. What the stand-in API server serves, in a 0600 file under the root (it holds bootstrap
// tokens, the certificate key and control-plane keys): written by `kubeadm init` and control-plane
// joins in network mode, read by `kiln-test-standins apiserver` on every request.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const APISERVER_STATE = '/var/lib/kiln-test/apiserver.json';

export interface ApiNode {
  name: string;
  labels: Record<string, string>;
  taints: Array<{ key: string; value?: string; effect: string }>;
  registered: string;
  /** Who registered it: the bootstrap token's user, or "kubeadm init" for the init node itself. */
  by: string;
}

export interface ApiState {
  /** host:port, the server of the cluster-info kubeconfig. */
  controlPlaneEndpoint: string;
  /** Bootstrap tokens ("id.secret") that sign cluster-info and authenticate. */
  tokens: string[];
  /** With --upload-certs: the key (64 hex digits) the kubeadm-certs Secret is encrypted with, and its certificates by Secret key. */
  certificateKey?: string;
  uploadedCerts?: Record<string, string>;
  /** The kubeadm-config ConfigMap's ClusterConfiguration (absent when upload-config was skipped). */
  clusterConfiguration?: Record<string, unknown>;
  nodes: Record<string, ApiNode>;
}

export function loadApiState(root: string): ApiState | undefined {
  const file = path.join(root, APISERVER_STATE);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ApiState) : undefined;
}

/** Written whole and renamed into place: the server may read it at any moment. */
export function saveApiState(root: string, state: ApiState): void {
  const file = path.join(root, APISERVER_STATE);
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
}
