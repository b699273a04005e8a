// The exported JSON Schema is what editors validate against: it must be plain draft-07 that a
// standard validator compiles, agree with kiln's own validation, and match the committed copy.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KilnError } from '../../../../core/errors.ts';
import { exportSchema } from '../../../../builder/commands/schema.ts';
import type { SpecDoc } from '../../../helpers/specs.ts';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const read = (file: string) => readFileSync(`${ROOT}${file}`, 'utf8');
const defaultSpec = () => parse(read('images/debian-bookworm.yaml')) as SpecDoc;

/** Every key of every object in a JSON value. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]);
  return [];
}

describe('exportSchema("image")', () => {
  const text = exportSchema('image');
  const schema = JSON.parse(text) as Record<string, unknown>;

  it('is draft-07 JSON without kiln-private x- keys', () => {
    expect(text.endsWith('}\n')).toBe(true);
    expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect(schema.type).toBe('object');
    expect(keysOf(schema).filter((k) => k.startsWith('x-'))).toEqual([]);
    expect(text).not.toMatch(/"x-/);
  });

  it('matches the committed images/image.schema.json (regenerate with `npm run schema`)', () => {
    expect(read('images/image.schema.json')).toBe(text);
  });

  describe('compiled with Ajv', () => {
    let validate: ValidateFunction;
    beforeAll(() => {
      validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    });

    it('accepts the default spec and the docker fixture', () => {
      expect(validate(defaultSpec()), JSON.stringify(validate.errors)).toBe(true);
      expect(validate(parse(read('test/fixtures/specs/docker.yaml'))), JSON.stringify(validate.errors)).toBe(true);
    });

    it.each([
      [
        'journald systemMaxUse as a percentage',
        (s: SpecDoc) => (s.node.journald.systemMaxUse = '20%'),
        '/node/journald/systemMaxUse',
        'pattern',
      ],
      ['an unknown top-level key', (s: SpecDoc) => (s.pakages = ['jq']), '', 'additionalProperties'],
      ['an unknown output format', (s: SpecDoc) => (s.outputs = [{ format: 'floppy' }]), '/outputs/0/format', undefined],
      ['an empty component list', (s: SpecDoc) => (s.kubernetes.components = []), '/kubernetes/components', 'minItems'],
      ['a bad sysctl key', (s: SpecDoc) => (s.node.sysctls = { 'Net.IPv4.ip_forward': 1 }), '/node/sysctls', undefined],
    ])('rejects %s', (_name, mutate, instancePath, keyword) => {
      const spec = defaultSpec();
      mutate(spec);
      expect(validate(spec)).toBe(false);
      const errors = validate.errors ?? [];
      expect(errors.map((e) => e.instancePath)).toContain(instancePath);
      if (keyword) expect(errors.filter((e) => e.instancePath === instancePath).map((e) => e.keyword)).toContain(keyword);
    });
  });

  it('an unknown schema name is a KilnError with exit code 2 that lists the known ones', () => {
    let error: unknown;
    try {
      exportSchema('clustre');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KilnError);
    expect((error as KilnError).exitCode).toBe(2);
    expect((error as KilnError).message).toContain('unknown schema "clustre"');
    expect((error as KilnError).hint).toBe('known: image, node, cluster');
  });
});

describe('exportSchema("node")', () => {
  const schema = JSON.parse(exportSchema('node')) as Record<string, unknown>;
  const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
  const nodeConfig = () =>
    (parse(read('test/fixtures/firstboot/vm/nocloud/user-data')) as { kiln: { [key: string]: unknown; join: Record<string, unknown> } })
      .kiln;

  it('is plain draft-07 that Ajv compiles, without kiln-private keys or formats', () => {
    expect(keysOf(schema).filter((k) => k.startsWith('x-'))).toEqual([]);
    expect(JSON.stringify(schema)).not.toMatch(/"kiln-(ip|cidr)"/);
  });

  it('accepts the node config of the VM test seed and rejects a malformed token', () => {
    expect(validate(nodeConfig()), JSON.stringify(validate.errors)).toBe(true);
    const bad = nodeConfig();
    bad.join.token = 'ABCDEF.0123456789abcdef';
    expect(validate(bad)).toBe(false);
    expect((validate.errors ?? []).map((e) => e.instancePath)).toContain('/join/token');
  });

  it('rejects unknown keys', () => {
    const bad = nodeConfig();
    bad.nodeName = 'x';
    expect(validate(bad)).toBe(false);
  });
});
