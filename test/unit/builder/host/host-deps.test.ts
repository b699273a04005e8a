// scripts/host-deps must install every Debian package builder/host/tools.ts says kiln runs.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { HOST_FILES, HOST_TOOLS } from '../../../../builder/host/tools.ts';

const script = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../scripts/host-deps');

/** The words of the bash array `NAME=( ... )` in `text`, comments and blank lines dropped. */
function bashArray(text: string, name: string): string[] {
  const match = new RegExp(`^${name}=\\(([\\s\\S]*?)^\\)`, 'm').exec(text);
  if (!match) throw new Error(`no ${name}=( ... ) array found`);
  return match[1]!
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .flatMap((line) => (line ? line.split(/\s+/) : []));
}

describe('scripts/host-deps', () => {
  const packages = bashArray(readFileSync(script, 'utf8'), 'PACKAGES');

  it('has a plain PACKAGES array of Debian package names', () => {
    expect(packages.length).toBeGreaterThan(10);
    for (const p of packages) expect(p).toMatch(/^[a-z0-9][a-z0-9+.-]+$/);
    expect(new Set(packages).size).toBe(packages.length);
  });

  it('installs every package named in HOST_TOOLS and HOST_FILES', () => {
    const needed = [...new Set([...HOST_TOOLS, ...HOST_FILES].map((t) => t.package))].sort();
    expect(needed.length).toBeGreaterThan(0);
    expect(needed.filter((p) => !packages.includes(p))).toEqual([]);
  });

  it('installs the tools the tests use', () => {
    for (const p of [
      'podman',
      'uidmap',
      'docker-registry',
      'arch-test',
      'fdisk',
      'iproute2',
      'busybox-static',
      'ovmf',
      'seabios',
      'ipxe-qemu',
    ]) {
      expect(packages).toContain(p);
    }
  });

  it('the parser sees a removed package as missing', () => {
    const text = readFileSync(script, 'utf8').replace(/^\s*xorriso\s*$/m, '');
    expect(bashArray(text, 'PACKAGES')).not.toContain('xorriso');
    expect(bashArray('X=(\n  a b # c\n  # d\n  e\n)\n', 'X')).toEqual(['a', 'b', 'e']);
  });
});
