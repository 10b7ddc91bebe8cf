/**
 * Codes of call token verification (`shared/src/tokens`).
 * Joined into ERROR_CODES by `../codes.ts`.
 */
import { TRY_AGAIN, type DomainCodes } from './info.js';

export const TOKEN_CODES = {
  token_missing: {
    domain: 'token',
    http: 401,
    sip: 401,
    message: 'No call token was presented.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  malformed: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token is not a well-formed compact JWS with the expected claims.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  too_large: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token is larger than the configured limit.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  unsupported_algorithm: {
    domain: 'token',
    http: 401,
    sip: 403,
    message:
      'The call token is signed with an algorithm that is not accepted (only ES256 and EdDSA are).',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  bad_header: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token header is wrong (typ, kid or an unsupported crit extension).',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  unknown_key: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token names a key (kid) the tenant does not publish.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  key_unavailable: {
    domain: 'token',
    http: 503,
    sip: 503,
    message: "The tenant's signing keys could not be fetched.",
    human: 'Calling is briefly unavailable. Please try again in a minute.',
  },
  bad_signature: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token signature does not verify.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  wrong_issuer: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token was issued by a tenant this gateway does not know.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  wrong_audience: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token was issued for another gateway.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  expired: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token has expired.',
    human: `This call link has expired. ${TRY_AGAIN}`,
  },
  not_yet_valid: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token is not valid yet (nbf/iat in the future beyond the clock skew).',
    human: `This call could not be authorised. Please check your device's clock and try again.`,
  },
  lifetime_too_long: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token lives longer than 300 seconds.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  replayed: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token (jti) has already been used.',
    human: `This call link was already used. ${TRY_AGAIN}`,
  },
  origin_mismatch: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token was issued for another page origin.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  scope_denied: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The call token does not allow calling this destination.',
    human: 'This call is not allowed from this page.',
  },
  decrypt_failed: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The encrypted part of the call token (enc) could not be decrypted.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
  enc_mismatch: {
    domain: 'token',
    http: 401,
    sip: 403,
    message: 'The encrypted part of the call token belongs to another token.',
    human: `This call could not be authorised. ${TRY_AGAIN}`,
  },
} as const satisfies DomainCodes<'token'>;
