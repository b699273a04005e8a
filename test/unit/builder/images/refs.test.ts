// Image references as containerd reads them, archive names, and the hosts.toml kiln writes.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { archiveName, hasRegistryHost, hostsToml, parseImageRef } from '../../../../builder/images/refs.ts';
import { repoRoot } from '../../../helpers/build.ts';
import { expectGolden } from '../../../helpers/specs.ts';

const D = `sha256:${'0123456789abcdef'.repeat(4)}`;

describe('parseImageRef', () => {
  it.each([
    ['registry.k8s.io/pause:3.10', { registry: 'registry.k8s.io', repository: 'pause', tag: '3.10' }],
    ['registry.k8s.io/coredns/coredns:v1.11.3', { registry: 'registry.k8s.io', repository: 'coredns/coredns', tag: 'v1.11.3' }],
    ['127.0.0.1:5000/kiln-test/hello:1', { registry: '127.0.0.1:5000', repository: 'kiln-test/hello', tag: '1' }],
    [`quay.io/cilium/cilium:v1.16.5@${D}`, { registry: 'quay.io', repository: 'cilium/cilium', tag: 'v1.16.5', digest: D }],
    [`docker.io/library/nginx@${D}`, { registry: 'docker.io', repository: 'library/nginx', digest: D }],
    ['docker.io/library/nginx', { registry: 'docker.io', repository: 'library/nginx' }],
  ])('%s', (ref, expected) => expect(parseImageRef(ref)).toEqual(expected));

  it.each([
    'nginx',
    'Docker.io/Library/Nginx:1',
    'registry.k8s.io/pause:',
    'registry.k8s.io//pause:1',
    'registry.k8s.io/pause@sha256:abc',
    'registry.k8s.io/pause:3.10 ',
  ])('refuses %j', (ref) => expect(parseImageRef(ref)).toBeUndefined());
});

describe('hasRegistryHost', () => {
  it("follows docker's rule: a dot, a port or localhost in the first component", () => {
    expect(['registry.k8s.io/pause:3.10', 'localhost/x:1', '127.0.0.1:5000/x:1', 'myreg:5000/x:1'].map(hasRegistryHost)).toEqual([
      true,
      true,
      true,
      true,
    ]);
    expect(['library/nginx:1', 'nginx:1', 'kiln/hello:1'].map(hasRegistryHost)).toEqual([false, false, false]);
  });
});

describe('archiveName', () => {
  it('is ordered, readable and has no separators', () => {
    expect(archiveName(0, 'registry.k8s.io/coredns/coredns:v1.11.3')).toBe('00-registry.k8s.io_coredns_coredns_v1.11.3.tar');
    expect(archiveName(12, `quay.io/cilium/cilium:v1.16.5@${D}`)).toBe('12-quay.io_cilium_cilium_v1.16.5_0123456789ab.tar');
  });
});

describe('hostsToml', () => {
  it('mirrors in order, then the registry itself (docker.io really lives at registry-1.docker.io)', () => {
    const golden = path.join(repoRoot, 'test/fixtures/golden/images/hosts.toml');
    expectGolden(
      golden,
      hostsToml({ host: 'docker.io', endpoints: ['https://mirror.lab.internal:5000', 'http://10.0.0.5:5000/v2-proxy'], skipVerify: true }),
    );
    expect(hostsToml({ host: 'registry.k8s.io', endpoints: ['https://m.lab'], skipVerify: false })).toBe(
      '# kiln: registry mirrors for registry.k8s.io, tried in order before https://registry.k8s.io\nserver = "https://registry.k8s.io"\n\n[host."https://m.lab"]\n  capabilities = ["pull", "resolve"]\n',
    );
  });
});
