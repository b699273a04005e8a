// The node config wherever it rides (cloud-config kiln:, an Ignition file, a write_files entry):
// one set of checks, problems located in the YAML, and secrets never repeated in a message.
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { type Problem } from '../../../../core/problem.ts';
import { ValidationError } from '../../../../core/errors.ts';
import { readNodeConfig } from '../../../../node/config/node-file.ts';
import { parseUserData } from '../../../../node/formats/cloud-config/index.ts';
import { parseIgnition } from '../../../../node/formats/ignition/parse.ts';
import { where } from '../../../../core/problem.ts';

const TOKEN = 'abcdef.0123456789abcdef';
const worker = {
  role: 'worker',
  cluster: { name: 'lab', kubernetesVersion: 'v1.31.4', controlPlaneEndpoint: '10.0.2.100:6443' },
  node: { name: 'w-1', advertiseAddress: '10.0.2.21' },
  join: { token: TOKEN, caCertHashes: [`sha256:${'a'.repeat(64)}`] },
};

function problemsOf(run: () => unknown): Problem[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error.problems;
    throw error;
  }
  return [];
}
const meta = { instanceId: 'i-1' };
const cloudConfig = (doc: object) => parseUserData(Buffer.from(`#cloud-config\n${YAML.stringify(doc)}`), 'user-data', meta);
const ignitionWith = (nodeYaml: string) =>
  parseIgnition(
    JSON.stringify({
      ignition: { version: '3.4.0' },
      storage: { files: [{ path: '/etc/kiln/node.yaml', mode: 384, contents: { source: `data:,${encodeURIComponent(nodeYaml)}` } }] },
    }),
    'config.ign',
  );

describe('secrets in node config problems', () => {
  const shown = (problems: Problem[]) => problems.map((p) => `${p.message} ${p.hint ?? ''}`).join('\n');

  it('a mapping that holds a secret is not shown when it is the wrong type (cloud-config and Ignition)', () => {
    const asString = { ...worker, join: TOKEN };
    for (const problems of [problemsOf(() => cloudConfig({ kiln: asString })), problemsOf(() => ignitionWith(YAML.stringify(asString)))]) {
      expect(problems.length).toBeGreaterThan(0);
      expect(shown(problems)).toMatch(/value not shown: secret/);
      expect(shown(problems)).not.toContain(TOKEN);
    }
  });

  it('a bad VRRP password is not shown either', () => {
    const bad = {
      ...worker,
      role: 'control-plane',
      join: { ...worker.join, certificateKey: 'f'.repeat(64) },
      keepalived: { interface: 'eth0', virtualRouterId: 51, priority: 100, authPass: 'toolong-secret' },
    };
    const { problems } = readNodeConfig(YAML.stringify(bad), 'node.yaml');
    expect(problems.map((p) => p.path)).toEqual(['/keepalived/authPass']);
    expect(shown(problems)).not.toContain('toolong-secret');
  });
});

describe('a node config written by cloud-config write_files', () => {
  it('is checked like the kiln: key, with its own line numbers', () => {
    const problems = problemsOf(() =>
      cloudConfig({ write_files: [{ path: '/etc/kiln/node.yaml', permissions: '0600', content: 'role: nonsense\n' }] }),
    );
    const at = problems.filter((p) => p.path === '/write_files/0/content');
    expect(at.map((p) => where(p))).toEqual(['user-data:5:14', 'user-data:5:14', 'user-data:5:14']);
    expect(at.map((p) => p.message)).toContainEqual(
      expect.stringMatching(/^\/etc\/kiln\/node\.yaml:1:7: \/role: "nonsense" is not one of: init, control-plane, worker/),
    );
  });

  it("becomes the model's node config when valid", () => {
    const model = cloudConfig({ write_files: [{ path: '/etc/kiln/node.yaml', permissions: '0600', content: YAML.stringify(worker) }] });
    expect(model.node).toEqual(worker);
  });
});
