// NoCloud cloud-init metadata → kiln's provisioning model. Pure: no I/O, no system changes.
export { parseMetaData } from './meta-data.ts';
export { parseUserData } from './user-data.ts';
export { SUPPORTED_KEYS, UNAPPLIED } from './keys.ts';
export type { MetaData } from './hostname.ts';
