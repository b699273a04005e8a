// TEST ONLY. `kubeadm init`: the first control plane. Checks its configuration as kubeadm 1.31
// does, runs the preflight checks, then simulates its phases: certificates, kubeconfigs, static
// Pods, the kubelet's files, the node registered with the control-plane label and taint. In network
// mode it also signs a real apiserver.crt and starts the stand-in API server (network.ts).
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { bool, list, str, type ParsedFlags } from '../flags.ts';
import { Refusal, STANDIN, type Ctx } from '../lib/context.ts';
import { splitHostPort } from '../lib/validate.ts';
import {
  KUBEADM,
  KUBELET,
  byKind,
  defaultEndpoint,
  defaultNodeRegistration,
  readDocs,
  set,
  warnIgnored,
  type BootstrapToken,
  type ClusterConfiguration,
  type Doc,
  type InitConfiguration,
} from './config.ts';
import { caPin, nodeState, registerNode, writeCerts, writeControlPlane, writeKubeconfig, type KubeconfigName } from './effects.ts';
import { INIT_FLAGS, INIT_PHASES, checkMixedArguments, isSkipped, parseCommand, runOptions } from './flags.ts';
import { kubeletNodeLabels, writeKubeletConfig, writeKubeletFlags } from './kubelet.ts';
import { HELP, INIT_DONE, PULLING_IMAGES, joinCommands, kubeletFailure } from './messages.ts';
import { networkMode, serveCluster, sharedCerts, signingCa, writeServingCert } from './network.ts';
import { loadPatches } from './patches.ts';
import { checkKubernetesVersion, dirAvailable, ipForwardCheck, machineChecks, runChecks, staticPodChecks } from './preflight.ts';
import { VALIDATION_EXIT, validateInit } from './validate.ts';

/** The pin init shows when the CA is the stand-in's own stub (no certificate, so no pin). */
const NO_PIN = 'sha256:kiln-test-standin-stub-ca-has-no-pin';

