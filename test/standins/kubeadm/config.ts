// TEST ONLY. kubeadm's configuration: the documents of --config (or those the flags stand for),
// decoded and checked the way kubeadm 1.31 reads them, and the defaults it fills in.
import { hostname, networkInterfaces } from 'node:os';
import kubeadmFields from '../../../../shared/upstream/kubernetes/kubeadm-v1beta4.json' with { type: 'json' };
import kubeletFields from '../../../../shared/upstream/kubernetes/kubelet-v1beta1.json' with { type: 'json' };
import kubeproxyFields from '../../../../shared/upstream/kubernetes/kubeproxy-v1alpha1.json' with { type: 'json' };
import { str, type ParsedFlags } from '../flags.ts';
import { Refusal, STANDIN, isMapping, parseYamlDocuments, type Ctx } from '../lib/context.ts';
import { kubeDocProblems, type FieldList } from '../lib/kube-fields.ts';
import { kubeTypeProblems } from '../lib/kube-types.ts';
import { VALIDATION_EXIT, aggregate } from './validate.ts';

/** The lists of FIELD_LIST_FILES (lib/kube-fields.ts), bundled in (import paths must be literals). */
export const FIELD_LISTS = [kubeadmFields, kubeletFields, kubeproxyFields] as unknown as FieldList[];

export const KUBEADM = 'kubeadm.k8s.io/v1beta4';
export const KUBELET = 'kubelet.config.k8s.io/v1beta1';
export const KUBEPROXY = 'kubeproxy.config.k8s.io/v1alpha1';
export const DEFAULT_CRI = 'unix:///var/run/containerd/containerd.sock';

/** A decoded YAML mapping: a document, or an object in one. */
export type Doc = Record<string, unknown>;

// kubeadm v1beta4's types, as far as the stand-in (and the tests reading kiln's kubeadm config)
// read them. readDocs checks every document's value types against upstream's field lists
// (kubeTypeProblems) before anything reads them, so what it returns has these shapes; a null, which
// decodes to the zero value, is read with ?? and ?. like an absent field.

/** An item of v1beta4's extraArgs lists. */
export interface Arg {
  name: string;
  value: string;
}
export interface Taint extends Doc {
  key: string;
  value?: string;
  effect: string;
}
export interface NodeRegistrationOptions extends Doc {
  name?: string;
  criSocket?: string;
  taints?: Taint[];
  kubeletExtraArgs?: Arg[];
  ignorePreflightErrors?: string[];
}
export interface APIEndpoint extends Doc {
  advertiseAddress?: string;
  bindPort?: number;
}
export interface BootstrapToken extends Doc {
  token?: string;
  ttl?: string;
  expires?: string;
  groups?: string[];
}
/** What InitConfiguration and JoinConfiguration share. */
interface NodeDocument extends Doc {
  nodeRegistration?: NodeRegistrationOptions;
  skipPhases?: string[];
  dryRun?: boolean;
  patches?: { directory?: string };
}
export interface InitConfiguration extends NodeDocument {
  bootstrapTokens?: BootstrapToken[];
  localAPIEndpoint?: APIEndpoint;
  certificateKey?: string;
}
export interface ControlPlaneComponent extends Doc {
  extraArgs?: Arg[];
}
export interface Networking extends Doc {
  serviceSubnet?: string;
  podSubnet?: string;
  dnsDomain?: string;
}
export interface Etcd extends Doc {
  local?: { dataDir?: string; extraArgs?: Arg[] };
  external?: Doc;
}
export interface ClusterConfiguration extends Doc {
  clusterName?: string;
  kubernetesVersion?: string;
  controlPlaneEndpoint?: string;
  certificatesDir?: string;
  imageRepository?: string;
  networking?: Networking;
  etcd?: Etcd;
  apiServer?: ControlPlaneComponent & { certSANs?: string[] };
  controllerManager?: ControlPlaneComponent;
  scheduler?: ControlPlaneComponent;
  proxy?: { disabled?: boolean };
}
export interface BootstrapTokenDiscovery extends Doc {
  token?: string;
  apiServerEndpoint?: string;
  caCertHashes?: string[];
  unsafeSkipCAVerification?: boolean;
}
export interface Discovery extends Doc {
  bootstrapToken?: BootstrapTokenDiscovery;
  file?: { kubeConfigPath?: string };
  tlsBootstrapToken?: string;
}
export interface JoinConfiguration extends NodeDocument {
  caCertPath?: string;
  discovery?: Discovery;
  controlPlane?: { localAPIEndpoint?: APIEndpoint; certificateKey?: string };
}

/** The documents of --config, or those the flags stand for: recorded as given, then checked. */
export function readDocs(ctx: Ctx, p: ParsedFlags, fromFlags: (p: ParsedFlags) => Doc[]): Doc[] {
  const file = str(p, 'config');
  const docs = file !== undefined ? loadConfigFile(ctx, file) : fromFlags(p);
  ctx.record.config = structuredClone(docs);
  checkDocuments(docs);
  return docs;
}

