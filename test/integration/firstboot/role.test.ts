// The role plan run for real against a node root, with the kubeadm/helm/kubectl stand-ins on PATH
// (they check their inputs against upstream and record what they were asked): what each role does,
// the join retry, and crash-and-resume at every step boundary without doing anything twice.
import { existsSync, mkdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { treeHost } from '../../helpers/tree-host.ts';
import { EXIT, runPass } from '../../../firstboot/run.ts';
import { repoRoot, tempDir } from '../../helpers/build.ts';
import { bundled, makeNodeRoot, snapshotTree, standinPath } from '../../helpers/firstboot.ts';
import { makeChartRepo } from '../../helpers/charts.ts';
import { helmEnv, realTools } from '../../helpers/real-tools.ts';

/** A template that shows the values a chart was given, so the real helm can say what it merged. */
const VALUES_DUMP = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kiln-values\ndata:\n  values: {{ toJson .Values | quote }}\n';

const configs = path.join(repoRoot, 'test/fixtures/firstboot/role/configs');
const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A node root and a fixture host whose cidata volume carries `kiln:` = the named role config. */
function nodeWith(configName: string) {
  const root = makeNodeRoot();
  const fixture = tempDir('kiln-role-host-');
  made.push(root, fixture);
  const node = YAML.parse(readFileSync(path.join(configs, `${configName}.yaml`), 'utf8'));
  const seed = path.join(fixture, 'dev/disk/by-label/cidata');
  mkdirSync(seed, { recursive: true });
  writeFileSync(path.join(seed, 'meta-data'), `instance-id: role-${configName}\n`);
  writeFileSync(path.join(seed, 'user-data'), `#cloud-config\n${YAML.stringify({ kiln: node })}`);
  mkdirSync(path.join(fixture, 'proc'));
  writeFileSync(path.join(fixture, 'proc/cmdline'), 'console=ttyS0\n');
  // what the image provides: keepalived's unit (from the Debian package) and kiln's kubelet defaults
  mkdirSync(path.join(root, 'usr/lib/systemd/system'), { recursive: true });
  writeFileSync(
    path.join(root, 'usr/lib/systemd/system/keepalived.service'),
    '[Unit]\nDescription=keepalived\n[Service]\nExecStart=/usr/sbin/keepalived\n[Install]\nWantedBy=multi-user.target\n',
  );
  mkdirSync(path.join(root, 'etc/kiln'), { recursive: true });
  writeFileSync(
    path.join(root, 'etc/kiln/kubelet-defaults.yaml'),
    'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\ncgroupDriver: systemd\nmaxPods: 110\n',
  );
  return { root, fixture, node };
}

interface Record {
  tool: string;
  args: string[];
  exitCode: number;
  config?: Array<{ kind: string; [k: string]: unknown }>;
  values?: { [k: string]: unknown };
  patch?: { type: string; target: string; body: unknown };
}
const records = (root: string): Record[] =>
  existsSync(path.join(root, 'var/lib/kiln-test/standins.jsonl'))
    ? readFileSync(path.join(root, 'var/lib/kiln-test/standins.jsonl'), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record)
    : [];

/** Every path the node ended up with and its type and mode (contents with timestamps left out). */
function modes(root: string): { [path: string]: string } {
  const volatile = /^(run|var\/lib\/kiln|var\/lib\/kiln-test)(\/|$)/;
  return Object.fromEntries(
    [...snapshotTree(root)].filter(([p]) => !volatile.test(p)).map(([p, v]) => [p, v.split(' ').slice(0, 2).join(' ')]),
  );
}

async function provision(configName: string, PATH: string) {
  const n = nodeWith(configName);
  const lines: string[] = [];
  const host = treeHost(n.fixture, n.root);
  const role = { env: { PATH }, timing: { retryMs: 50, joinAttempts: 5, waitSeconds: 3 } };
  expect(await runPass({ host, pass: 'early', out: (l) => lines.push(l), role }), lines.join('\n')).toBe(EXIT.ok);
  return { ...n, host, role, lines };
}

describe('role plan on a node root', () => {
  let PATH = '';
  beforeAll(async () => {
    PATH = await standinPath();
  });

  it('init: keepalived, CA, kubeadm init with its config, Cilium through the VIP, etcd snapshots', async () => {
    const n = await provision('init', PATH);
    expect(await runPass({ host: n.host, pass: 'late', out: (l) => n.lines.push(l), role: n.role }), n.lines.join('\n')).toBe(EXIT.ok);
    const r = (p: string) => path.join(n.root, p);
    const mode = (p: string) => (statSync(r(p)).mode & 0o777).toString(8);
    expect(mode('etc/kiln/kubeadm.yaml')).toBe('600');
    expect(mode('etc/kubernetes/pki/ca.key')).toBe('600');
    expect(mode('etc/keepalived/keepalived.conf')).toBe('600'); // it holds the VRRP password
    expect(readlinkSync(r('etc/systemd/system/multi-user.target.wants/keepalived.service'))).toBe(
      '/usr/lib/systemd/system/keepalived.service',
    );
    expect(readlinkSync(r('etc/systemd/system/timers.target.wants/kiln-etcd-snapshot.timer'))).toBe(
      '/etc/systemd/system/kiln-etcd-snapshot.timer',
    );
    expect(readFileSync(r('etc/hosts'), 'utf8')).toMatch(/^10\.0\.2\.15\tcp-1$/m);
    const accepted = records(n.root).filter((x) => x.exitCode === 0);
    const inits = accepted.filter((x) => x.tool === 'kubeadm' && x.args[0] === 'init');
    expect(inits).toHaveLength(1);
    expect(inits[0]!.args).toEqual(expect.arrayContaining(['--config', '--upload-certs']));
    const init = inits[0]!.config!.find((d) => d.kind === 'InitConfiguration') as { skipPhases?: string[] };
    expect(init.skipPhases).toContain('addon/kube-proxy');
    const cilium = accepted.find((x) => x.tool === 'helm' && x.args.includes('cilium'))!;
    expect(cilium.values).toMatchObject({ kubeProxyReplacement: true, k8sServiceHost: '10.0.2.100', k8sServicePort: 6443 });
    expect(accepted.some((x) => x.tool === 'kubectl' && x.args.includes('/readyz'))).toBe(true);
    // the order the issue asks for: VIP config, then kubeadm, then the API, then Cilium
    const order = n.lines.filter((l) => /: done/.test(l)).map((l) => /\]: ([a-z-]+): done/.exec(l)?.[1]);
    expect(order).toEqual(expect.arrayContaining(['keepalived', 'kubeadm-init', 'wait-apiserver', 'cilium', 'etcd-snapshots']));
    expect(order.indexOf('keepalived')).toBeLessThan(order.indexOf('kubeadm-init'));
    expect(order.indexOf('wait-apiserver')).toBeLessThan(order.indexOf('cilium'));
    // secrets stay out of the console lines and the status files
    const shown = `${n.lines.join('\n')}${readFileSync(r('run/kiln/status-late.json'), 'utf8')}`;
    for (const secret of [n.node.join.token, n.node.join.certificateKey, 'k1lnvrrp', 'BEGIN PRIVATE KEY'])
      expect(shown).not.toContain(secret);
  });

  it('init: addons with Helm after Cilium, then the manifests folder, then labels and taints', async () => {
    const n = nodeWith('init');
    // an addon chart and a manifest baked into the image, and node labels/taints to converge
    const chart = path.join(n.root, 'usr/share/kiln/charts/metrics-server');
    mkdirSync(path.join(chart, 'templates'), { recursive: true });
    writeFileSync(path.join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: metrics-server\nversion: 3.12.2\n');
    writeFileSync(path.join(chart, 'templates/values.yaml'), VALUES_DUMP);
    // Cilium's chart baked where firstboot looks for it (an archive, as kiln build bakes it)
    makeChartRepo(path.join(n.root, 'usr/share/kiln/charts'), 'cilium', n.node.cilium.version, {
      values: '',
      templates: { 'values.yaml': VALUES_DUMP },
    });
    mkdirSync(path.join(n.root, 'etc/kiln/manifests'), { recursive: true });
    writeFileSync(
      path.join(n.root, 'etc/kiln/manifests/10-config.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kiln-site\n  namespace: kube-system\ndata:\n  site: lab\n',
    );
    const node = {
      ...n.node,
      addons: [
        {
          name: 'metrics-server',
          chart: '/usr/share/kiln/charts/metrics-server',
          namespace: 'kube-system',
          values: { args: ['--kubelet-insecure-tls'] },
        },
      ],
    };
    node.cluster = { ...node.cluster, coreDnsSpread: true };
    node.node = {
      ...node.node,
      labels: { 'example.com/rack': 'r1' },
      taints: [{ key: 'example.com/dedicated', value: 'infra', effect: 'NoSchedule' }],
    };
    writeFileSync(path.join(n.fixture, 'dev/disk/by-label/cidata/user-data'), `#cloud-config\n${YAML.stringify({ kiln: node })}`);
    const host = treeHost(n.fixture, n.root);
    const lines: string[] = [];
    const role = { env: { PATH }, timing: { retryMs: 50, joinAttempts: 5, waitSeconds: 3 } };
    expect(await runPass({ host, pass: 'early', out: (l) => lines.push(l), role }), lines.join('\n')).toBe(EXIT.ok);
    expect(await runPass({ host, pass: 'late', out: (l) => lines.push(l), role }), lines.join('\n')).toBe(EXIT.ok);
    const calls = records(n.root)
      .filter((x) => x.exitCode === 0)
      .map(
        (x) =>
          `${x.tool} ${x.args
            .filter((a) => !a.startsWith('/') && !a.startsWith('-'))
            .slice(0, 4)
            .join(' ')}`,
      );
    const order = [
      'helm upgrade cilium',
      'helm upgrade metrics-server',
      'kubectl apply',
      'kubectl label node cp-1',
      'kubectl taint node cp-1',
    ].map((prefix) => calls.findIndex((c) => c.startsWith(prefix)));
    expect(
      order.every((i) => i >= 0),
      calls.join('\n'),
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    const addon = records(n.root).find((x) => x.tool === 'helm' && x.args.includes('metrics-server'))!;
    expect(addon.values).toEqual({ args: ['--kubelet-insecure-tls'] });
    // the real helm 3.17 takes kiln's exact command lines (as `template`: no API server here) and
    // gives each chart the values the stand-in recorded
    const home = tempDir('kiln-role-helm-');
    made.push(home);
    for (const release of ['cilium', 'metrics-server']) {
      const rec = records(n.root).find((x) => x.tool === 'helm' && x.exitCode === 0 && x.args[2] === release)!;
      expect(rec.args.slice(0, 2)).toEqual(['upgrade', '--install']);
      const args = ['template', ...rec.args.slice(2).map((a) => (a.startsWith('/') ? path.join(n.root, a) : a))];
      const real = await execa(realTools().helm, args, { env: helmEnv(home), extendEnv: false, reject: false });
      expect(real.exitCode, `${args.join(' ')}\n${real.stderr}`).toBe(0);
      const shown = YAML.parseAllDocuments(real.stdout)
        .map((d) => d.toJS())
        .find((d) => d?.kind === 'ConfigMap');
      expect(JSON.parse(shown.data.values), release).toEqual(rec.values);
    }
    expect(records(n.root).find((x) => x.args[2] === 'cilium')!.values).toMatchObject({ kubeProxyReplacement: true });

    // CoreDNS spread: the stand-in found kubeadm's Deployment and took the patch; the real kubectl
    // applies the same argument (locally, to a Deployment shaped like kubeadm's) as a valid
    // strategic merge patch
    const spread = records(n.root).find((x) => x.tool === 'kubectl' && x.args.includes('patch'))!;
    expect(spread.exitCode).toBe(0);
    expect(spread.patch).toMatchObject({ type: 'strategic', target: 'apps/Deployment/kube-system/coredns' });
    const coredns = path.join(home, 'coredns.yaml');
    writeFileSync(
      coredns,
      YAML.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'coredns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
        spec: {
          replicas: 2,
          selector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          template: {
            metadata: { labels: { 'k8s-app': 'kube-dns' } },
            spec: { containers: [{ name: 'coredns', image: 'registry.k8s.io/coredns/coredns:v1.11.3' }] },
          },
        },
      }),
    );
    const body = spread.args[spread.args.indexOf('--patch') + 1]!;
    const local = await execa(
      realTools().kubectl,
      ['patch', '--local', '-f', coredns, '--type', spread.args[spread.args.indexOf('--type') + 1]!, '--patch', body, '-o', 'json'],
      { env: helmEnv(home), extendEnv: false, reject: false },
    );
    expect(local.exitCode, local.stderr).toBe(0);
    const patched = JSON.parse(local.stdout);
    // every key kiln sent survives the real strategic merge (a misspelt one would be dropped silently)
    const sent = JSON.parse(body).spec.template.spec.topologySpreadConstraints;
    expect(sent).toHaveLength(1);
    expect(Object.keys(sent[0]).sort()).toEqual([
      'labelSelector',
      'matchLabelKeys',
      'maxSkew',
      'minDomains',
      'topologyKey',
      'whenUnsatisfiable',
    ]);
    expect(patched.spec.template.spec.topologySpreadConstraints).toEqual(sent);
    expect(patched.spec.template.spec.containers).toHaveLength(1); // merged, not replaced
  });

  it('a chart in the image that is not the one named is refused before helm runs', async () => {
    const n = nodeWith('init');
    // the archive at cilium-<version>.tgz holds another version
    makeChartRepo(path.join(n.root, 'usr/share/kiln/charts'), 'cilium', n.node.cilium.version, { chartYaml: { version: '1.15.0' } });
    const host = treeHost(n.fixture, n.root);
    const lines: string[] = [];
    const role = { env: { PATH }, timing: { retryMs: 50, joinAttempts: 5, waitSeconds: 3 } };
    expect(await runPass({ host, pass: 'early', out: (l) => lines.push(l), role }), lines.join('\n')).toBe(EXIT.ok);
    expect(await runPass({ host, pass: 'late', out: (l) => lines.push(l), role })).toBe(EXIT.failed);
    expect(lines.join('\n')).toContain(
      `cilium: failed — chart /usr/share/kiln/charts/cilium-${n.node.cilium.version}.tgz: the archive is cilium 1.15.0, not cilium ${n.node.cilium.version}`,
    );
    expect(records(n.root).some((x) => x.tool === 'helm')).toBe(false);
  });

  it('worker: joins with the CA hash, retrying while the control plane is not up yet', async () => {
    const n = await provision('worker', PATH);
    mkdirSync(path.join(n.root, 'etc/kiln-test/standins'), { recursive: true });
    writeFileSync(path.join(n.root, 'etc/kiln-test/standins/join-failures'), '2\n');
    expect(await runPass({ host: n.host, pass: 'late', out: (l) => n.lines.push(l), role: n.role }), n.lines.join('\n')).toBe(EXIT.ok);
    const joins = records(n.root).filter((x) => x.tool === 'kubeadm' && x.args[0] === 'join');
    expect(joins.map((j) => j.exitCode !== 0)).toEqual([true, true, false]);
    const join = joins[2]!.config!.find((d) => d.kind === 'JoinConfiguration') as unknown as {
      discovery: { bootstrapToken: { caCertHashes: string[]; unsafeSkipCAVerification?: boolean } };
    };
    expect(join.discovery.bootstrapToken.caCertHashes).toEqual(n.node.join.caCertHashes);
    expect(join.discovery.bootstrapToken.unsafeSkipCAVerification).toBeUndefined();
    expect(n.lines.join('\n')).toMatch(/kubeadm join: attempt 2 failed/);
    expect(records(n.root).some((x) => x.tool === 'helm')).toBe(false);
  });

  it('a missing kubeadm fails the join at once, without retrying what waiting cannot fix', async () => {
    const n = await provision('worker', PATH);
    const lines: string[] = [];
    const role = { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, timing: { retryMs: 2000, joinAttempts: 60, waitSeconds: 3 } };
    const started = Date.now();
    expect(await runPass({ host: n.host, pass: 'late', out: (l) => lines.push(l), role })).toBe(EXIT.failed);
    expect(lines.join('\n')).toMatch(/kubeadm-join: failed — kubeadm is not installed on this node/);
    expect(lines.join('\n')).not.toMatch(/attempt \d+ failed/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('init: a crash after any step, recorded or not yet recorded, resumes and does nothing twice', async () => {
    const plain = await provision('init', PATH);
    expect(await runPass({ host: plain.host, pass: 'late', out: () => {}, role: plain.role })).toBe(EXIT.ok);
    const steps = JSON.parse(readFileSync(path.join(plain.root, 'run/kiln/status-late.json'), 'utf8')).steps.map(
      (s: { name: string }) => s.name,
    ) as string[];
    const calls = (root: string) =>
      records(root)
        .filter((x) => x.exitCode === 0 && (x.tool !== 'kubectl' || !x.args.includes('get')))
        .map((x) => `${x.tool} ${x.args.slice(0, 2).join(' ')}`);
    expect(calls(plain.root)).toEqual(['kubeadm init --config', 'helm upgrade --install']);
    const child = await bundled('test/helpers/firstboot-child.ts');
    for (const step of steps) {
      for (const point of [step, `${step}:unrecorded`]) {
        const n = await provision('init', PATH);
        const killed = await execa(process.execPath, [child], {
          reject: false,
          env: {
            KILN_CHILD: JSON.stringify({ fixture: n.fixture, root: n.root, pass: 'late', path: PATH, crashAt: point }),
          },
        });
        expect(killed.signal, `${point}: ${killed.stdout}`).toBe('SIGKILL');
        const lines: string[] = [];
        expect(await runPass({ host: n.host, pass: 'late', out: (l) => lines.push(l), role: n.role }), lines.join('\n')).toBe(EXIT.ok);
        // a recorded step is skipped; an unrecorded one runs again and must be harmless
        expect(lines.join('\n')).toMatch(new RegExp(`${step}: ${point === step ? 'skipped — done before a restart' : 'done'}`));
        // kubeadm ran once (its own files say it already did); helm's upgrade --install may repeat
        expect([...new Set(calls(n.root))], point).toEqual(calls(plain.root));
        expect(
          calls(n.root).filter((c) => c.startsWith('kubeadm')),
          point,
        ).toEqual(['kubeadm init --config']);
        expect(modes(n.root), point).toEqual(modes(plain.root));
      }
    }
  });
});
