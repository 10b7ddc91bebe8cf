export { createHttpApp, type HttpAppDeps } from './app.js';
export { errorHandler, notFound } from './errors.js';
