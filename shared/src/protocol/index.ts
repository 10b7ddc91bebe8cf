export * from './messages.js';
export * from './headers.js';
