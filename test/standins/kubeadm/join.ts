// TEST ONLY. `kubeadm join`: a worker, or another control plane. Checks its configuration as
// kubeadm 1.31 does, runs discovery (the CA pin, the API server's answer) and the preflight
// checks, then simulates its phases: kubelet.conf, the cluster CA and the kubelet's files, and for
// control planes the shared certificates, kubeconfigs and static Pods; the node registers. In
// network mode discovery, the certificate download and the registration cross the network
// (network.ts); otherwise the cluster is simulated from the test knobs.
import { rmSync } from 'node:fs';
import { bool, list, str, type ParsedFlags } from '../flags.ts';
import { Refusal, STANDIN, parseYamlDocuments, type Ctx } from '../lib/context.ts';
import { makeKubeconfig } from '../lib/kubeconfig.ts';
import {
  KUBEADM,
  KUBELET,
  KUBEPROXY,
  byKind,
  defaultEndpoint,
  defaultNodeRegistration,
  readDocs,
  set,
  warnIgnored,
  type BootstrapTokenDiscovery,
  type ClusterConfiguration,
  type Doc,
  type JoinConfiguration,
} from './config.ts';
import { SHARED_CERTS, STUB_PEM, clusterCa, nodeState, registerNode, writeCerts, writeControlPlane, writeKubeconfig } from './effects.ts';
import { JOIN_FLAGS, JOIN_PHASES, checkMixedArguments, isSkipped, parseCommand, runOptions } from './flags.ts';
import { kubeletNodeLabels, writeKubeletConfig, writeKubeletFlags } from './kubelet.ts';
import { HELP, JOINED, kubeletFailure, missingSharedCerts } from './messages.ts';
import {
  discoverOverNetwork,
  downloadCerts,
  fetchClusterConfiguration,
  networkMode,
  postNode,
  serveCluster,
  signingCa,
  writeServingCert,
  type Discovered,
} from './network.ts';
import { loadPatches } from './patches.ts';
import { dirAvailable, fileAvailable, ipForwardCheck, machineChecks, runChecks, staticPodChecks } from './preflight.ts';
import { VALIDATION_EXIT, validateJoin } from './validate.ts';

const PKI = '/etc/kubernetes/pki';

