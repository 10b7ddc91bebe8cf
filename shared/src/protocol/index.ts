export * from './messages.js';
export * from './headers.js';
export * from './desk.js';
