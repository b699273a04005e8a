// PLACEHOLDER while the pxe converter is being written (issue 3).
import { KilnError } from '../errors.ts';
import type { Converter } from './formats.ts';

export const pxeConverter: Converter = {
  format: 'pxe',
  description: 'pxe',
  tools: [],
  convert: async () => {
    throw new KilnError('the pxe output is not implemented yet');
  },
};