/** The documents of a --config file, split and typed the way kubeadm reads them. */
function loadConfigFile(ctx: Ctx, file: string): Doc[] {
  let text: string;
  try {
    text = ctx.read(file);
  } catch (error) {
    throw new Refusal(`unable to read config from "${file}" : ${(error as Error).message}`);
  }
  const parsed = parseYamlDocuments(text);
  if (parsed.error) throw new Refusal(parsed.error);
  const seen = new Set<string>();
  return parsed.docs
    .filter((d) => d !== null && d !== undefined)
    .map((d) => {
      const doc: Doc = isMapping(d) ? d : {};
      if (!doc.apiVersion || !doc.kind) {
        const gv = String(doc.apiVersion ?? '');
        throw new Refusal(
          `invalid configuration for GroupVersionKind ${gv.includes('/') ? gv : `/${gv}`}, Kind=${String(doc.kind ?? '')}: kind and apiVersion is mandatory information that must be specified`,
        );
      }
      const key = `${doc.apiVersion}/${doc.kind}`;
      if (seen.has(key)) throw new Refusal(`invalid configuration: kind "${String(doc.kind)}" is specified twice in YAML file`);
      seen.add(key);
      return doc;
    });
}

/** Decoding errors (real), then keys and values upstream does not define (kubeadm only warns). */
function checkDocuments(docs: Doc[]): void {
  const old = docs.find((d) => /^kubeadm\.k8s\.io\/v1(alpha[0-9]|beta[12])$/.test(String(d.apiVersion)));
  if (old)
    throw new Refusal(
      `your configuration file uses an old API spec: "${old.apiVersion}" (kind: "${old.kind}"). Please use kubeadm v1.22 instead and run 'kubeadm config migrate --old-config old.yaml --new-config new.yaml', which will write the new, similar spec using a newer API version.`,
    );
  const beta3 = docs.filter((d) => d.apiVersion === 'kubeadm.k8s.io/v1beta3');
  if (beta3.length > 0)
    throw new Refusal(
      `${STANDIN} apiVersion "kubeadm.k8s.io/v1beta3" is not one of the versions the stand-in checks (${KUBEADM}; kinds ${beta3.map((d) => d.kind).join(', ')}): kubeadm 1.31 still reads v1beta3 (deprecated; it converts it to v1beta4), but kiln renders ${KUBEADM}, so the stand-in refuses v1beta3 rather than pass it unchecked`,
      VALIDATION_EXIT,
    );
  const typeProblems = docs.flatMap((d) => kubeTypeProblems(d, FIELD_LISTS));
  if (typeProblems.length > 0) throw new Refusal(aggregate(typeProblems));
  const problems = docs.flatMap((d) => kubeDocProblems(d, FIELD_LISTS));
  if (problems.length > 0)
    throw new Refusal(
      `${STANDIN} the config has documents, keys or values upstream does not define; kubeadm would only warn ("strict decoding error" / "Ignored YAML document") and drop them:\n${problems.map((p) => `\t- ${p}`).join('\n')}`,
      VALIDATION_EXIT,
    );
}

/** The documents of one kind, typed as that kind (`T`): readDocs has checked their value types. */
export function byKind<T extends Doc = Doc>(docs: Doc[], apiVersion: string, kind: string): T[] {
  return docs.filter((d) => d.apiVersion === apiVersion && d.kind === kind) as T[];
}

/** kubeadm's warning for the kubeadm documents a command does not use. */
export function warnIgnored(ctx: Ctx, docs: Doc[], used: string[]): void {
  for (const d of docs.filter((d) => d.apiVersion === KUBEADM && (typeof d.kind !== 'string' || !used.includes(d.kind))))
    ctx.warn(`[config] WARNING: Ignored configuration document with GroupVersionKind ${KUBEADM}, Kind=${d.kind}`);
}

export function get(doc: Doc | undefined, dotted: string): unknown {
  let v: unknown = doc;
  for (const k of dotted.split('.')) v = v == null ? undefined : (v as Doc)[k];
  return v;
}

export function set(doc: Doc, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let v: Doc = doc;
  for (const k of keys.slice(0, -1)) v = (v[k] ??= {}) as Doc;
  v[keys.at(-1)!] = value;
}

// --- defaults -----------------------------------------------------------------------------------

/** The node registration's name (--node-name, the config, the host name) and CRI socket. */
export function defaultNodeRegistration(
  ctx: Ctx,
  p: ParsedFlags,
  reg: NodeRegistrationOptions,
): asserts reg is NodeRegistrationOptions & { name: string; criSocket: string } {
  reg.name = str(p, 'node-name') ?? (reg.name as string | undefined) ?? hostname().trim().toLowerCase();
  if (!reg.criSocket) reg.criSocket = DEFAULT_CRI;
  else if (String(reg.criSocket).startsWith('/')) {
    ctx.err(
      `W0000 00:00:00.000000       1 initconfiguration.go:126] Usage of CRI endpoints without URL scheme is deprecated and can cause kubelet errors in the future. Automatically prepending scheme "unix" to the "criSocket" with value "${reg.criSocket}". Please update your configuration!\n`,
    );
    reg.criSocket = `unix://${reg.criSocket}`;
  }
}

/** An API endpoint's address (the first address of a non-internal interface) and port (6443). */
export function defaultEndpoint(ep: APIEndpoint): void {
  ep.advertiseAddress ??= defaultAddress();
  if (!ep.bindPort) ep.bindPort = 6443;
}

function defaultAddress(): string {
  for (const addrs of Object.values(networkInterfaces()))
    for (const a of addrs ?? []) if (!a.internal && a.family === 'IPv4') return a.address;
  throw new Refusal('unable to select an IP from default routes.');
}