export async function join(args: string[], ctx: Ctx): Promise<number> {
  const p = parseCommand(args, JOIN_FLAGS);
  if (bool(p, 'help')) {
    ctx.out(HELP.join);
    return 0;
  }
  if (p.positional[0] === 'phase') throw new Refusal(`${STANDIN} "kubeadm join phase" is not simulated by the test stand-in`);
  checkMixedArguments(p);
  if (p.values.has('config') && p.positional.length > 0)
    throw new Refusal(
      `${STANDIN} kubeadm join --config with an [api-server-endpoint] argument: kubeadm ignores the argument when a config is given; put it in discovery.bootstrapToken.apiServerEndpoint`,
    );
  const docs = readDocs(ctx, p, docsFromFlags);
  const joins = byKind<JoinConfiguration>(docs, KUBEADM, 'JoinConfiguration');
  if (joins.length !== 1)
    throw new Refusal(
      `${STANDIN} kubeadm join: the config needs exactly one ${KUBEADM} JoinConfiguration; found ${joins.length}`,
      VALIDATION_EXIT,
    );
  const ignoredByJoin = docs.filter(
    (d) => (d.apiVersion === KUBEADM && d.kind === 'ClusterConfiguration') || d.apiVersion === KUBELET || d.apiVersion === KUBEPROXY,
  );
  if (ignoredByJoin.length > 0)
    throw new Refusal(
      `${STANDIN} kubeadm join ignores ${ignoredByJoin.map((d) => d.kind).join(', ')}: a joining node takes them from the cluster (the kubeadm-config and kubelet-config ConfigMaps). Per-node kubelet settings go in a patch (patches.directory, target "kubeletconfiguration").`,
      VALIDATION_EXIT,
    );
  warnIgnored(ctx, docs, ['JoinConfiguration']);

  const j = structuredClone(joins[0]!);
  const reg = (j.nodeRegistration ??= {});
  defaultNodeRegistration(ctx, p, reg);
  j.caCertPath ??= `${PKI}/ca.crt`;
  if (j.discovery?.bootstrapToken && !j.discovery.tlsBootstrapToken) j.discovery.tlsBootstrapToken = j.discovery.bootstrapToken.token;
  if (j.controlPlane) defaultEndpoint((j.controlPlane.localAPIEndpoint ??= {}));
  validateJoin(ctx, j);
  const { ignore, skip, dryRun } = runOptions(p, j, JOIN_PHASES);
  const controlPlane = Boolean(j.controlPlane);
  const b = j.discovery?.bootstrapToken;
  const tlsToken = String(j.discovery?.tlsBootstrapToken ?? '');

  const preflight = !isSkipped(skip, 'preflight');
  if (preflight) {
    ctx.out('[preflight] Running pre-flight checks\n');
    const caFile = controlPlane ? [] : [fileAvailable(ctx, String(j.caCertPath))];
    runChecks(
      ctx,
      [
        ...machineChecks(ctx, false),
        fileAvailable(ctx, '/etc/kubernetes/kubelet.conf'),
        fileAvailable(ctx, '/etc/kubernetes/bootstrap-kubelet.conf'),
        ...caFile,
        ...ipForwardCheck(ctx),
      ],
      ignore,
    );
  }
  // discovery does not belong to preflight: the first phase that needs the cluster's configuration runs it
  const discoveryPhase = discoveryPhases(j).find((phase) => !isSkipped(skip, phase));
  const found = discoveryPhase ? await discover(ctx, b, discoveryPhase) : undefined;
  // kubeadm reads the cluster's ClusterConfiguration from its kubeadm-config ConfigMap
  const clusterConfig = found ? await fetchClusterConfiguration(found, tlsToken, discoveryPhase!) : undefined;
  if (preflight) {
    ctx.out(
      "[preflight] Reading configuration from the cluster...\n[preflight] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config -o yaml'\n",
    );
    if (controlPlane) {
      ctx.out('[preflight] Running pre-flight checks before initializing the new control plane instance\n');
      runChecks(
        ctx,
        [
          ...machineChecks(ctx, true).filter((c) => c.name !== 'IsPrivilegedUser'),
          ...staticPodChecks(ctx),
          dirAvailable(ctx, '/var/lib/etcd'),
        ],
        ignore,
      );
      const missing = j.controlPlane!.certificateKey ? [] : SHARED_CERTS.filter((f) => !ctx.exists(`${PKI}/${f}`));
      if (missing.length > 0) throw missingSharedCerts(PKI, missing);
    }
  }

  const patches = loadPatches(ctx, j.patches?.directory);
  const { labels, kubeletError } = kubeletNodeLabels(reg);
  // the TLS bootstrap client talks to the server cluster-info names, trusting the CA found
  const server = found ? found.server : `https://${b ? b.apiServerEndpoint : 'kubernetes'}`;
  const caData = found ? Buffer.from(found.ca).toString('base64') : undefined;
  const cluster: ClusterConfiguration = {
    kubernetesVersion: ctx.kubeVersion(),
    etcd: { local: { dataDir: '/var/lib/etcd' } },
    networking: { serviceSubnet: '10.96.0.0/12', dnsDomain: 'cluster.local' },
    certificatesDir: PKI,
    ...clusterConfig,
  };
  const taints = Array.isArray(reg.taints) ? reg.taints : undefined;
  const mark = controlPlane && !isSkipped(skip, 'control-plane-join/mark-control-plane');
  if (dryRun) {
    ctx.out(`[dryrun] ${STANDIN} would write the kubelet's configuration and kubeconfig; nothing was written\n`);
    return 0;
  }
  let downloaded: Record<string, string> | undefined;
  let serving = false;
  if (controlPlane) {
    if (!isSkipped(skip, 'control-plane-prepare/download-certs') && j.controlPlane!.certificateKey) {
      ctx.out('[download-certs] Downloading the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace\n');
      if (found) downloaded = await downloadCerts(ctx, found, tlsToken, String(j.controlPlane!.certificateKey));
      else writeCerts(ctx, PKI, true);
    }
    if (!isSkipped(skip, 'control-plane-prepare/certs')) {
      const ca = found ? signingCa(ctx) : undefined;
      if (ca) await writeServingCert(ctx, ca, cluster, String(reg.name), String(j.controlPlane!.localAPIEndpoint!.advertiseAddress));
      serving = Boolean(ca);
      writeCerts(ctx, PKI, false);
    }
    if (!isSkipped(skip, 'control-plane-prepare/kubeconfig')) {
      ctx.out('[kubeconfig] Using kubeconfig folder "/etc/kubernetes"\n');
      for (const name of ['admin', 'controller-manager', 'scheduler'] as const)
        writeKubeconfig(ctx, name, { server, clusterName: 'kubernetes', nodeName: reg.name, caData });
    }
    writeControlPlane(ctx, cluster, j.controlPlane!.localAPIEndpoint!, patches, skip, {
      etcd: 'etcd-join',
      cp: 'control-plane-prepare/control-plane',
    });
  }
  if (!isSkipped(skip, 'kubelet-start')) {
    if (!controlPlane && !ctx.exists(String(j.caCertPath))) {
      const ca = found ? { pem: found.ca.trimEnd() } : clusterCa(ctx);
      ctx.write(String(j.caCertPath), ca ? `${ca.pem}\n` : STUB_PEM('CERTIFICATE'));
    }
    ctx.write(
      '/etc/kubernetes/bootstrap-kubelet.conf',
      makeKubeconfig({ server, clusterName: 'kubernetes', user: 'tls-bootstrap-token-user', ...(caData ? { caData } : {}) }),
      0o600,
    );
    const kubeletConfig = ctx.knob('cluster-kubelet-config.yaml');
    writeKubeletConfig(
      ctx,
      kubeletConfig !== undefined ? (parseYamlDocuments(kubeletConfig).docs[0] as Doc | undefined) : undefined,
      cluster,
      reg,
      patches,
    );
    writeKubeletFlags(ctx, reg);
    ctx.out(
      '[kubelet-start] Starting the kubelet\n[kubelet-check] Waiting for a healthy kubelet at http://127.0.0.1:10248/healthz. This can take up to 4m0s\n',
    );
    if (kubeletError) throw kubeletFailure('kubelet-start', kubeletError);
    ctx.out('[kubelet-check] The kubelet is healthy after 1.0s\n[kubelet-start] Waiting for the kubelet to perform the TLS Bootstrap\n');
    // the kubelet registers its Node before kubelet.conf exists: a failure leaves the join undone, to retry
    if (found) await postNode(found, tlsToken, String(reg.name), nodeState(String(reg.name), labels, taints, mark));
    rmSync(ctx.host('/etc/kubernetes/bootstrap-kubelet.conf'), { force: true });
    ctx.write(
      '/etc/kubernetes/kubelet.conf',
      makeKubeconfig({ server, clusterName: 'kubernetes', user: `system:node:${reg.name}`, ...(caData ? { caData } : {}) }),
      0o600,
    );
  }
  registerNode(ctx, reg.name, labels, taints, mark);
  if (found && serving) {
    // this control plane serves the cluster too: the token it joined with, the certificates it downloaded
    const certificateKey = downloaded ? String(j.controlPlane!.certificateKey) : undefined;
    const uploadedCerts = downloaded && Object.fromEntries(Object.entries(downloaded).filter(([, pem]) => pem));
    await serveCluster(
      ctx,
      {
        controlPlaneEndpoint: new URL(found.server).host,
        tokens: [tlsToken],
        ...(certificateKey ? { certificateKey, uploadedCerts } : {}),
        ...(clusterConfig ? { clusterConfiguration: clusterConfig } : {}),
        nodes: {},
      },
      'control-plane-join',
    );
  }
  ctx.out(controlPlane ? JOINED.controlPlane : JOINED.worker);
  return 0;
}

