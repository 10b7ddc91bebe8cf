export { createTokenService, type TokenService, type TokenServiceDeps } from './token-service.js';
