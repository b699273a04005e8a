// The malformed-input corpus: every case is refused with its own clear problem (file, JSON path,
// message, hint), through the same validation `kiln-firstboot validate` runs.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validatePath } from '../../../firstboot/commands/validate.ts';

const corpus = path.resolve(import.meta.dirname, '../../fixtures/firstboot/malformed');
const cases = readdirSync(corpus)
  .filter((n) => existsSync(path.join(corpus, n, 'expect.json')))
  .sort();

interface Expectation {
  file: string;
  path: string;
  message: string;
  /** Text of the input that no problem may repeat (passwords, tokens, credentials in URLs). */
  secrets?: string[];
}

describe('malformed metadata corpus', () => {
  it('has at least 50 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(50);
  });

  it.each(cases)('%s', async (name) => {
    const dir = path.join(corpus, name);
    const want = JSON.parse(readFileSync(path.join(dir, 'expect.json'), 'utf8')) as Expectation;
    const target = existsSync(path.join(dir, 'config.ign')) ? path.join(dir, 'config.ign') : dir;
    const result = await validatePath(target, { offline: true });
    expect(result.valid, `${name} was accepted`).toBe(false);
    const match = result.problems.find(
      (p) => p.path === want.path && p.message.includes(want.message) && path.basename(p.file.split(/[: ]/)[0]!) === want.file,
    );
    expect(
      match,
      `${name}: no problem at ${want.file} ${want.path} containing "${want.message}"; got:\n${JSON.stringify(result.problems, null, 2)}`,
    ).toBeDefined();
    // every problem tells the user what to do
    for (const p of result.problems) expect(p.hint, `${name}: ${p.path} ${p.message}`).toBeTruthy();
    // not even before the redaction layer: the messages themselves never quote a secret
    for (const secret of want.secrets ?? []) expect(JSON.stringify(result.problems), `${name} shows ${secret}`).not.toContain(secret);
  });
});