export async function init(args: string[], ctx: Ctx): Promise<number> {
  const p = parseCommand(args, INIT_FLAGS);
  if (bool(p, 'help')) {
    ctx.out(HELP.init);
    return 0;
  }
  if (p.positional[0] === 'phase') throw new Refusal(`${STANDIN} "kubeadm init phase" is not simulated by the test stand-in`);
  if (p.positional.length > 0) throw new Refusal(`unknown command "${p.positional[0]}" for "kubeadm init"`);
  checkMixedArguments(p);
  const docs = readDocs(ctx, p, docsFromFlags);
  const inits = byKind<InitConfiguration>(docs, KUBEADM, 'InitConfiguration');
  if (inits.length !== 1)
    throw new Refusal(
      `${STANDIN} kubeadm init: the config needs exactly one ${KUBEADM} InitConfiguration (kiln always renders one); found ${inits.length}`,
      VALIDATION_EXIT,
    );
  warnIgnored(ctx, docs, ['InitConfiguration', 'ClusterConfiguration']);
  const initCfg = structuredClone(inits[0]!);
  const cluster: ClusterConfiguration = structuredClone(
    byKind<ClusterConfiguration>(docs, KUBEADM, 'ClusterConfiguration')[0] ?? { apiVersion: KUBEADM, kind: 'ClusterConfiguration' },
  );
  const kubeletDoc = byKind(docs, KUBELET, 'KubeletConfiguration')[0];

  // defaulting
  const reg = (initCfg.nodeRegistration ??= {});
  defaultNodeRegistration(ctx, p, reg);
  const endpoint = (initCfg.localAPIEndpoint ??= {});
  defaultEndpoint(endpoint);
  cluster.clusterName ??= 'kubernetes';
  cluster.certificatesDir ??= '/etc/kubernetes/pki';
  const net = (cluster.networking ??= {});
  net.serviceSubnet ??= '10.96.0.0/12';
  net.dnsDomain ??= 'cluster.local';
  cluster.etcd ??= {};
  if (!cluster.etcd.external) cluster.etcd.local = { dataDir: '/var/lib/etcd', ...(cluster.etcd.local ?? {}) };
  if (!Array.isArray(initCfg.bootstrapTokens) || initCfg.bootstrapTokens.length === 0) initCfg.bootstrapTokens = [{}];
  for (const t of initCfg.bootstrapTokens as BootstrapToken[]) t.token ??= randomToken();

  validateInit(initCfg, cluster);
  const { ignore, skip, dryRun } = runOptions(p, initCfg, INIT_PHASES);
  const versionChecks = checkKubernetesVersion(ctx, cluster);

  ctx.out(`[init] Using Kubernetes version: ${cluster.kubernetesVersion}\n`);
  if (!isSkipped(skip, 'preflight')) {
    ctx.out('[preflight] Running pre-flight checks\n');
    const etcdDir = cluster.etcd.local ? [dirAvailable(ctx, String(cluster.etcd.local.dataDir))] : [];
    runChecks(ctx, [...machineChecks(ctx, true), ...versionChecks, ...staticPodChecks(ctx), ...ipForwardCheck(ctx), ...etcdDir], ignore);
    ctx.out(PULLING_IMAGES);
  }
  const patches = loadPatches(ctx, initCfg.patches?.directory);

  const uploadCerts = bool(p, 'upload-certs') && !isSkipped(skip, 'upload-certs');
  if (bool(p, 'upload-certs') && !initCfg.certificateKey) initCfg.certificateKey = randomBytes(32).toString('hex');
  const { labels, kubeletError } = kubeletNodeLabels(reg);
  const certDir = String(cluster.certificatesDir);
  const token = String((initCfg.bootstrapTokens as BootstrapToken[])[0]!.token);
  const local = endpointWithPort(String(endpoint.advertiseAddress), Number(endpoint.bindPort));
  const cpEndpoint = cluster.controlPlaneEndpoint
    ? endpointWithPort(String(cluster.controlPlaneEndpoint), Number(endpoint.bindPort))
    : local;
  const taints = Array.isArray(reg.taints) ? reg.taints : undefined;
  const mark = !isSkipped(skip, 'mark-control-plane');
  // network mode needs the real cluster CA kiln placed: it signs the API server's certificate
  const ca = !dryRun && networkMode(ctx) ? signingCa(ctx, certDir) : undefined;

  if (dryRun) {
    ctx.out(
      `[dryrun] ${STANDIN} would write certificates, kubeconfigs, static Pod manifests and the kubelet configuration; nothing was written\n`,
    );
  } else {
    if (!isSkipped(skip, 'certs')) {
      ctx.out(`[certs] Using certificateDir folder "${certDir}"\n`);
      if (ctx.exists(`${certDir}/ca.crt`)) ctx.out('[certs] Using existing ca certificate authority\n');
      if (ca && !isSkipped(skip, 'certs/apiserver'))
        await writeServingCert(ctx, ca, cluster, String(reg.name), String(endpoint.advertiseAddress));
      writeCerts(ctx, certDir, false);
    }
    if (!isSkipped(skip, 'kubeconfig')) {
      ctx.out('[kubeconfig] Using kubeconfig folder "/etc/kubernetes"\n');
      const caData = ctx.exists(`${certDir}/ca.crt`) ? Buffer.from(ctx.read(`${certDir}/ca.crt`)).toString('base64') : undefined;
      for (const name of ['admin', 'super-admin', 'kubelet', 'controller-manager', 'scheduler'] as KubeconfigName[]) {
        if (isSkipped(skip, `kubeconfig/${name}`)) continue;
        // the controller-manager and scheduler talk to their own API server
        const server = `https://${name === 'controller-manager' || name === 'scheduler' ? local : cpEndpoint}`;
        writeKubeconfig(ctx, name, { server, clusterName: String(cluster.clusterName), nodeName: reg.name, caData });
      }
    }
    writeControlPlane(ctx, cluster, endpoint, patches, skip, { etcd: 'etcd/local', cp: 'control-plane' });
    if (!isSkipped(skip, 'kubelet-start')) {
      writeKubeletFlags(ctx, reg);
      writeKubeletConfig(ctx, kubeletDoc, cluster, reg, patches);
      ctx.out('[kubelet-start] Starting the kubelet\n');
    }
    if (kubeletError) throw kubeletFailure('wait-control-plane', kubeletError);
    ctx.out(
      '[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods from directory "/etc/kubernetes/manifests"\n',
    );
    if (ca) {
      // what the phases below upload, saved at once: the API server reads it on every request
      const tokens = isSkipped(skip, 'bootstrap-token') ? [] : (initCfg.bootstrapTokens as BootstrapToken[]).map((t) => String(t.token));
      const self = { ...nodeState(String(reg.name), labels, mark ? taints : [], mark), name: String(reg.name), by: 'kubeadm init' };
      await serveCluster(
        ctx,
        {
          controlPlaneEndpoint: cpEndpoint,
          tokens,
          ...(uploadCerts ? { certificateKey: String(initCfg.certificateKey), uploadedCerts: sharedCerts(ctx) } : {}),
          ...(isSkipped(skip, 'upload-config') ? {} : { clusterConfiguration: cluster }),
          nodes: { [self.name]: self },
        },
        'wait-control-plane',
      );
    }
    ctx.out('[api-check] The API server is healthy after 1.0s\n');
  }
  if (!isSkipped(skip, 'upload-config'))
    ctx.out('[upload-config] Storing the configuration used in ConfigMap "kubeadm-config" in the "kube-system" Namespace\n');
  if (uploadCerts) {
    ctx.out('[upload-certs] Storing the certificates in Secret "kubeadm-certs" in the "kube-system" Namespace\n');
    ctx.out(`[upload-certs] Using certificate key:\n${bool(p, 'skip-certificate-key-print') ? '' : `${initCfg.certificateKey}\n`}`);
  } else if (!isSkipped(skip, 'upload-certs')) ctx.out('[upload-certs] Skipping phase. Please see --upload-certs\n');
  if (mark)
    ctx.out(
      `[mark-control-plane] Marking the node ${reg.name} as control-plane by adding the labels: [node-role.kubernetes.io/control-plane node.kubernetes.io/exclude-from-external-load-balancers]\n` +
        `[mark-control-plane] Marking the node ${reg.name} as control-plane by adding the taints [${(taints ?? [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }]).map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`).join(' ')}]\n`,
    );
  if (!isSkipped(skip, 'bootstrap-token')) {
    if (!bool(p, 'skip-token-print')) ctx.out(`[bootstrap-token] Using token: ${token}\n`);
    ctx.out('[bootstrap-token] Configuring bootstrap tokens, cluster-info ConfigMap, RBAC Roles\n');
  }
  if (!isSkipped(skip, 'addon/coredns')) ctx.out('[addons] Applied essential addon: CoreDNS\n');
  if (!isSkipped(skip, 'addon/kube-proxy')) ctx.out('[addons] Applied essential addon: kube-proxy\n');

  if (!dryRun) registerNode(ctx, reg.name, labels, mark ? taints : [], mark);
  // the CoreDNS Deployment the addon phase creates (kubectl patch finds it there)
  if (!dryRun && !isSkipped(skip, 'addon/coredns')) {
    const state = ctx.loadState();
    state.objects['apps/Deployment/kube-system/coredns'] ??= 'kubeadm';
    ctx.saveState(state);
  }

  if (!isSkipped(skip, 'show-join-command')) {
    const shownToken = bool(p, 'skip-token-print') ? '<value withheld>' : token;
    const join = `kubeadm join ${cpEndpoint} --token ${shownToken} \\\n\t--discovery-token-ca-cert-hash ${shownPin(ctx, `${certDir}/ca.crt`)}`;
    ctx.out(INIT_DONE);
    const certificateKey = bool(p, 'skip-certificate-key-print') ? '<value withheld>' : String(initCfg.certificateKey);
    ctx.out(joinCommands(join, { controlPlaneEndpoint: Boolean(cluster.controlPlaneEndpoint), uploadCerts, certificateKey }));
  }
  return 0;
}

/** The CA's pin for the join command; the stand-in's stub CA has none, which it says. */
function shownPin(ctx: Ctx, caFile: string): string {
  const pin = ctx.exists(caFile) ? caPin(ctx.read(caFile)) : undefined;
  if (pin) return pin;
  ctx.warn(`${STANDIN} ${caFile} is not a certificate (the stand-in's stub, or missing): the join command shows ${NO_PIN}`);
  return NO_PIN;
}

