// The contract between an image and its node agent: every path both sides name, and the shape of
// every file one writes and the other reads. The builder bakes these; kiln-firstboot reads them.
// Nothing here touches the system.

/** The kiln node config on the node: written from cloud-config's `kiln:` key or by an Ignition file. */
export const NODE_CONFIG_PATH = '/etc/kiln/node.yaml';

/** What the builder records about the image (overlays/node-tuning/etc/kiln/image.json.hbs). */
export const IMAGE_JSON = '/etc/kiln/image.json';

/** /etc/kiln/image.json: facts of the image the agent plans by. */
export interface ImageFacts {
  name: string;
  specHash: string;
  kilnVersion: string;
  sourceDateEpoch: number;
  suite: string;
  kubernetesVersion: string;
  kubernetesComponents: string[];
  runtime: 'containerd' | 'docker';
  sandboxImage: string;
  /** The image carries kubeadm's control-plane images: firstboot runs kubeadm with imagePullPolicy Never. */
  controlPlaneImagesPreloaded: boolean;
}

/** The image's KubeletConfiguration defaults (spec `node.kubelet`), merged under each node's settings. */
export const KUBELET_DEFAULTS = '/etc/kiln/kubelet-defaults.yaml';

/** Container image tarballs baked into the image (air-gap bundles), imported before kubeadm. */
export const PRELOAD_DIR = '/var/lib/kiln/images';

/** Extra manifests applied after the cluster is up. */
export const DEFAULT_MANIFESTS_DIR = '/etc/kiln/manifests';

/** Addon descriptors baked by the builder (builder/addons/resolve.ts writes them), one `<name>.json` each. */
export const ADDON_DIR = '/usr/share/kiln/addons';

/** The ed25519 public keys (SPKI PEM, `<keyId>.pub`) whose signatures this node accepts on update bundles. */
export const UPDATE_KEYS_DIR = '/usr/share/kiln/update-keys';

/** Charts baked into the image by the air-gap bundle; otherwise Helm fetches the release URL. */
export const CHART_DIR = '/usr/share/kiln/charts';

/** `ADDON_DIR/<name>.json`: a baked addon's chart, namespace, default values and the values a site must give. */
export interface AddonDescriptor {
  name: string;
  chart: string;
  /** The chart's own name (its Chart.yaml's; e.g. nfs-subdir-external-provisioner for nfs-provisioner). */
  chartName?: string;
  version: string;
  /** The baked archive's sha256, checked before helm reads it. */
  sha256?: string;
  /** What the rendered chart runs, as containerd names it (all preloaded). */
  images?: string[];
  namespace: string;
  values: Record<string, unknown>;
  requiredValues: string[];
}

/** The image's DHCP-everywhere fallback network; firstboot masks it when the metadata configures the network. */
export const DEFAULT_NETWORK = '/etc/systemd/network/99-kiln-default.network';

/** kubeadm's cluster networking when neither the cluster spec nor the node config names it. */
export const NETWORK_DEFAULTS = { podSubnet: '10.244.0.0/16', serviceSubnet: '10.96.0.0/12', dnsDomain: 'cluster.local' } as const;

/** The directories of firstboot's PATH: a tool it runs by name (helm) must be installed in one of them. */
export const NODE_PATH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin'] as const;

/** Whether a binary installed at `installPath` is the helm firstboot runs. */
export const isNodeHelm = (installPath: string): boolean => {
  const slash = installPath.lastIndexOf('/');
  return installPath.slice(slash + 1) === 'helm' && (NODE_PATH_DIRS as readonly string[]).includes(installPath.slice(0, slash));
};

/**
 * What `install` carries from the live system onto the installed disk's root, so that its first
 * boot continues with the seed the live system was given (fetched once) and reports to the same
 * server: the seed's bytes, and `INSTALLED_SOURCE` ({name, report?}). Both 0600.
 */
export const INSTALLED_SEED = '/var/lib/kiln/install/seed';
export const INSTALLED_SOURCE = '/var/lib/kiln/install/source.json';
export interface InstalledSource {
  /** The seed's name as the live system fetched it (ignition.json, user-data). */
  name: string;
  /** kiln.report= of the live boot. */
  report?: string;
  /** kiln.tls.ca= of the live boot (hex): the report goes to a server with that CA, as the seed came from one. */
  reportTlsPin?: string;
}
