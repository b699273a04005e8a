// PLACEHOLDER while the iso converter is being written (issue 3).
import { KilnError } from '../errors.ts';
import type { Converter } from './formats.ts';

export const isoConverter: Converter = {
  format: 'iso',
  description: 'iso',
  tools: [],
  convert: async () => {
    throw new KilnError('the iso output is not implemented yet');
  },
};
