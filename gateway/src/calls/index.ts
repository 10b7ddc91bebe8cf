export { Call, type AgentBinding, type CallDeps, type CallEvents, type CallInit } from './call.js';
export { CallManager } from './call-manager.js';
