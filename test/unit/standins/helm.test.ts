// The helm stand-in: `upgrade --install` records the release and the values helm would pass to the
// chart, and refuses what helm refuses (flags, names, durations, values files, charts, the cluster).
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NodeRoot, kubeconfig } from '../../standins/testing.ts';

let node: NodeRoot;
const KC = '/etc/kubernetes/admin.conf';
const CHART = '/usr/share/kiln/charts/cilium';

beforeEach(() => {
  node = new NodeRoot();
  node.write(KC, kubeconfig(), 0o600);
  node.write(`${CHART}/Chart.yaml`, 'apiVersion: v2\nname: cilium\nversion: 1.16.5\n');
});
afterEach(() => node.cleanup());

const install = (extra: string[] = [], name = 'cilium', chart = CHART) =>
  node.run('helm', ['upgrade', '--install', name, chart, '--namespace', 'kube-system', '--kubeconfig', KC, ...extra]);

describe('helm', () => {
  it('prints its version', async () => {
    expect((await node.run('helm', ['version', '--short'])).stdout).toBe('v3.17.3+gstandin\n');
    expect((await node.run('helm', ['version'])).stdout).toMatch(/^version\.BuildInfo\{Version:"v3\.17\.3"/);
  });

  it('installs, then upgrades, recording the merged values', async () => {
    node.write('/etc/kiln/cilium/values.yaml', 'kubeProxyReplacement: true\nk8sServiceHost: 10.0.0.10\nipam: {mode: cluster-pool}\n');
    node.write('/etc/kiln/cilium/user.yaml', 'ipam:\n  operator: {clusterPoolIPv4PodCIDRList: [10.244.0.0/16]}\n');
    const r = await install([
      '--version',
      '1.16.5',
      '--values',
      '/etc/kiln/cilium/values.yaml',
      '-f',
      '/etc/kiln/cilium/user.yaml',
      '--set',
      'k8sServicePort=6443,hubble.enabled=false',
      '--set-string',
      'tag=01',
      '--set',
      'ipam.mode=kubernetes',
      '--wait',
      '--timeout',
      '10m',
      '--atomic',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Release "cilium" does not exist. Installing it now.');
    expect(r.stdout).toContain('REVISION: 1');
    expect(r.record).toMatchObject({
      tool: 'helm',
      exitCode: 0,
      kubeconfig: KC,
      release: { name: 'cilium', namespace: 'kube-system', chart: CHART, chartVersion: '1.16.5', revision: 1 },
    });
    expect(r.record.values).toEqual({
      kubeProxyReplacement: true,
      k8sServiceHost: '10.0.0.10',
      k8sServicePort: 6443,
      hubble: { enabled: false },
      tag: '01',
      ipam: { mode: 'kubernetes', operator: { clusterPoolIPv4PodCIDRList: ['10.244.0.0/16'] } },
    });
    const again = await install();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('Release "cilium" has been upgraded. Happy Helming!');
    expect(again.record.release?.revision).toBe(2);
  });

  it('reads a packaged chart (.tgz) and KUBECONFIG', async () => {
    node.write('/tmp/pkg/metrics-server/Chart.yaml', 'apiVersion: v2\nname: metrics-server\nversion: 3.12.2\n');
    const tar = spawnSync('tar', [
      '-czf',
      node.host('/usr/share/kiln/charts/metrics-server-3.12.2.tgz'),
      '-C',
      node.host('/tmp/pkg'),
      'metrics-server',
    ]);
    expect(tar.status).toBe(0);
    const r = await node.run(
      'helm',
      ['upgrade', '-i', 'metrics-server', '/usr/share/kiln/charts/metrics-server-3.12.2.tgz', '-n', 'kube-system'],
      { KUBECONFIG: KC },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.record.release?.chartVersion).toBe('3.12.2');
  });

  it('refuses unknown flags and durations without a unit', async () => {
    const r = await install(['--wait-for', 'x']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: unknown flag: --wait-for\n');
    const t = await install(['--timeout', '300']);
    expect(t.stderr).toBe('Error: invalid argument "300" for "--timeout" flag: time: missing unit in duration "300"\n');
  });

  it('refuses values files that are not YAML mappings, and missing ones', async () => {
    node.write('/etc/kiln/list.yaml', '- a\n- b\n');
    const r = await install(['--values', '/etc/kiln/list.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      'Error: failed to parse /etc/kiln/list.yaml: error unmarshaling JSON: while decoding JSON: json: cannot unmarshal array into Go value of type map[string]interface {}\n',
    );
    const missing = await install(['-f', '/etc/kiln/nope.yaml']);
    expect(missing.stderr).toContain('Error: open /etc/kiln/nope.yaml: no such file or directory');
    const bad = await install(['--set', 'novalue']);
    expect(bad.stderr).toContain('key "novalue" has no value');
  });

  it('needs a kubeconfig that exists', async () => {
    const r = await install(['--kubeconfig', '/etc/kubernetes/nope.conf']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Error: Kubernetes cluster unreachable: stat /etc/kubernetes/nope.conf: no such file or directory\n');
    const none = await node.run('helm', ['upgrade', '--install', 'cilium', CHART, '-n', 'kube-system'], { HOME: '/root' });
    expect(none.stderr).toContain('Error: Kubernetes cluster unreachable: Get "http://localhost:8080/version"');
  });

  it('refuses invalid release names', async () => {
    expect((await install([], 'Cilium')).stderr).toBe('Error: release name is invalid: Cilium\n');
    expect((await install([], 'a'.repeat(54))).code).toBe(1);
  });

  it('needs the namespace to exist unless --create-namespace', async () => {
    const r = await node.run('helm', ['upgrade', '--install', 'metrics', CHART, '-n', 'monitoring', '--kubeconfig', KC]);
    expect(r.stderr).toBe('Error: INSTALLATION FAILED: create: failed to create: namespaces "monitoring" not found\n');
    const created = await node.run('helm', [
      'upgrade',
      '--install',
      'metrics',
      CHART,
      '-n',
      'monitoring',
      '--create-namespace',
      '--kubeconfig',
      KC,
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(node.state().namespaces).toContain('monitoring');
  });

  it('refuses arguments helm refuses: counts, charts, upgrade without --install', async () => {
    expect((await node.run('helm', ['upgrade', '--install', 'cilium', '--kubeconfig', KC])).stderr).toMatch(
      /^Error: "helm upgrade" requires 2 arguments/,
    );
    expect((await install([], 'cilium', '/usr/share/kiln/charts/nope')).stderr).toBe(
      'Error: path "/usr/share/kiln/charts/nope" not found\n',
    );
    expect((await install([], 'cilium', 'cilium')).stderr).toBe(
      'Error: non-absolute URLs should be in form of repo_name/path_to_chart, got: cilium\n',
    );
    expect((await install([], 'cilium', 'cilium/cilium')).stderr).toBe('Error: repo cilium not found\n');
    node.write('/charts/empty/values.yaml', '{}\n');
    expect((await install([], 'cilium', '/charts/empty')).stderr).toBe('Error: Chart.yaml file is missing\n');
    const upgrade = await node.run('helm', ['upgrade', 'cilium', CHART, '-n', 'kube-system', '--kubeconfig', KC]);
    expect(upgrade.stderr).toBe('Error: UPGRADE FAILED: "cilium" has no deployed releases\n');
  });

  it('fails while api-failures > 0 (the API server is not up yet)', async () => {
    node.knob('api-failures', '1');
    const r = await install();
    expect(r.stderr).toBe(
      'Error: Kubernetes cluster unreachable: Get "https://10.0.0.10:6443/version": dial tcp 10.0.0.10:6443: connect: connection refused\n',
    );
    expect((await install()).code).toBe(0);
  });
});
