export { loadConfig, type Config, type LoadConfigOptions } from './load.js';
export { API_SCOPES, type ApiScope, type ConfigInput } from './schema.js';
export {
  callingHoursSchema,
  gatedTenantSchema,
  type CallingHours,
  type GatedPrompts,
  type GatedTenantConfig,
} from './gated.js';
