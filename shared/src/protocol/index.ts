export * from './messages.js';
export * from './headers.js';
export * from './desk.js';
export * from './queue.js';
export * from './flow-events.js';
export * from './callbacks.js';
export * from './voicemail.js';
