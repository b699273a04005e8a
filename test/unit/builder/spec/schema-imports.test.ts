// Reading the spec schema takes the output format names, not the converters behind them (GRUB,
// sgdisk, xorriso writers): the schema's bundle holds no other builder/outputs/ module.
import { describe, expect, it } from 'vitest';
import { OUTPUT_FORMATS } from '../../../../builder/outputs/format-names.ts';
import { CONVERTERS } from '../../../../builder/outputs/formats.ts';
import { bundleInputs } from '../../../helpers/bundle.ts';

describe('spec schema imports', () => {
  it('takes the format names only from builder/outputs/', async () => {
    const inputs = await bundleInputs('builder/spec/schema.ts');
    expect(inputs).toContain('builder/spec/schema.ts');
    expect(inputs.filter((f) => f.startsWith('builder/outputs/'))).toEqual(['builder/outputs/format-names.ts']);
  });

  it('the converter table has one converter per format name, in the names order', () => {
    expect(CONVERTERS.map((c) => c.format)).toEqual([...OUTPUT_FORMATS]);
  });
});
