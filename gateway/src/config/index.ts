export { loadConfig, type Config, type LoadConfigOptions } from './load.js';
export type { ConfigInput } from './schema.js';
