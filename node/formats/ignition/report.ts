// What the Ignition parser's steps share: the report (core/problem.ts) and small value helpers.

/** Octal for messages: 420 → "0644". */
export const octal = (mode: number): string => `0${mode.toString(8).padStart(3, '0')}`;
