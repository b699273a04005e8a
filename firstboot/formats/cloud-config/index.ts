// NoCloud cloud-init metadata → kiln's provisioning model. Pure: no I/O, no system changes.
export { parseMetaData } from './meta-data.ts';
export { parseUserData, SCRIPTS_DIR } from './user-data.ts';
export { NODE_CONFIG_PATH } from './cloud-config.ts';
export { CloudConfigSchema } from './schema.ts';
export { SUPPORTED_KEYS, UNAPPLIED } from './keys.ts';
export type { MetaData } from './hostname.ts';
