// The images a rendered chart runs: fixture → expected golden files (UPDATE_GOLDEN=1 rewrites them),
// then the shapes a chart must not render, each refused naming the object.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { manifestImages } from '../../../../builder/addons/manifest-images.ts';
import { normalizeImageRef } from '../../../../builder/images/refs.ts';
import { ValidationError } from '../../../../core/errors.ts';
import { repoRoot } from '../../../helpers/build.ts';
import { expectGolden } from '../../../helpers/specs.ts';

const DIR = path.join(repoRoot, 'test/fixtures/addons/manifests');

describe('manifestImages', () => {
  it.each(readdirSync(DIR).sort())('%s', (name) => {
    const text = readFileSync(path.join(DIR, name, 'rendered.yaml'), 'utf8');
    const found = manifestImages(text, 'helm template demo').map((m) => ({ ...m, containerd: normalizeImageRef(m.ref) }));
    expectGolden(path.join(DIR, name, 'expected.json'), `${JSON.stringify(found, null, 2)}\n`);
  });

  const refusal = (text: string) => {
    try {
      manifestImages(text, 'helm template demo');
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      return (error as ValidationError).problems[0]!;
    }
    throw new Error('expected a refusal');
  };

  it('refuses a container with no image, and containers that are not a list, naming the object', () => {
    expect(
      refusal('kind: Deployment\nmetadata: {name: x, namespace: ns}\nspec: {template: {spec: {containers: [{name: c}]}}}\n'),
    ).toMatchObject({
      file: 'helm template demo',
      message: 'Deployment/ns/x container c names no image',
    });
    expect(refusal('kind: Pod\nmetadata: {name: p}\nspec: {initContainers: {name: c}}\n').message).toBe(
      'Pod/p: initContainers is not a list',
    );
  });

  it('bounds what the manifests may cost: an alias bomb is refused, not expanded', () => {
    const bomb = [
      'a: &a [x, x, x, x, x, x, x, x, x, x]',
      ...Array.from({ length: 8 }, (_, i) => `${'bcdefghi'[i]}: &${'bcdefghi'[i]} [${Array(10).fill(`*${'abcdefgh'[i]}`).join(', ')}]`),
    ].join('\n');
    expect(refusal(`kind: ConfigMap\n---\n${bomb}\n`).message).toMatch(/aliases expand to more than 100000 values/);
  });
});

describe('normalizeImageRef', () => {
  it('names images as containerd does when kubelet asks for them', () => {
    expect(normalizeImageRef('busybox')).toBe('docker.io/library/busybox:latest');
    expect(normalizeImageRef('library/alpine:3')).toBe('docker.io/library/alpine:3');
    expect(normalizeImageRef('grafana/loki:3.0.0')).toBe('docker.io/grafana/loki:3.0.0');
    expect(normalizeImageRef('localhost:5000/x:1')).toBe('localhost:5000/x:1');
    expect(normalizeImageRef(`quay.io/c/e:v1@sha256:${'a'.repeat(64)}`)).toBe(`quay.io/c/e@sha256:${'a'.repeat(64)}`);
    expect(normalizeImageRef('Quay.io/UPPER/Case:1')).toBeUndefined();
    expect(normalizeImageRef('quay.io/x:bad tag')).toBeUndefined();
  });
});
