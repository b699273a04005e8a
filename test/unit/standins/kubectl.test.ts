// The kubectl stand-in: readiness, apply, label, taint and wait against the simulated cluster, with
// kubectl's argument rules and messages.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NodeRoot, initConfig, kubeconfig } from '../../standins/testing.ts';

let node: NodeRoot;
const KC = '/etc/kubernetes/admin.conf';
const kc = ['--kubeconfig', KC];

beforeEach(() => {
  node = new NodeRoot();
});
afterEach(() => node.cleanup());

/** A node root where kubeadm init ran: admin.conf and the node cp-1 exist. */
async function initialised(): Promise<void> {
  node.yaml('/etc/kiln/kubeadm.yaml', ...initConfig());
  const r = await node.run('kubeadm', ['init', '--config', '/etc/kiln/kubeadm.yaml']);
  expect(r.code, r.stderr).toBe(0);
}

describe('kubectl version and readiness', () => {
  it('prints the client version; --short is gone since 1.28', async () => {
    expect((await node.run('kubectl', ['version', '--client'])).stdout).toBe('Client Version: v1.31.4\nKustomize Version: v5.4.2\n');
    expect(JSON.parse((await node.run('kubectl', ['version', '--client', '-o', 'json'])).stdout).clientVersion.gitVersion).toBe('v1.31.4');
    const short = await node.run('kubectl', ['version', '--short']);
    expect(short.code).toBe(1);
    expect(short.stderr).toBe("error: unknown flag: --short\nSee 'kubectl version --help' for usage.\n");
  });

  it('answers ok on /readyz, /livez and /healthz; not found elsewhere', async () => {
    node.write(KC, kubeconfig(), 0o600);
    const r = await node.run('kubectl', [...kc, 'get', '--raw', '/readyz']);
    expect(r).toMatchObject({ code: 0, stdout: 'ok' });
    expect(r.record.kubeconfig).toBe(KC);
    expect((await node.run('kubectl', ['get', '--raw=/healthz', ...kc])).stdout).toBe('ok');
    expect((await node.run('kubectl', ['get', '--raw', '/livez?verbose'], { KUBECONFIG: KC })).stdout).toContain('livez check passed');
    const other = await node.run('kubectl', [...kc, 'get', '--raw', '/apis/foo']);
    expect(other.stderr).toBe('Error from server (NotFound): the server could not find the requested resource\n');
    expect((await node.run('kubectl', [...kc, 'get', 'nodes', '--raw', '/readyz'])).stderr).toBe(
      'error: arguments may not be passed when --raw is specified\n',
    );
  });

  it('needs a kubeconfig', async () => {
    const missing = await node.run('kubectl', ['--kubeconfig', '/etc/kubernetes/nope.conf', 'get', '--raw', '/readyz']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('error: stat /etc/kubernetes/nope.conf: no such file or directory\n');
    const none = await node.run('kubectl', ['get', '--raw', '/readyz']);
    expect(none.stderr).toBe('The connection to the server localhost:8080 was refused - did you specify the right host or port?\n');
  });

  it('is refused while api-failures > 0 (readiness loops)', async () => {
    node.write(KC, kubeconfig(), 0o600);
    node.knob('api-failures', '2');
    for (let i = 0; i < 2; i++)
      expect((await node.run('kubectl', [...kc, 'get', '--raw', '/readyz'])).stderr).toBe(
        'The connection to the server 10.0.0.10:6443 was refused - did you specify the right host or port?\n',
      );
    expect((await node.run('kubectl', [...kc, 'get', '--raw', '/readyz'])).code).toBe(0);
  });

  it('lists nodes and waits for them', async () => {
    await initialised();
    expect((await node.run('kubectl', [...kc, 'get', 'nodes', '-o', 'name'])).stdout).toBe('node/cp-1\n');
    expect((await node.run('kubectl', [...kc, 'wait', '--for=condition=Ready', 'node/cp-1', '--timeout=300s'])).stdout).toBe(
      'node/cp-1 condition met\n',
    );
    expect((await node.run('kubectl', [...kc, 'wait', '--for=condition=Ready', 'nodes', '--all'])).code).toBe(0);
    expect((await node.run('kubectl', [...kc, 'wait', '--for=condition=Ready', 'node/cp-9'])).stderr).toBe(
      'Error from server (NotFound): nodes "cp-9" not found\n',
    );
  });
});

describe('kubectl apply', () => {
  beforeEach(() => {
    node.write(KC, kubeconfig(), 0o600);
    node.write(
      '/etc/kiln/manifests/10-ns.yaml',
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: apps\ndata:\n  a: b\n',
    );
    node.write(
      '/etc/kiln/manifests/20-pool.yml',
      'apiVersion: cilium.io/v2alpha1\nkind: CiliumLoadBalancerIPPool\nmetadata:\n  name: pool\nspec:\n  blocks: [{cidr: 10.0.10.0/24}]\n',
    );
    node.write('/etc/kiln/manifests/README.md', 'not a manifest\n');
    node.write(
      '/etc/kiln/manifests/extra/deploy.yaml',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: apps\n',
    );
  });

  it('applies a directory, records each file and object, and is idempotent', async () => {
    const r = await node.run('kubectl', [...kc, 'apply', '-f', '/etc/kiln/manifests']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('namespace/apps created\nconfigmap/settings created\nciliumloadbalancerippool.cilium.io/pool created\n');
    expect(r.record.files).toEqual([
      {
        path: '/etc/kiln/manifests/10-ns.yaml',
        objects: [
          { apiVersion: 'v1', kind: 'Namespace', name: 'apps' },
          { apiVersion: 'v1', kind: 'ConfigMap', name: 'settings', namespace: 'apps' },
        ],
      },
      {
        path: '/etc/kiln/manifests/20-pool.yml',
        objects: [{ apiVersion: 'cilium.io/v2alpha1', kind: 'CiliumLoadBalancerIPPool', name: 'pool' }],
      },
    ]);
    const again = await node.run('kubectl', [...kc, 'apply', '-R', '-f', '/etc/kiln/manifests']);
    // Go's filepath.Walk order: names byte-wise, so 20-pool.yml before extra/
    expect(again.stdout).toBe(
      'namespace/apps unchanged\nconfigmap/settings unchanged\nciliumloadbalancerippool.cilium.io/pool unchanged\ndeployment.apps/web created\n',
    );
    expect((await node.run('kubectl', [...kc, 'apply', '--server-side', '-f', '/etc/kiln/manifests/20-pool.yml'])).stdout).toBe(
      'ciliumloadbalancerippool.cilium.io/pool serverside-applied\n',
    );
  });

  it('refuses documents without apiVersion/kind, nameless objects, and nothing to apply', async () => {
    node.write('/m/bad.yaml', 'metadata:\n  name: x\n');
    const r = await node.run('kubectl', [...kc, 'apply', '-f', '/m/bad.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'error: error validating "/m/bad.yaml": error validating data: [apiVersion not set, kind not set]; if you choose to ignore these errors, turn validation off with --validate=false\n',
    );
    node.write('/m/noname.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n');
    expect((await node.run('kubectl', [...kc, 'apply', '-f', '/m/noname.yaml'])).stderr).toContain('resource name may not be empty');
    node.write('/empty/README', 'x');
    expect((await node.run('kubectl', [...kc, 'apply', '-f', '/empty'])).stderr).toBe('error: no objects passed to apply\n');
    expect((await node.run('kubectl', [...kc, 'apply', '-f', '/nope.yaml'])).stderr).toBe('error: the path "/nope.yaml" does not exist\n');
    expect((await node.run('kubectl', [...kc, 'apply'])).stderr).toBe('error: must specify one of -f and -k\n');
  });

  it('refuses objects in a namespace that does not exist', async () => {
    const r = await node.run('kubectl', [...kc, 'apply', '-f', '/etc/kiln/manifests/extra/deploy.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'Error from server (NotFound): error when creating "/etc/kiln/manifests/extra/deploy.yaml": namespaces "apps" not found\n',
    );
  });
});

describe('kubectl label and taint', () => {
  beforeEach(initialised);

  it('labels a node, and needs --overwrite to change a label', async () => {
    const r = await node.run('kubectl', [...kc, 'label', 'node', 'cp-1', 'topology.kubernetes.io/zone=a', 'example.com/rack=r1']);
    expect(r).toMatchObject({ code: 0, stdout: 'node/cp-1 labeled\n' });
    expect(node.state().nodes['cp-1']!.labels).toMatchObject({ 'topology.kubernetes.io/zone': 'a', 'example.com/rack': 'r1' });
    const again = await node.run('kubectl', [...kc, 'label', 'nodes/cp-1', 'topology.kubernetes.io/zone=b']);
    expect(again.stderr).toBe("error: 'topology.kubernetes.io/zone' already has a value (a), and --overwrite is false\n");
    expect((await node.run('kubectl', [...kc, 'label', '--overwrite', 'node', 'cp-1', 'topology.kubernetes.io/zone=b'])).code).toBe(0);
    expect((await node.run('kubectl', [...kc, 'label', 'node', 'cp-1', 'example.com/rack-'])).stdout).toBe('node/cp-1 unlabeled\n');
  });

  it('refuses bad label values, unknown nodes and missing label arguments', async () => {
    expect((await node.run('kubectl', [...kc, 'label', 'node', 'cp-1', 'zone=a b'])).stderr).toMatch(
      /^error: invalid label value: "zone=a b": a valid label must be an empty string/,
    );
    expect((await node.run('kubectl', [...kc, 'label', 'node', 'cp-2', 'zone=a'])).stderr).toBe(
      'Error from server (NotFound): nodes "cp-2" not found\n',
    );
    expect((await node.run('kubectl', [...kc, 'label', 'node', 'cp-1'])).stderr).toBe('error: at least one label update is required\n');
  });

  it('changes nothing with --dry-run (a bare --dry-run is a deprecated "client")', async () => {
    const r = await node.run('kubectl', [...kc, 'label', 'node', 'cp-1', 'example.com/rack=r1', '--dry-run']);
    expect(r.stdout).toBe('node/cp-1 labeled (dry run)\n');
    expect(r.stderr).toContain('--dry-run is deprecated and can be replaced with --dry-run=client.');
    expect(node.state().nodes['cp-1']!.labels['example.com/rack']).toBeUndefined();
    expect((await node.run('kubectl', [...kc, 'taint', 'node', 'cp-1', 'a:NoSchedule', '--dry-run=bogus'])).stderr).toBe(
      'error: Invalid dry-run value (bogus). Must be "none", "server", or "client".\n',
    );
  });

  it('removes the control-plane taint, and refuses removing one that is not there', async () => {
    const r = await node.run('kubectl', [...kc, 'taint', 'nodes', 'cp-1', 'node-role.kubernetes.io/control-plane:NoSchedule-']);
    expect(r).toMatchObject({ code: 0, stdout: 'node/cp-1 untainted\n' });
    expect(node.state().nodes['cp-1']!.taints).toEqual([]);
    const again = await node.run('kubectl', [...kc, 'taint', 'nodes', 'cp-1', 'node-role.kubernetes.io/control-plane:NoSchedule-']);
    expect(again.stderr).toBe('error: taint "node-role.kubernetes.io/control-plane:NoSchedule" not found\n');
  });

  it('adds taints, and refuses bad effects, keys and duplicates', async () => {
    expect((await node.run('kubectl', [...kc, 'taint', 'node', 'cp-1', 'dedicated=infra:NoExecute'])).stdout).toBe('node/cp-1 tainted\n');
    const effect = await node.run('kubectl', [...kc, 'taint', 'node', 'cp-1', 'dedicated=infra:NoScheduled']);
    expect(effect.code).toBe(1);
    expect(effect.stderr).toBe('error: invalid taint effect: NoScheduled, unsupported taint effect\n');
    expect((await node.run('kubectl', [...kc, 'taint', 'node', 'cp-1', 'dedicated=infra:NoExecute'])).stderr).toBe(
      'error: node cp-1 already has dedicated taint(s) with same effect(s) and --overwrite is false\n',
    );
    expect((await node.run('kubectl', [...kc, 'taint', 'node', 'cp-1', 'bad key=x:NoSchedule'])).stderr).toMatch(
      /^error: invalid taint spec: bad key=x:NoSchedule, name part must consist of/,
    );
    // no effect: the whole spec is taken as the key, which is not a qualified name
    expect((await node.run('kubectl', [...kc, 'taint', 'node', 'cp-1', 'dedicated=infra'])).stderr).toMatch(
      /^error: invalid taint spec: dedicated=infra, name part must consist of/,
    );
    expect((await node.run('kubectl', [...kc, 'taint', 'pod', 'x', 'a:NoSchedule'])).stderr).toBe(
      'error: invalid resource type pod, only node types are supported\n',
    );
  });
});

describe('kubectl patch', () => {
  const P = JSON.stringify({ spec: { template: { spec: { topologySpreadConstraints: [{ maxSkew: 1 }] } } } });
  it('patches the CoreDNS Deployment kubeadm init made; the same patch again changes nothing', async () => {
    await initialised();
    const r = await node.run('kubectl', [...kc, '-n', 'kube-system', 'patch', 'deployment', 'coredns', '--type', 'strategic', '-p', P]);
    expect(r).toMatchObject({ code: 0, stdout: 'deployment.apps/coredns patched\n' });
    expect(r.record.patch).toEqual({ type: 'strategic', target: 'apps/Deployment/kube-system/coredns', body: JSON.parse(P) });
    expect((await node.run('kubectl', [...kc, '-n', 'kube-system', 'patch', 'deploy/coredns', '-p', P])).stdout).toBe(
      'deployment.apps/coredns patched (no change)\n',
    );
  });

  it('refuses what kubectl refuses: an unknown patch type, no patch, an object that is not there', async () => {
    await initialised();
    const run = (...a: string[]) => node.run('kubectl', [...kc, ...a]);
    expect((await run('-n', 'kube-system', 'patch', 'deployment', 'coredns', '--type', 'apply', '-p', P)).stderr).toBe(
      'error: --type must be one of [json merge strategic], not "apply"\n',
    );
    expect((await run('-n', 'kube-system', 'patch', 'deployment', 'coredns')).stderr).toBe(
      'error: must specify --patch or --patch-file containing the contents of the patch\n',
    );
    const missing = await run('patch', 'deployment', 'coredns', '-p', P);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('Error from server (NotFound): deployments.apps "coredns" not found\n');
  });
});
