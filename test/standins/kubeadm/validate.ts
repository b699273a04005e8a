// TEST ONLY. kubeadm's validation of its configuration (ValidateInitConfiguration,
// ValidateJoinConfiguration and the checks they call), with its field paths and messages. Failures
// exit 3, like kubeadm's validation errors.
import { isIP } from 'node:net';
import { Refusal, type Ctx } from '../lib/context.ts';
import { isDns1123Subdomain, isValidPort, parseHostPort, splitHostPort, validateSubnets } from '../lib/validate.ts';
import type {
  APIEndpoint,
  BootstrapToken,
  ClusterConfiguration,
  Discovery,
  Etcd,
  InitConfiguration,
  JoinConfiguration,
  Networking,
  NodeRegistrationOptions,
} from './config.ts';

export const VALIDATION_EXIT = 3;
export const TOKEN = /^[a-z0-9]{6}\.[a-z0-9]{16}$/;

/** utilerrors.Aggregate's message. */
export function aggregate(errors: string[]): string {
  const unique = [...new Set(errors)];
  return unique.length === 1 ? unique[0]! : `[${unique.join(', ')}]`;
}

const q = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
export const invalid = (field: string, value: unknown, detail: string) => `${field}: Invalid value: ${q(value)}: ${detail}`;
const required = (field: string, detail: string) => `${field}: Required value: ${detail}`;

/** v1beta4's extraArgs lists ({name, value} items). */
export function extraArgs(list: unknown): Array<{ name: string; value: string }> {
  return Array.isArray(list) ? (list as Array<{ name: string; value: string }>) : [];
}

function fail(errs: string[]): void {
  if (errs.length > 0) throw new Refusal(aggregate(errs), VALIDATION_EXIT);
}

export function validateIgnorePreflight(fromFlags: string[], fromConfig: unknown): Set<string> {
  const all = new Set([...(Array.isArray(fromConfig) ? fromConfig.map(String) : []), ...fromFlags].map((s) => s.toLowerCase()));
  if (all.has('all') && all.size > 1)
    throw new Refusal(
      invalid('ignore-preflight-errors', [...all].sort().join(','), "don't specify individual checks if 'all' is used"),
      VALIDATION_EXIT,
    );
  return all;
}

function validateNodeRegistration(reg: NodeRegistrationOptions, field: string, errs: string[]): void {
  if (!reg.name)
    errs.push(
      required(
        field,
        "--node-name or .nodeRegistration.name in the config file is a required value. It seems like this value couldn't be automatically detected in your environment, please specify the desired value using the CLI or config file.",
      ),
    );
  else for (const e of isDns1123Subdomain(reg.name)) errs.push(invalid(`${field}.name`, reg.name, e));
  const socket = String(reg.criSocket ?? '');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(socket)?.[1];
  if (!socket) errs.push(invalid(`${field}.criSocket`, socket, 'empty CRI socket'));
  else if (scheme !== 'unix')
    errs.push(invalid(`${field}.criSocket`, socket, `only URL scheme "unix" is supported, got "${scheme ?? ''}"`));
  extraArgs(reg.kubeletExtraArgs).forEach((a, i) => {
    if (!a?.name) errs.push(invalid(`${field}.kubeletExtraArgs`, `index ${i}`, 'argument has no name'));
  });
}

function validateCertificateKey(key: unknown, field: string, errs: string[]): void {
  if (typeof key !== 'string' || key === '') return;
  if (!/^([0-9a-fA-F]{2})*$/.test(key)) {
    const bad = key.search(/[^0-9a-fA-F]/);
    errs.push(
      invalid(
        field,
        key,
        bad === -1
          ? 'certificate key decoding error: encoding/hex: odd length hex string'
          : `certificate key decoding error: encoding/hex: invalid byte: U+${key.charCodeAt(bad).toString(16).toUpperCase().padStart(4, '0')} ${JSON.stringify(key[bad]).replace(/"/g, "'")}`,
      ),
    );
  } else if (key.length / 2 !== 32)
    errs.push(invalid(field, key, `invalid certificate key size ${key.length / 2}, the key must be an AES key of size 32`));
}