/**
 * The phases that fetch the cluster's configuration, so run discovery when they are the first one
 * not skipped: preflight reads it; otherwise a control plane's certificate download (with a
 * certificate key) or its other preparation, and kubelet-start (kubeadm's joinData.InitCfg()).
 */
function discoveryPhases(j: JoinConfiguration): string[] {
  if (!j.controlPlane) return ['preflight', 'kubelet-start'];
  const download = j.controlPlane.certificateKey ? ['control-plane-prepare/download-certs'] : [];
  return [
    'preflight',
    ...download,
    'control-plane-prepare/certs',
    'control-plane-prepare/kubeconfig',
    'control-plane-prepare/control-plane',
    'kubelet-start',
  ];
}

/**
 * Token discovery (discovery/token): the pins are parsed, the API server is asked for the
 * cluster-info ConfigMap (refused while the `join-failures` knob counts down), and the cluster CA
 * (the `cluster-ca.crt` knob) must match one of the pins. In network mode the real API server is
 * asked (network.ts) and what it found is returned.
 */
async function discover(ctx: Ctx, b: BootstrapTokenDiscovery | undefined, phase: string): Promise<Discovered | undefined> {
  const fail = (why: string) => new Refusal(`error execution phase ${phase}: couldn't validate the identity of the API Server: ${why}`);
  const pins = ((b?.caCertHashes ?? []) as string[]).map((h) => {
    const problem = pinProblem(h);
    if (problem) throw fail(`invalid discovery token CA certificate hash: ${problem}`);
    return h.split(':')[1]!.toLowerCase();
  });
  const server = b ? String(b.apiServerEndpoint) : 'the discovery file';
  if (ctx.takeFailure('join-failures'))
    throw fail(
      `failed to request the cluster-info ConfigMap: Get "https://${server}/api/v1/namespaces/kube-public/configmaps/cluster-info?timeout=10s": dial tcp ${server}: connect: connection refused`,
    );
  if (b && networkMode(ctx)) return discoverOverNetwork(b, pins, fail);
  const ca = clusterCa(ctx);
  // no pins: kubeadm takes the CA unverified (unsafeSkipCAVerification was checked by validation)
  if (b && ca && pins.length > 0 && !pins.includes(ca.pin.slice('sha256:'.length)))
    throw fail(`cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "${ca.pin}" are pinned`);
  return undefined;
}

