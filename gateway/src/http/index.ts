export { createHttpApp, type HttpAppDeps } from './app.js';
export { errorHandler, notFound } from './errors.js';
export { createHttpServer, trustProxyFn, type HttpServerOptions } from './server.js';
