import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { lock } from '../../../../core/fs.ts';

describe('base cache lock', () => {
  it('a second holder waits until the first releases', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'kiln-lock-')), 'k.lock');
    const order: string[] = [];
    const release1 = await lock(file, () => undefined);
    const second = lock(file, () => order.push('waiting')).then((release) => {
      order.push('second acquired');
      return release;
    });
    await new Promise((r) => setTimeout(r, 300));
    order.push('first releasing');
    await release1();
    const release2 = await second;
    expect(order).toEqual(['waiting', 'first releasing', 'second acquired']);
    await release2();
    expect(existsSync(file)).toBe(false);
  }, 10_000);

  it('takes over a lock left by a process that no longer exists', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'kiln-lock-')), 'k.lock');
    writeFileSync(file, '999999999');
    const release = await lock(file, () => undefined);
    await release();
    expect(existsSync(file)).toBe(false);
  });
});
