// The redaction layer: secret shapes hidden wherever they appear, values under x-secret schemas
// remembered by validation and hidden from every later message, and the output sinks using it.
import { Type } from '@sinclair/typebox';
import { describe, expect, it, vi } from 'vitest';
import { redactDeep, redactText, redactUrl, rememberSecret } from '../../../core/redact.ts';
import { schemaProblems, secret } from '../../../core/schema.ts';
import { writeErr, writeOut } from '../../../core/output.ts';

describe('redactText', () => {
  it.each([
    ['credentials in a URL', 'fetch http://admin:hunter22@10.0.0.1/x.ign failed', 'fetch http://***@10.0.0.1/x.ign failed', 'hunter22'],
    ['a query', 'GET https://h.example/cfg?token=Zq81x done', 'GET https://h.example/cfg?… done', 'Zq81x'],
    ['a URL that does not parse', '"http://admin:pw9912@[::1/x" is bad', '"http://…" is bad', 'pw9912'],
    ['a scheme in capitals', 'HTTPS://u:pw9912@h/x', 'https://***@h/x', 'pw9912'],
    [
      'a bootstrap token',
      'kubeadm join --token k1lnvm.4f2a9c7e1b3d5f60 x',
      'kubeadm join --token (secret not shown) x',
      '4f2a9c7e1b3d5f60',
    ],
    ['a crypt hash', 'ops:$6$Rk2saltsalt$Q7hashhashhashhashhash:19000', 'ops:(secret not shown):19000', 'Q7hash'],
    ['a private key, cut short', 'key: -----BEGIN EC PRIVATE KEY-----\nMHcCAQEE', 'key: (private key not shown)', 'MHcCAQEE'],
  ])('hides %s', (_what, text, want, gone) => {
    expect(redactText(text)).toBe(want);
    expect(redactText(text)).not.toContain(gone);
  });

  it('is idempotent: a sink may see what a reader already redacted', () => {
    for (const text of ['http://admin:pw@[::1/x', 'https://u:p@h/x?q=1']) expect(redactText(redactText(text))).toBe(redactText(text));
  });

  it('leaves a URL without credentials, query or fragment exactly as written (a JSON Schema "$schema" keeps its #)', () => {
    expect(redactText('"$schema": "http://json-schema.org/draft-07/schema#"')).toBe('"$schema": "http://json-schema.org/draft-07/schema#"');
    expect(redactText('see https://example.org/a#token=Zq81')).toBe('see https://example.org/a#…');
  });

  it('leaves ordinary text alone: paths, digests, an example hash shape', () => {
    const text = '/etc/kiln/node.yaml: sha256:2f7bd3d1b0f2e6a2 — a hash such as "$6$salt$..."';
    expect(redactText(text)).toBe(text);
  });

  it('hides a remembered value and each of its lines, wherever it appears', () => {
    rememberSecret('Kp9zQ2wX');
    rememberSecret('line-one-secret\nline-two-secret');
    expect(redactText('authPass Kp9zQ2wX; later Kp9zQ2wX')).toBe('authPass (secret not shown); later (secret not shown)');
    expect(redactText('tail: line-two-secret')).toBe('tail: (secret not shown)');
    rememberSecret('ab'); // too short to hide without hiding ordinary words
    expect(redactText('tab')).toBe('tab');
  });

  it('redacts every string of a JSON-shaped value', () => {
    expect(redactDeep({ a: ['http://u:p@h/x'], b: { c: 1, d: 'ok' } })).toEqual({ a: ['http://***@h/x'], b: { c: 1, d: 'ok' } });
  });
});

describe('schema validation remembers x-secret values', () => {
  it('before forming any problem, even for a value of the wrong shape', () => {
    const schema = Type.Object({ name: Type.String(), pass: Type.Optional(secret(Type.String({ pattern: '^[a-z]+$' }))) });
    const problems = schemaProblems(schema, { name: 'n', pass: ['Zx81-not-shown', 'Zx82-not-shown'] }, 'f.yaml');
    expect(JSON.stringify(problems)).not.toContain('Zx81');
    expect(redactText('a later message quoting Zx81-not-shown and Zx82-not-shown')).not.toMatch(/Zx8/);
  });
});

describe('the output sinks', () => {
  it('writeOut and writeErr redact what they print', () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      writeOut('source http://u:pw77xx@h/x\n');
      writeErr('token k1lnvm.4f2a9c7e1b3d5f60\n');
      expect(out.mock.calls[0]![0]).toBe('source http://***@h/x\n');
      expect(err.mock.calls[0]![0]).toBe('token (secret not shown)\n');
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });
});

describe('redactUrl', () => {
  it('keeps what names the resource', () => {
    expect(redactUrl('https://h.example:8443/a/b.ign')).toBe('https://h.example:8443/a/b.ign');
    expect(redactUrl('/srv/x.ign')).toBe('/srv/x.ign');
  });
});
