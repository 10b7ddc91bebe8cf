export { startGateway, type Gateway, type GatewayOptions } from './gateway.js';
export { loadConfig, type Config, type ConfigInput } from './config/index.js';