function validateApiEndpoint(ep: APIEndpoint, field: string, errs: string[]): void {
  if (isIP(String(ep.advertiseAddress ?? '')) === 0)
    errs.push(invalid(`${field}.advertiseAddress`, ep.advertiseAddress ?? '', 'ip address is not valid'));
  if (!isValidPort(Number(ep.bindPort))) errs.push(invalid(`${field}.bindPort`, ep.bindPort, 'port number is not valid'));
}

function validateCluster(cluster: ClusterConfiguration, errs: string[]): void {
  const net: Networking = cluster.networking ?? {};
  for (const e of isDns1123Subdomain(String(net.dnsDomain))) errs.push(invalid('networking.dnsDomain', net.dnsDomain, e));
  if (net.serviceSubnet) {
    const { cidrs, errors } = validateSubnets(String(net.serviceSubnet), 10);
    for (const e of errors) errs.push(invalid('networking.serviceSubnet', net.serviceSubnet, e));
    for (const c of cidrs)
      if (c.bits - c.prefix > 20)
        errs.push(
          invalid(
            'networking.serviceSubnet',
            c.text,
            `specified service subnet is too large; for ${c.bits}-bit addresses, the mask must be >= ${c.bits - 20}`,
          ),
        );
  }
  if (net.podSubnet) {
    const { cidrs, errors } = validateSubnets(String(net.podSubnet), 14);
    for (const e of errors) errs.push(invalid('networking.podSubnet', net.podSubnet, e));
    const cmArgs = extraArgs(cluster.controllerManager?.extraArgs);
    if (cmArgs.find((a) => a.name === 'allocate-node-cidrs')?.value !== 'false')
      for (const c of cidrs) {
        const arg = cmArgs.find((a) => a.name === (c.bits === 128 ? 'node-cidr-mask-size-ipv6' : 'node-cidr-mask-size-ipv4'))?.value;
        const nodeMask = arg !== undefined ? Number(arg) : c.bits === 128 ? 64 : 24;
        if (c.prefix > nodeMask)
          errs.push(
            invalid(
              'networking.podSubnet',
              c.text,
              `the size of pod subnet with mask ${c.prefix} is smaller than the size of node subnet with mask ${nodeMask}`,
            ),
          );
        else if (nodeMask - c.prefix > 16)
          errs.push(
            invalid(
              'networking.podSubnet',
              c.text,
              `pod subnet mask (${c.prefix}) and node-mask (${nodeMask}) difference is greater than 16`,
            ),
          );
      }
  }
  if (!String(cluster.certificatesDir ?? '').startsWith('/'))
    errs.push(invalid('certificatesDir', cluster.certificatesDir ?? '', 'path is not absolute'));
  if (cluster.controlPlaneEndpoint && !parseHostPort(String(cluster.controlPlaneEndpoint)))
    errs.push(invalid('controlPlaneEndpoint', cluster.controlPlaneEndpoint, 'endpoint is not valid'));
  for (const san of (cluster.apiServer?.certSANs ?? []) as string[])
    if (isIP(san) === 0 && isDns1123Subdomain(san.replace(/^\*\./, '')).length > 0)
      errs.push(invalid('apiServer.certSANs', san, 'altname is not a valid IP address, DNS label or a DNS label with subdomain wildcards'));
  for (const [comp, field] of [
    [cluster.apiServer, 'apiServer.extraArgs'],
    [cluster.controllerManager, 'controllerManager.extraArgs'],
    [cluster.scheduler, 'scheduler.extraArgs'],
    [cluster.etcd?.local, 'etcd.local.extraArgs'],
  ] as const)
    extraArgs(comp?.extraArgs).forEach((a, i) => {
      if (!a?.name) errs.push(invalid(field, `index ${i}`, 'argument has no name'));
    });
  const etcd: Etcd = cluster.etcd ?? {};
  if (etcd.local && etcd.external) errs.push(invalid('etcd', '', '.Etcd.Local and .Etcd.External are mutually exclusive'));
  if (etcd.local && !String(etcd.local.dataDir ?? '').startsWith('/'))
    errs.push(invalid('etcd.local.dataDir', etcd.local.dataDir ?? '', 'path is not absolute'));
}

