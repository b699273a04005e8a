// Replaced at bundle time by esbuild's `define`; falls back to package.json's version in development.
declare const __KILN_VERSION__: string | undefined;
export const KILN_VERSION: string = typeof __KILN_VERSION__ === 'string' ? __KILN_VERSION__ : '0.1.0-dev';
