export { Call, type AgentBinding, type CallDeps, type CallEvents, type CallInit } from './call.js';
export { CallManager } from './call-manager.js';
export { MessageHub, type MessageResult, type MessageSubscriber } from './message-hub.js';