/** ValidateInitConfiguration (of the defaulted InitConfiguration and ClusterConfiguration). */
export function validateInit(init: InitConfiguration, cluster: ClusterConfiguration): void {
  const errs: string[] = [];
  validateNodeRegistration(init.nodeRegistration!, 'nodeRegistration', errs);
  (init.bootstrapTokens as BootstrapToken[]).forEach((t, i) => {
    if (!TOKEN.test(String(t.token))) errs.push(invalid(`bootstrapTokens[${i}].token`, t.token, 'the bootstrap token is invalid'));
    if (t.expires !== undefined && t.ttl !== undefined)
      errs.push(invalid(`bootstrapTokens[${i}]`, '', 'the BootstrapToken .TTL and .Expires fields are mutually exclusive'));
    for (const g of (t.groups ?? []) as string[])
      if (!/^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$/.test(g))
        errs.push(
          invalid(
            `bootstrapTokens[${i}].groups`,
            g,
            `bootstrap group ${JSON.stringify(g)} is invalid (must match ^system:bootstrappers:[a-z0-9:-]{0,255}[a-z0-9]$)`,
          ),
        );
  });
  validateCluster(cluster, errs);
  validateApiEndpoint(init.localAPIEndpoint!, 'localAPIEndpoint', errs);
  validateCertificateKey(init.certificateKey, 'certificateKey', errs);
  fail(errs);
}

/** ValidateJoinConfiguration (of the defaulted JoinConfiguration). */
export function validateJoin(ctx: Ctx, j: JoinConfiguration): void {
  const errs: string[] = [];
  const d: Discovery = j.discovery ?? {};
  if (!d.bootstrapToken && !d.file) errs.push(invalid('discovery', '', 'bootstrapToken or file must be set'));
  if (d.bootstrapToken && d.file) errs.push(invalid('discovery', '', 'bootstrapToken and file cannot both be set'));
  if (d.bootstrapToken) {
    const b = d.bootstrapToken;
    if (!b.apiServerEndpoint) errs.push(required('discovery.bootstrapToken', 'APIServerEndpoint is not set'));
    if ((!Array.isArray(b.caCertHashes) || b.caCertHashes.length === 0) && b.unsafeSkipCAVerification !== true)
      errs.push(
        invalid(
          'discovery.bootstrapToken.caCertHashes',
          '',
          'using token-based discovery without caCertHashes can be unsafe. Set unsafeSkipCAVerification as true in your kubeadm config file or pass --discovery-token-unsafe-skip-ca-verification flag to continue',
        ),
      );
    if (!TOKEN.test(String(b.token ?? '')))
      errs.push(invalid('discovery.bootstrapToken.token', b.token ?? '', 'the bootstrap token is invalid'));
    const hp = splitHostPort(String(b.apiServerEndpoint ?? ''));
    if ('error' in hp) errs.push(invalid('discovery.bootstrapToken.apiServerEndpoint', b.apiServerEndpoint ?? '', hp.error));
    if (!TOKEN.test(String(d.tlsBootstrapToken ?? '')))
      errs.push(invalid('discovery.tlsBootstrapToken', d.tlsBootstrapToken ?? '', 'the bootstrap token is invalid'));
  }
  if (d.file) {
    const file = String(d.file.kubeConfigPath ?? '');
    const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(file)?.[1];
    if (!scheme && !ctx.exists(file)) errs.push(invalid('discovery.file.kubeConfigPath', file, 'not a valid HTTPS URL or a file on disk'));
    else if (scheme && scheme !== 'https')
      errs.push(invalid('discovery.file.kubeConfigPath', file, 'if a URL is used, the scheme must be https'));
    if (d.tlsBootstrapToken && !TOKEN.test(String(d.tlsBootstrapToken)))
      errs.push(invalid('discovery.tlsBootstrapToken', d.tlsBootstrapToken, 'the bootstrap token is invalid'));
  }
  validateNodeRegistration(j.nodeRegistration!, 'nodeRegistration', errs);
  if (j.controlPlane) {
    validateApiEndpoint(j.controlPlane.localAPIEndpoint ?? {}, 'controlPlane.localAPIEndpoint', errs);
    validateCertificateKey(j.controlPlane.certificateKey, 'controlPlane.certificateKey', errs);
  }
  if (!String(j.caCertPath).startsWith('/') || !String(j.caCertPath).endsWith('.crt'))
    errs.push(invalid('caCertPath', j.caCertPath, 'the ca certificate path must be an absolute path'));
  fail(errs);
}