function docsFromFlags(p: ParsedFlags): Doc[] {
  const init: Doc = { apiVersion: KUBEADM, kind: 'InitConfiguration' };
  const cluster: Doc = { apiVersion: KUBEADM, kind: 'ClusterConfiguration' };
  const s = (flag: string, doc: Doc, key: string) => {
    const v = str(p, flag);
    if (v !== undefined) set(doc, key, v);
  };
  s('apiserver-advertise-address', init, 'localAPIEndpoint.advertiseAddress');
  if (p.values.has('apiserver-bind-port')) set(init, 'localAPIEndpoint.bindPort', p.values.get('apiserver-bind-port'));
  s('certificate-key', init, 'certificateKey');
  s('cri-socket', init, 'nodeRegistration.criSocket');
  s('node-name', init, 'nodeRegistration.name');
  s('patches', init, 'patches.directory');
  if (p.values.has('token') || p.values.has('token-ttl'))
    init.bootstrapTokens = [
      { ...(str(p, 'token') ? { token: str(p, 'token') } : {}), ...(str(p, 'token-ttl') ? { ttl: str(p, 'token-ttl') } : {}) },
    ];
  s('control-plane-endpoint', cluster, 'controlPlaneEndpoint');
  s('kubernetes-version', cluster, 'kubernetesVersion');
  s('image-repository', cluster, 'imageRepository');
  s('cert-dir', cluster, 'certificatesDir');
  s('pod-network-cidr', cluster, 'networking.podSubnet');
  s('service-cidr', cluster, 'networking.serviceSubnet');
  s('service-dns-domain', cluster, 'networking.dnsDomain');
  if (list(p, 'apiserver-cert-extra-sans').length > 0) set(cluster, 'apiServer.certSANs', list(p, 'apiserver-cert-extra-sans'));
  const gates = str(p, 'feature-gates');
  if (gates)
    cluster.featureGates = Object.fromEntries(
      gates
        .split(',')
        .map((kv) => kv.split('='))
        .map(([k, v]) => [k, v === 'true']),
    );
  return [init, cluster];
}

function randomToken(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const pick = (n: number) => [...randomBytes(n)].map((b) => alphabet[b % alphabet.length]).join('');
  return `${pick(6)}.${pick(16)}`;
}

function endpointWithPort(endpoint: string, port: number): string {
  if ('host' in splitHostPort(endpoint)) return endpoint;
  return isIP(endpoint) === 6 ? `[${endpoint}]:${port}` : `${endpoint}:${port}`;
}
