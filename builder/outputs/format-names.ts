// The output formats, in the order they are made: the names alone, with nothing behind them. The
// spec schema takes its list from here, so an unknown format fails validation before any work
// starts, and whatever reads the schema does not load the converters (formats.ts).
export const OUTPUT_FORMATS = ['tar', 'raw', 'qcow2', 'iso', 'pxe', 'update'] as const;

export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
