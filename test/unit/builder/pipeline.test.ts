// The build's stage table: the names progress events carry (and the README and --json users read),
// in order.
import { describe, expect, it } from 'vitest';
import { STAGES } from '../../../builder/pipeline.ts';

describe('build pipeline', () => {
  it('runs its named stages in order', () => {
    expect(STAGES.names).toEqual([
      'validate',
      'binaries',
      'addons',
      'images',
      'rootfs',
      'overlays',
      'pack',
      'outputs',
      'manifest',
      'publish',
    ]);
  });
});
