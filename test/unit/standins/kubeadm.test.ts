// The kubeadm stand-in: what it accepts is recorded and simulated under the node root; what real
// kubeadm refuses (and what it would silently drop) is refused with kubeadm's words and exit codes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { CA_HASH, CERT_KEY, NodeRoot, TOKEN, initConfig, joinConfig } from '../../standins/testing.ts';

let node: NodeRoot;
beforeEach(() => {
  node = new NodeRoot();
});
afterEach(() => node.cleanup());

const CFG = '/etc/kiln/kubeadm.yaml';
const STACK_HINT = 'To see the stack trace of this error execute with --v=5 or higher';

async function init(docs: unknown[] = initConfig(), extra: string[] = [], env: Record<string, string> = {}) {
  node.yaml(CFG, ...docs);
  return node.run('kubeadm', ['init', '--config', CFG, ...extra], env);
}

describe('kubeadm version', () => {
  it('prints short, json and the default form', async () => {
    expect((await node.run('kubeadm', ['version', '-o', 'short'])).stdout).toBe('v1.31.4\n');
    const json = JSON.parse((await node.run('kubeadm', ['version', '-o=json'])).stdout);
    expect(json.clientVersion).toMatchObject({ major: '1', minor: '31', gitVersion: 'v1.31.4' });
    expect((await node.run('kubeadm', ['version'])).stdout).toMatch(
      /^kubeadm version: &version\.Info\{Major:"1", Minor:"31", GitVersion:"v1\.31\.4"/,
    );
    expect((await node.run('kubeadm', ['version'], { KILN_STANDIN_KUBERNETES_VERSION: 'v1.32.1' })).stdout).toContain(
      'GitVersion:"v1.32.1"',
    );
  });

  it('refuses an unknown output format and stray arguments', async () => {
    const r = await node.run('kubeadm', ['version', '-o', 'xml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`invalid output format: xml\n${STACK_HINT}\n`);
    expect((await node.run('kubeadm', ['versions'])).stderr).toMatch(/^unknown command "versions" for "kubeadm"/);
  });
});

describe('kubeadm config images list', () => {
  it('lists the images kubeadm 1.31 pulls, in its order; a custom repository keeps <repo>/coredns', async () => {
    const r = await node.run('kubeadm', ['config', 'images', 'list', '--kubernetes-version', 'v1.31.4']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      [
        'kube-apiserver:v1.31.4',
        'kube-controller-manager:v1.31.4',
        'kube-scheduler:v1.31.4',
        'kube-proxy:v1.31.4',
        'coredns/coredns:v1.11.3',
        'pause:3.10',
        'etcd:3.5.15-0',
      ]
        .map((i) => `registry.k8s.io/${i}\n`)
        .join(''),
    );
    const custom = await node.run('kubeadm', [
      'config',
      'images',
      'list',
      '--kubernetes-version=v1.31.2',
      '--image-repository',
      'reg.lab:5000/k8s',
    ]);
    expect(custom.stdout.split('\n')).toContain('reg.lab:5000/k8s/coredns:v1.11.3');
    expect(custom.stdout.split('\n')).toContain('reg.lab:5000/k8s/kube-apiserver:v1.31.2');
  });

  it('refuses what would reach the network or is not simulated', async () => {
    expect((await node.run('kubeadm', ['config', 'images', 'list'])).stderr).toContain(
      '--kubernetes-version is required here: kubeadm would fetch https://dl.k8s.io/release/stable-1.txt',
    );
    expect((await node.run('kubeadm', ['config', 'images', 'list', '--kubernetes-version', 'v1.29.1'])).stderr).toContain(
      'knows the images of Kubernetes 1.31 only',
    );
    expect((await node.run('kubeadm', ['config', 'images', 'pull'])).stderr).toContain('"kubeadm config images pull" is not simulated');
    const bad = await node.run('kubeadm', ['config', 'images', 'list', '--kubernetes-version', 'v1.31.4', '--bogus']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('unknown flag: --bogus');
  });
});

describe('kubeadm init: accepted', () => {
  it('records the config and simulates what later steps need', async () => {
    const r = await init();
    expect(r.code, r.stderr).toBe(0);
    expect(r.record).toMatchObject({ tool: 'kubeadm', args: ['init', '--config', CFG], exitCode: 0 });
    expect(r.record.config?.map((d) => d.kind)).toEqual(['InitConfiguration', 'ClusterConfiguration', 'KubeletConfiguration']);
    expect(r.record.config?.[0]).toMatchObject({ bootstrapTokens: [{ token: TOKEN }] });

    // admin.conf: 0600, pointing at the control-plane endpoint
    expect(node.mode('/etc/kubernetes/admin.conf')).toBe(0o600);
    const admin = YAML.parse(node.read('/etc/kubernetes/admin.conf'));
    expect(admin.clusters[0].cluster.server).toBe('https://10.0.0.10:6443');
    expect(admin['current-context']).toBe('kubernetes-admin@lab');
    // the static Pod stub and the kubelet configuration it was given (over kubeadm's defaults)
    expect(YAML.parse(node.read('/etc/kubernetes/manifests/kube-apiserver.yaml'))).toMatchObject({
      kind: 'Pod',
      metadata: { name: 'kube-apiserver' },
    });
    const kubelet = YAML.parse(node.read('/var/lib/kubelet/config.yaml'));
    expect(kubelet).toMatchObject({
      kind: 'KubeletConfiguration',
      cgroupDriver: 'systemd',
      maxPods: 150,
      systemReserved: { cpu: '500m' },
      clusterDNS: ['10.96.0.10'],
      containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
    });
    expect(node.read('/var/lib/kubelet/kubeadm-flags.env')).toContain('--node-ip=10.0.0.11');
    expect(r.record.wrote).toContain('/etc/kubernetes/admin.conf');

    // the node is a tainted control plane; the skipped phase is skipped
    expect(node.state().nodes['cp-1']).toMatchObject({
      controlPlane: true,
      labels: { 'node-role.kubernetes.io/control-plane': '' },
      taints: [{ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }],
    });
    expect(r.stdout).toContain('[addons] Applied essential addon: CoreDNS');
    expect(r.stdout).not.toContain('kube-proxy');
    expect(r.stdout).toContain(`kubeadm join 10.0.0.10:6443 --token ${TOKEN}`);
  });

  it('prints no token with --skip-token-print, and a generated certificate key with --upload-certs', async () => {
    const r = await init(initConfig(), ['--upload-certs', '--skip-token-print']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(TOKEN);
    expect(r.stdout).toContain('--token <value withheld>');
    const key = /Using certificate key:\n([0-9a-f]{64})\n/.exec(r.stdout)?.[1];
    expect(key).toBeDefined();
    expect(r.stdout).toContain(`--control-plane --certificate-key ${key}`);

    const node2 = new NodeRoot();
    try {
      node2.yaml(CFG, ...initConfig(({ init }) => (init.certificateKey = CERT_KEY)));
      const r2 = await node2.run('kubeadm', ['init', '--config', CFG, '--upload-certs', '--skip-certificate-key-print']);
      expect(r2.code, r2.stderr).toBe(0);
      expect(r2.stdout).not.toContain(CERT_KEY);
    } finally {
      node2.cleanup();
    }
  });

  it('applies patches from patches.directory to their targets', async () => {
    node.write('/etc/kiln/patches/kubeletconfiguration+merge.yaml', 'maxPods: 200\n');
    node.write(
      '/etc/kiln/patches/kube-apiserver0+json.json',
      JSON.stringify([{ op: 'add', path: '/metadata/annotations/patched', value: 'yes' }]),
    );
    const r = await init(initConfig(({ init }) => (init.patches = { directory: '/etc/kiln/patches' })));
    expect(r.code, r.stderr).toBe(0);
    expect(YAML.parse(node.read('/var/lib/kubelet/config.yaml')).maxPods).toBe(200);
    expect(YAML.parse(node.read('/etc/kubernetes/manifests/kube-apiserver.yaml')).metadata.annotations.patched).toBe('yes');
  });

  it('registers a hyperconverged control plane without taints (nodeRegistration.taints: [])', async () => {
    const r = await init(initConfig(({ init }) => (init.nodeRegistration.taints = [])));
    expect(r.code, r.stderr).toBe(0);
    expect(node.state().nodes['cp-1']!.taints).toEqual([]);
  });

  it('writes nothing with --dry-run', async () => {
    const r = await init(initConfig(), ['--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(node.exists('/etc/kubernetes/admin.conf')).toBe(false);
    expect(r.record.wrote).toBeUndefined();
  });

  it('builds its configuration from flags when there is no --config', async () => {
    const r = await node.run('kubeadm', [
      'init',
      '--apiserver-advertise-address',
      '10.0.0.11',
      '--pod-network-cidr=10.244.0.0/16',
      '--node-name',
      'cp-1',
      '--kubernetes-version',
      'v1.31.4',
      '--token',
      TOKEN,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.record.config?.[1]).toMatchObject({ kind: 'ClusterConfiguration', networking: { podSubnet: '10.244.0.0/16' } });
  });

  it('runs again after kubeadm reset -f', async () => {
    expect((await init()).code).toBe(0);
    expect((await node.run('kubeadm', ['reset', '-f'])).code).toBe(0);
    expect(node.exists('/etc/kubernetes/manifests/kube-apiserver.yaml')).toBe(false);
    const again = await node.run('kubeadm', ['init', '--config', CFG]);
    expect(again.code, again.stderr).toBe(0);
  });
});

describe('kubeadm init: refused', () => {
  it('refuses a second init like the preflight check (exit 1, no files touched)', async () => {
    expect((await init()).code).toBe(0);
    const r = await node.run('kubeadm', ['init', '--config', CFG]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error execution phase preflight: [preflight] Some fatal errors occurred:');
    expect(r.stderr).toContain(
      '[ERROR FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml]: /etc/kubernetes/manifests/kube-apiserver.yaml already exists',
    );
    expect(r.stderr).toContain('--ignore-preflight-errors=...');
    expect(r.record).toMatchObject({
      exitCode: 1,
      error: expect.stringContaining('FileAvailable--etc-kubernetes-manifests-kube-apiserver.yaml'),
    });
    expect(r.record.wrote).toBeUndefined();
  });

  it('refuses unknown flags and flags without a value', async () => {
    const unknown = await node.run('kubeadm', ['init', '--config', CFG, '--pod-cidr', '10.0.0.0/8']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(`unknown flag: --pod-cidr\n${STACK_HINT}\n`);
    const missing = await node.run('kubeadm', ['init', '--config']);
    expect(missing.stderr).toMatch(/^flag needs an argument: --config\n/);
    const join = await node.run('kubeadm', ['join', '--config', CFG, '--upload-certs']);
    expect(join.stderr).toMatch(/^unknown flag: --upload-certs/);
  });

  it('refuses --config mixed with flags that set config values', async () => {
    node.yaml(CFG, ...initConfig());
    const r = await node.run('kubeadm', [
      'init',
      '--config',
      CFG,
      '--token',
      TOKEN,
      '--pod-network-cidr',
      '10.0.0.0/8',
      '--upload-certs',
      '--skip-token-print',
      '--v=5',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^can not mix '--config' with arguments \[pod-network-cidr token\]\n/);
    const j = await node.run('kubeadm', ['join', '--config', CFG, '--discovery-token-ca-cert-hash', CA_HASH, '--control-plane']);
    expect(j.record.error).toBe("can not mix '--config' with arguments [control-plane discovery-token-ca-cert-hash]");
  });

  it('refuses a misspelt key that kubeadm would only warn about and drop', async () => {
    const r = await init(
      initConfig(({ kubelet }) => {
        delete kubelet.cgroupDriver;
        kubelet.CgroupDriver = 'systemd';
      }),
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('[kiln-test-standin]');
    expect(r.stderr).toContain('KubeletConfiguration: unknown field "CgroupDriver"');
    expect(r.record.config?.[2]).toMatchObject({ CgroupDriver: 'systemd' });
  });

  it('refuses v1beta3 configs and v1beta3-style maps, and names old API versions', async () => {
    const beta3 = await init(initConfig(({ init, cluster }) => (init.apiVersion = cluster.apiVersion = 'kubeadm.k8s.io/v1beta3')));
    expect(beta3.code).toBe(3);
    expect(beta3.stderr).toContain('apiVersion "kubeadm.k8s.io/v1beta3" is not one of');
    const map = await init(initConfig(({ init }) => (init.nodeRegistration.kubeletExtraArgs = { 'node-ip': '10.0.0.11' })));
    expect(map.stderr).toContain('unknown field "nodeRegistration.kubeletExtraArgs.node-ip"');
    const beta2 = await init(initConfig(({ init }) => (init.apiVersion = 'kubeadm.k8s.io/v1beta2')));
    expect(beta2.code).toBe(1);
    expect(beta2.stderr).toMatch(/^your configuration file uses an old API spec: "kubeadm\.k8s\.io\/v1beta2"/);
  });

  it('refuses values of the wrong type and enum values upstream does not allow', async () => {
    const notString = await init(
      initConfig(({ init }) => (init.nodeRegistration.kubeletExtraArgs = [{ name: 'fail-swap-on', value: false }])),
    );
    expect(notString.code).toBe(1);
    expect(notString.stderr).toMatch(
      /^json: cannot unmarshal bool into Go struct field InitConfiguration\.nodeRegistration\.kubeletExtraArgs\[\]\.value of type string/,
    );
    const duration = await init(initConfig(({ init }) => (init.bootstrapTokens[0].ttl = '24')));
    expect(duration.stderr).toContain('time: missing unit in duration "24"');
    const driver = await init(initConfig(({ kubelet }) => (kubelet.cgroupDriver = 'system')));
    expect(driver.code).toBe(3);
    expect(driver.stderr).toContain('cgroupDriver = "system" is not one of cgroupfs, systemd');
  });

  it('validates like ValidateInitConfiguration (exit 3)', async () => {
    const r = await init(
      initConfig(({ init, cluster }) => {
        init.bootstrapTokens[0].token = 'abcdef-0123456789abcdef';
        init.certificateKey = 'abc';
        cluster.networking.podSubnet = '10.244.0.0/25';
        cluster.controlPlaneEndpoint = 'not_a host:6443';
      }),
    );
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('bootstrapTokens[0].token: Invalid value: "abcdef-0123456789abcdef": the bootstrap token is invalid');
    expect(r.stderr).toContain('certificateKey: Invalid value: "abc": certificate key decoding error');
    expect(r.stderr).toContain(
      'networking.podSubnet: Invalid value: "10.244.0.0/25": the size of pod subnet with mask 25 is smaller than the size of node subnet with mask 24',
    );
    expect(r.stderr).toContain('controlPlaneEndpoint: Invalid value: "not_a host:6443": endpoint is not valid');
  });

  it('needs exactly one InitConfiguration, and no document twice', async () => {
    const r = await init(initConfig((d) => delete (d as { init?: unknown }).init));
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('needs exactly one kubeadm.k8s.io/v1beta4 InitConfiguration');
    node.write(CFG, `${YAML.stringify(initConfig()[0])}---\n${YAML.stringify(initConfig()[0])}`);
    const twice = await node.run('kubeadm', ['init', '--config', CFG]);
    expect(twice.stderr).toMatch(/^invalid configuration: kind "InitConfiguration" is specified twice in YAML file/);
  });

  it('refuses unknown phases and unsupported control-plane versions', async () => {
    const phase = await init(initConfig(({ init }) => (init.skipPhases = ['addon/kube-prox'])));
    expect(phase.code).toBe(1);
    expect(phase.stderr).toMatch(/^invalid phase name: addon\/kube-prox\n/);
    const old = await init(initConfig(({ cluster }) => (cluster.kubernetesVersion = 'v1.29.0')));
    expect(old.stderr).toMatch(
      /^this version of kubeadm only supports deploying clusters with the control plane version >= 1\.30\.0\. Current version: v1\.29\.0/,
    );
  });

  it('refuses patch files kubeadm would skip, and a missing patches directory', async () => {
    const missing = await init(initConfig(({ init }) => (init.patches = { directory: '/etc/kiln/patches' })));
    expect(missing.stderr).toMatch(
      /^could not list patch files for path "\/etc\/kiln\/patches": lstat \/etc\/kiln\/patches: no such file or directory/,
    );
    node.write('/etc/kiln/patches/kubelet.yaml', 'maxPods: 200\n');
    node.write('/etc/kiln/patches/kubeletconfiguration.yml', 'maxPods: 200\n');
    const skipped = await node.run('kubeadm', ['init', '--config', CFG]);
    expect(skipped.code).toBe(1);
    expect(skipped.stderr).toContain(
      'kubelet.yaml: unknown target, must be one of [etcd kube-apiserver kube-controller-manager kube-scheduler kubeletconfiguration corednsdeployment]',
    );
    expect(skipped.stderr).toContain('kubeletconfiguration.yml: the file extension must be one of [json yaml]');
  });

  it('fails like the kubelet when --node-labels sets a restricted kubernetes.io label', async () => {
    const r = await init(
      initConfig(({ init }) =>
        (init.nodeRegistration.kubeletExtraArgs as unknown[]).push({ name: 'node-labels', value: 'node-role.kubernetes.io/worker=' }),
      ),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("unknown 'kubernetes.io' or 'k8s.io' labels specified with --node-labels: [node-role.kubernetes.io/worker]");
    expect(r.stderr).toContain('error execution phase wait-control-plane');
  });

  it('checks CPUs and memory of a control plane unless told to ignore them', async () => {
    const r = await init(initConfig(), [], { KILN_STANDIN_NUM_CPU: '1' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[ERROR NumCPU]: the number of available CPUs 1 is less than the required 2');
    const ignored = await init(initConfig(), ['--ignore-preflight-errors=NumCPU'], { KILN_STANDIN_NUM_CPU: '1' });
    expect(ignored.code, ignored.stderr).toBe(0);
    expect(ignored.stderr).toContain('[WARNING NumCPU]: the number of available CPUs 1 is less than the required 2');
    const all = await node.run('kubeadm', ['init', '--config', CFG, '--ignore-preflight-errors=all,NumCPU']);
    expect(all.code).toBe(3);
    expect(all.stderr).toMatch(/^ignore-preflight-errors: Invalid value: "all,numcpu": don't specify individual checks if 'all' is used/);
  });
});

describe('kubeadm join', () => {
  const JOIN = '/etc/kiln/join.yaml';
  const join = (doc: unknown = joinConfig(), extra: string[] = []) => {
    node.yaml(JOIN, doc);
    return node.run('kubeadm', ['join', '--config', JOIN, ...extra]);
  };

  it('joins a worker: kubelet.conf, the kubelet config with its patches, the node', async () => {
    node.write('/etc/kiln/patches/kubeletconfiguration+strategic.yaml', 'maxPods: 180\n');
    const r = await join(joinConfig((j) => (j.patches = { directory: '/etc/kiln/patches' })));
    expect(r.code, r.stderr).toBe(0);
    expect(r.record.config?.[0]).toMatchObject({ kind: 'JoinConfiguration', discovery: { bootstrapToken: { caCertHashes: [CA_HASH] } } });
    expect(node.mode('/etc/kubernetes/kubelet.conf')).toBe(0o600);
    expect(YAML.parse(node.read('/etc/kubernetes/kubelet.conf')).clusters[0].cluster.server).toBe('https://10.0.0.10:6443');
    expect(YAML.parse(node.read('/var/lib/kubelet/config.yaml')).maxPods).toBe(180);
    expect(node.exists('/etc/kubernetes/admin.conf')).toBe(false);
    expect(node.state().nodes['worker-1']).toMatchObject({ controlPlane: false, taints: [] });
    expect(r.stdout).toContain('This node has joined the cluster');
  });

  it('joins a control plane with a certificate key: admin.conf and static Pods too', async () => {
    const r = await join(
      joinConfig((j) => (j.controlPlane = { certificateKey: CERT_KEY, localAPIEndpoint: { advertiseAddress: '10.0.0.12' } })),
    );
    expect(r.code, r.stderr).toBe(0);
    expect(node.mode('/etc/kubernetes/admin.conf')).toBe(0o600);
    expect(node.exists('/etc/kubernetes/manifests/kube-apiserver.yaml')).toBe(true);
    expect(node.state().nodes['worker-1']!.controlPlane).toBe(true);
  });

  it('refuses a control-plane join with neither a certificate key nor the shared certificates', async () => {
    const r = await join(joinConfig((j) => (j.controlPlane = { localAPIEndpoint: { advertiseAddress: '10.0.0.12' } })));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('One or more conditions for hosting a new control plane instance is not satisfied.');
  });

  it('refuses token discovery without caCertHashes, unless unsafeSkipCAVerification is true', async () => {
    const r = await join(joinConfig((j) => delete j.discovery.bootstrapToken.caCertHashes));
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(
      /^discovery\.bootstrapToken\.caCertHashes: Invalid value: "": using token-based discovery without caCertHashes can be unsafe\./,
    );
    const unsafe = await join(
      joinConfig((j) => {
        delete j.discovery.bootstrapToken.caCertHashes;
        j.discovery.bootstrapToken.unsafeSkipCAVerification = true;
      }),
    );
    expect(unsafe.code, unsafe.stderr).toBe(0);
  });

  it('refuses a malformed token and a malformed CA pin', async () => {
    const r = await join(joinConfig((j) => (j.discovery.bootstrapToken.token = 'ABCDEF.0123456789abcdef')));
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('discovery.bootstrapToken.token: Invalid value: "ABCDEF.0123456789abcdef": the bootstrap token is invalid');
    const pin = await join(joinConfig((j) => (j.discovery.bootstrapToken.caCertHashes = ['sha256:abc'])));
    expect(pin.code).toBe(1);
    expect(pin.stderr).toContain('expected a 32 byte SHA-256 hash, found 1 bytes');
  });

  it('refuses documents kubeadm join ignores (the cluster provides them)', async () => {
    node.yaml(JOIN, joinConfig(), initConfig()[1], initConfig()[2]);
    const r = await node.run('kubeadm', ['join', '--config', JOIN]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('kubeadm join ignores ClusterConfiguration, KubeletConfiguration');
  });

  it('fails with "connection refused" while join-failures > 0, then joins (retry tests)', async () => {
    node.knob('join-failures', '2');
    for (let i = 0; i < 2; i++) {
      const r = await join();
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('dial tcp 10.0.0.10:6443: connect: connection refused');
      expect(r.record.wrote).toBeUndefined();
    }
    expect(node.read('/etc/kiln-test/standins/join-failures').trim()).toBe('0');
    const ok = await join();
    expect(ok.code, ok.stderr).toBe(0);
    expect(node.records().map((x) => x.exitCode)).toEqual([1, 1, 0]);
  });

  it('pins the cluster CA given as a knob: its public key hash must be one of caCertHashes', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'kiln-ca-'));
    try {
      const [key, cert] = [path.join(dir, 'ca.key'), path.join(dir, 'ca.crt')];
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'ec',
          '-pkeyopt',
          'ec_paramgen_curve:prime256v1',
          '-nodes',
          '-keyout',
          key,
          '-out',
          cert,
          '-days',
          '1',
          '-subj',
          '/CN=kubernetes',
        ],
        { stdio: 'ignore' },
      );
      const pem = readFileSync(cert, 'utf8');
      // kubeadm's pin: sha256 of the DER SubjectPublicKeyInfo
      const spki = execFileSync('sh', ['-c', `openssl x509 -in ${cert} -pubkey -noout | openssl pkey -pubin -outform der | sha256sum`])
        .toString()
        .slice(0, 64);
      node.knob('cluster-ca.crt', pem);
      const r = await join();
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `cluster CA found in cluster-info ConfigMap is invalid: none of the public keys "sha256:${spki}" are pinned`,
      );
      const ok = await join(joinConfig((j) => (j.discovery.bootstrapToken.caCertHashes = [CA_HASH, `sha256:${spki}`])));
      expect(ok.code, ok.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a cluster CA knob that is not a certificate (a test mistake, not a pin mismatch)', async () => {
    node.knob('cluster-ca.crt', '-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----');
    const r = await join();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('cluster-ca.crt is not a PEM certificate');
  });

  it('refuses a second join like the preflight check', async () => {
    expect((await join()).code).toBe(0);
    const r = await join();
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('[ERROR FileAvailable--etc-kubernetes-kubelet.conf]: /etc/kubernetes/kubelet.conf already exists');
  });

  it('joins from flags (api-server-endpoint argument, --token, --discovery-token-ca-cert-hash)', async () => {
    const r = await node.run('kubeadm', [
      'join',
      '10.0.0.10:6443',
      '--token',
      TOKEN,
      '--discovery-token-ca-cert-hash',
      CA_HASH,
      '--node-name',
      'worker-2',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.record.config?.[0]).toMatchObject({
      discovery: { bootstrapToken: { apiServerEndpoint: '10.0.0.10:6443', token: TOKEN, caCertHashes: [CA_HASH] } },
    });
  });
});
