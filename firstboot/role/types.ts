// The role plan's vocabulary: what a node is (config + facts), and the named steps that make it so.
// Rendering is pure (config + facts → files); running a step is where side effects live.
import type { NodeConfig } from '../../node/config/schema.ts';
import type { AddonDescriptor } from '../../node/layout.ts';

/** What the plan needs to know about the machine, gathered before planning (pure afterwards). */
export interface HostFacts {
  /** The image's KubeletConfiguration defaults (/etc/kiln/kubelet-defaults.yaml), parsed. */
  kubeletDefaults: Record<string, unknown>;
  /** Image tarballs to import into containerd before kubeadm (air-gap bundles), absolute paths. */
  preloadImages: string[];
  /** Whether /etc/kubernetes/manifests-style directory of extra manifests exists and is non-empty. */
  manifests: string[];
  /** Whether the image carries kubeadm's control-plane images (image spec images.kubernetes). */
  controlPlaneImagesPreloaded: boolean;
  /** Addons baked into the image, by name (/usr/share/kiln/addons/*.json). */
  addons: Record<string, AddonDescriptor>;
}

export interface RenderedFile {
  /** Absolute path on the node. */
  path: string;
  mode: number;
  contents: string;
  /** Holds a token or key: 0600, never logged. */
  secret?: boolean;
}

/**
 * The steps that do something beyond writing their files. Each runs the action of its own name
 * (actions.ts): one vocabulary for the plan, the runner and the journal.
 */
export type ActionName =
  | 'node-hosts'
  | 'keepalived'
  | 'wait-vip'
  | 'containerd'
  | 'preload-images'
  | 'kubeadm-init'
  | 'kubeadm-join'
  | 'wait-apiserver'
  | 'coredns-spread'
  | 'cilium'
  | 'addons'
  | 'manifests'
  | 'labels-taints'
  | 'etcd-snapshots';

/** The steps that only write their files. */
export type FilesOnlyStep = 'cluster-ca' | 'kubeadm-config';

/**
 * One step of a node's plan. Its name is unique and stable: the state journal records completion
 * by it. `action`: after its files, the step runs the action of its name (side effects beyond the
 * files; idempotent, safe to run again after a crash).
 */
export type PlannedStep = {
  why: string;
  /** Files the step writes (what `plan --render DIR` writes under DIR). */
  files: RenderedFile[];
} & ({ name: ActionName; action: true } | { name: FilesOnlyStep; action: false });

export type { NodeConfig };
