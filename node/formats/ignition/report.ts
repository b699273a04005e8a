// What the Ignition parser's steps share: the file name, and the problems and warnings found so far.
import type { Problem } from '../../../core/errors.ts';

export interface Report {
  file: string;
  problems: Problem[];
  warnings: Problem[];
  error(path: string, message: string, hint?: string): void;
  warn(path: string, message: string, hint?: string): void;
}

export function newReport(file: string): Report {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const make = (path: string, message: string, hint?: string): Problem => ({ file, path, message, ...(hint ? { hint } : {}) });
  return {
    file,
    problems,
    warnings,
    error: (path, message, hint) => void problems.push(make(path, message, hint)),
    warn: (path, message, hint) => void warnings.push(make(path, message, hint)),
  };
}

/** Octal for messages: 420 → "0644". */
export const octal = (mode: number): string => `0${mode.toString(8).padStart(3, '0')}`;
