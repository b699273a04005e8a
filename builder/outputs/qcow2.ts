// PLACEHOLDER while the qcow2 converter is being written (issue 3).
import { KilnError } from '../errors.ts';
import type { Converter } from './formats.ts';

export const qcow2Converter: Converter = {
  format: 'qcow2',
  description: 'qcow2',
  tools: [],
  convert: async () => {
    throw new KilnError('the qcow2 output is not implemented yet');
  },
};
