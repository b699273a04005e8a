// PLACEHOLDER while the raw converter is being written (issue 3).
import { KilnError } from '../errors.ts';
import type { Converter } from './formats.ts';

export const rawConverter: Converter = {
  format: 'raw',
  description: 'raw',
  tools: [],
  convert: async () => {
    throw new KilnError('the raw output is not implemented yet');
  },
};