/** pubkeypin.Set.Allow's complaint about one pin, if any. */
function pinProblem(pin: string): string | undefined {
  const parts = pin.split(':');
  if (parts.length !== 2) return 'invalid hash, expected "format:hex-value". Known format(s) are: sha256';
  const [format, value] = parts as [string, string];
  if (format.toLowerCase() !== 'sha256') return `unknown hash format ${JSON.stringify(format)}. Known format(s) are: sha256`;
  if (Math.floor(value.length / 2) !== 32)
    return `invalid hash ${JSON.stringify(pin)}, expected a 32 byte SHA-256 hash, found ${Math.floor(value.length / 2)} bytes`;
  const bad = value.search(/[^0-9a-fA-F]/);
  if (bad !== -1)
    return `invalid hash ${JSON.stringify(pin)}, could not decode SHA-256 from hex: encoding/hex: invalid byte: U+${value.charCodeAt(bad).toString(16).toUpperCase().padStart(4, '0')} '${value[bad]}'`;
  if (value.length % 2 !== 0)
    return `invalid hash ${JSON.stringify(pin)}, could not decode SHA-256 from hex: encoding/hex: odd length hex string`;
  return undefined;
}

function docsFromFlags(p: ParsedFlags): Doc[] {
  const j: JoinConfiguration = { apiVersion: KUBEADM, kind: 'JoinConfiguration' };
  const token = str(p, 'token');
  const endpoint = p.positional[0];
  if (str(p, 'discovery-file')) j.discovery = { file: { kubeConfigPath: str(p, 'discovery-file') } };
  else if (str(p, 'discovery-token') ?? token ?? endpoint) {
    j.discovery = {
      bootstrapToken: {
        ...(endpoint ? { apiServerEndpoint: endpoint } : {}),
        token: str(p, 'discovery-token') ?? token ?? '',
        ...(list(p, 'discovery-token-ca-cert-hash').length ? { caCertHashes: list(p, 'discovery-token-ca-cert-hash') } : {}),
        ...(bool(p, 'discovery-token-unsafe-skip-ca-verification') ? { unsafeSkipCAVerification: true } : {}),
      },
    };
  }
  const tls = str(p, 'tls-bootstrap-token') ?? token;
  if (tls) (j.discovery ??= {}).tlsBootstrapToken = tls;
  if (str(p, 'node-name')) set(j, 'nodeRegistration.name', str(p, 'node-name'));
  if (str(p, 'cri-socket')) set(j, 'nodeRegistration.criSocket', str(p, 'cri-socket'));
  if (str(p, 'patches')) set(j, 'patches.directory', str(p, 'patches'));
  if (bool(p, 'control-plane')) {
    j.controlPlane = {};
    if (str(p, 'certificate-key')) j.controlPlane.certificateKey = str(p, 'certificate-key');
    if (str(p, 'apiserver-advertise-address'))
      set(j, 'controlPlane.localAPIEndpoint.advertiseAddress', str(p, 'apiserver-advertise-address'));
    if (p.values.has('apiserver-bind-port')) set(j, 'controlPlane.localAPIEndpoint.bindPort', p.values.get('apiserver-bind-port'));
  }
  return [j];
}
