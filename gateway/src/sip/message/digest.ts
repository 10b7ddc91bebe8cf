/**
 * HTTP Digest authentication as SIP uses it (RFC 3261 §22.4, RFC 7616, RFC 8760):
 * parsing and writing WWW-Authenticate / Proxy-Authenticate challenges and
 * Authorization / Proxy-Authorization credentials, and computing or verifying the
 * response with node:crypto. Algorithms MD5, SHA-256 and SHA-512-256 with their -sess
 * variants; qop auth and auth-int; userhash (RFC 7616 §3.4.4).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { SipParseError, excerpt } from './sip-parse-error.js';
import { isToken, quote, readQuoted, scanToken, skipWsp } from './lexer.js';

export type DigestAlgorithm =
  'MD5' | 'MD5-sess' | 'SHA-256' | 'SHA-256-sess' | 'SHA-512-256' | 'SHA-512-256-sess';

const ALGORITHMS: ReadonlyMap<string, DigestAlgorithm> = new Map(
  (['MD5', 'MD5-sess', 'SHA-256', 'SHA-256-sess', 'SHA-512-256', 'SHA-512-256-sess'] as const).map(
    (a) => [a.toLowerCase(), a],
  ),
);

const HASHES: Readonly<Record<string, string>> = {
  MD5: 'md5',
  'SHA-256': 'sha256',
  'SHA-512-256': 'sha512-256',
};

/** A challenge or credentials header split into its scheme and (unquoted) parameters. */
export interface AuthHeader {
  readonly scheme: string;
  /** Lower-case names → unquoted values. */
  readonly params: ReadonlyMap<string, string>;
}

export interface DigestChallenge {
  readonly realm: string;
  readonly nonce: string;
  readonly opaque?: string | undefined;
  /** MD5 when the challenge names none (RFC 7616 §3.3). */
  readonly algorithm: DigestAlgorithm;
  /** The qop values offered, e.g. ['auth', 'auth-int']; undefined for an RFC 2069 challenge. */
  readonly qop?: readonly string[] | undefined;
  readonly stale?: boolean | undefined;
  readonly domain?: string | undefined;
  readonly userhash?: boolean | undefined;
  readonly charset?: string | undefined;
}

export interface DigestCredentials {
  /** The user name, or H(username ":" realm) when userhash is true. */
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  /** The digest-uri: in SIP the Request-URI. */
  readonly uri: string;
  readonly response: string;
  readonly algorithm?: DigestAlgorithm | undefined;
  readonly cnonce?: string | undefined;
  readonly opaque?: string | undefined;
  readonly qop?: 'auth' | 'auth-int' | undefined;
  /** nonce-count, 8 hex digits. */
  readonly nc?: string | undefined;
  readonly userhash?: boolean | undefined;
}

/** Parses `scheme param=value, param="quoted value", ...` (RFC 7235 §2.1). */
export function parseAuthHeader(value: string): AuthHeader {
  let i = skipWsp(value, 0);
  const schemeEnd = scanToken(value, i);
  if (schemeEnd === i) throw bad(value, 'no auth scheme');
  const scheme = value.slice(i, schemeEnd);
  const params = new Map<string, string>();
  i = skipWsp(value, schemeEnd);
  if (i < value.length && schemeEnd === i) throw bad(value, 'no space after the scheme');
  while (i < value.length) {
    const nameEnd = scanToken(value, i);
    if (nameEnd === i) throw bad(value, 'parameter name');
    const name = value.slice(i, nameEnd).toLowerCase();
    i = skipWsp(value, nameEnd);
    if (value.charCodeAt(i) !== 0x3d) throw bad(value, `no '=' after ${name}`);
    i = skipWsp(value, i + 1);
    let v: string;
    if (value.charCodeAt(i) === 0x22) {
      const q = readQuoted(value, i, 'auth parameter');
      v = q.value;
      i = q.end;
    } else {
      const end = scanToken(value, i);
      if (end === i) throw bad(value, `value of ${name}`);
      v = value.slice(i, end);
      i = end;
    }
    if (params.has(name)) throw bad(value, `${name} given twice`);
    params.set(name, v);
    i = skipWsp(value, i);
    if (i < value.length) {
      if (value.charCodeAt(i) !== 0x2c) throw bad(value, `expected ',' after ${name}`);
      i = skipWsp(value, i + 1);
    }
  }
  return { scheme, params };
}

/** Parses a Digest WWW-Authenticate / Proxy-Authenticate value. */
export function parseDigestChallenge(value: string): DigestChallenge {
  const { scheme, params } = parseAuthHeader(value);
  if (scheme.toLowerCase() !== 'digest') throw bad(value, `scheme ${scheme} is not Digest`);
  const qop = params.get('qop');
  return {
    realm: required(params, 'realm', value),
    nonce: required(params, 'nonce', value),
    opaque: params.get('opaque'),
    algorithm: algorithmOf(params.get('algorithm'), value),
    qop:
      qop === undefined
        ? undefined
        : qop
            .split(',')
            .map((q) => q.trim())
            .filter((q) => q !== ''),
    stale: booleanOf(params.get('stale')),
    domain: params.get('domain'),
    userhash: booleanOf(params.get('userhash')),
    charset: params.get('charset'),
  };
}

/** Parses a Digest Authorization / Proxy-Authorization value. */
export function parseDigestCredentials(value: string): DigestCredentials {
  const { scheme, params } = parseAuthHeader(value);
  if (scheme.toLowerCase() !== 'digest') throw bad(value, `scheme ${scheme} is not Digest`);
  const qop = params.get('qop');
  if (qop !== undefined && qop !== 'auth' && qop !== 'auth-int') throw bad(value, `qop ${qop}`);
  const nc = params.get('nc');
  if (nc !== undefined && !/^[0-9a-fA-F]{8}$/.test(nc)) throw bad(value, 'nc');
  if (qop !== undefined && (nc === undefined || params.get('cnonce') === undefined)) {
    throw bad(value, 'qop without nc and cnonce');
  }
  const algorithm = params.get('algorithm');
  return {
    username: required(params, 'username', value),
    realm: required(params, 'realm', value),
    nonce: required(params, 'nonce', value),
    uri: required(params, 'uri', value),
    response: required(params, 'response', value),
    algorithm: algorithm === undefined ? undefined : algorithmOf(algorithm, value),
    cnonce: params.get('cnonce'),
    opaque: params.get('opaque'),
    qop,
    nc,
    userhash: booleanOf(params.get('userhash')),
  };
}

export function formatDigestChallenge(c: DigestChallenge): string {
  const parts = [`realm=${quote(c.realm)}`];
  if (c.domain !== undefined) parts.push(`domain=${quote(c.domain)}`);
  parts.push(`nonce=${quote(c.nonce)}`);
  if (c.opaque !== undefined) parts.push(`opaque=${quote(c.opaque)}`);
  if (c.stale !== undefined) parts.push(`stale=${c.stale ? 'true' : 'false'}`);
  parts.push(`algorithm=${c.algorithm}`);
  if (c.qop !== undefined) parts.push(`qop=${quote(c.qop.join(','))}`);
  if (c.charset !== undefined) parts.push(`charset=${token(c.charset)}`);
  if (c.userhash !== undefined) parts.push(`userhash=${c.userhash ? 'true' : 'false'}`);
  return `Digest ${parts.join(', ')}`;
}

export function formatDigestCredentials(c: DigestCredentials): string {
  const parts = [
    `username=${quote(c.username)}`,
    `realm=${quote(c.realm)}`,
    `nonce=${quote(c.nonce)}`,
    `uri=${quote(c.uri)}`,
    `response=${quote(c.response)}`,
  ];
  if (c.algorithm !== undefined) parts.push(`algorithm=${c.algorithm}`);
  if (c.cnonce !== undefined) parts.push(`cnonce=${quote(c.cnonce)}`);
  if (c.opaque !== undefined) parts.push(`opaque=${quote(c.opaque)}`);
  if (c.qop !== undefined) parts.push(`qop=${c.qop}`);
  if (c.nc !== undefined) parts.push(`nc=${token(c.nc)}`);
  if (c.userhash !== undefined) parts.push(`userhash=${c.userhash ? 'true' : 'false'}`);
  return `Digest ${parts.join(', ')}`;
}

export interface DigestInput {
  readonly algorithm?: DigestAlgorithm | undefined;
  /** The real user name (not the userhash). */
  readonly username: string;
  readonly realm: string;
  readonly nonce: string;
  /** The SIP method of the request (ACK and CANCEL use the INVITE's credentials). */
  readonly method: string;
  readonly uri: string;
  readonly qop?: 'auth' | 'auth-int' | undefined;
  readonly nc?: string | undefined;
  readonly cnonce?: string | undefined;
  /** The message body, for qop auth-int. */
  readonly body?: Buffer | undefined;
  /** Either the password or the stored H(username ":" realm ":" password). */
  readonly password?: string | undefined;
  readonly ha1?: string | undefined;
}

/** H(A1) for a user, to store instead of the password. */
export function digestHa1(
  username: string,
  realm: string,
  password: string,
  algorithm: DigestAlgorithm = 'MD5',
): string {
  return hash(baseOf(algorithm), `${username}:${realm}:${password}`);
}

/** The userhash parameter value: H(username ":" realm) (RFC 7616 §3.4.4). */
export function digestUserhash(
  username: string,
  realm: string,
  algorithm: DigestAlgorithm = 'MD5',
): string {
  return hash(baseOf(algorithm), `${username}:${realm}`);
}

/** The request-digest (RFC 7616 §3.4.1, with the RFC 2069 form when there is no qop). */
export function computeDigestResponse(input: DigestInput): string {
  const algorithm = input.algorithm ?? 'MD5';
  const h = baseOf(algorithm);
  let ha1 =
    input.ha1 ??
    (input.password === undefined
      ? undefined
      : digestHa1(input.username, input.realm, input.password, algorithm));
  if (ha1 === undefined) throw new TypeError('computeDigestResponse needs a password or ha1');
  if (algorithm.endsWith('-sess')) {
    if (input.cnonce === undefined) throw new TypeError(`${algorithm} needs a cnonce`);
    ha1 = hash(h, `${ha1}:${input.nonce}:${input.cnonce}`);
  }
  let a2 = `${input.method}:${input.uri}`;
  if (input.qop === 'auth-int') a2 += `:${hash(h, input.body ?? Buffer.alloc(0))}`;
  const ha2 = hash(h, a2);
  if (input.qop === undefined) return hash(h, `${ha1}:${input.nonce}:${ha2}`);
  if (input.nc === undefined || input.cnonce === undefined)
    throw new TypeError('qop needs nc and cnonce');
  return hash(h, `${ha1}:${input.nonce}:${input.nc}:${input.cnonce}:${input.qop}:${ha2}`);
}

export interface DigestSecret {
  /** The request's method, and its body for auth-int. */
  readonly method: string;
  readonly body?: Buffer | undefined;
  /** The real user name when credentials carry a userhash. */
  readonly username?: string | undefined;
  readonly password?: string | undefined;
  readonly ha1?: string | undefined;
}

/**
 * Recomputes the response from the credentials and the secret and compares in constant
 * time. Checking realm, nonce freshness, nc replay and the uri against the Request-URI
 * is the caller's job (it owns the nonces).
 */
export function verifyDigestResponse(
  credentials: DigestCredentials,
  secret: DigestSecret,
): boolean {
  const algorithm = credentials.algorithm ?? 'MD5';
  const username = secret.username ?? credentials.username;
  if (credentials.userhash === true) {
    if (secret.username === undefined) return false;
    if (
      !sameText(
        digestUserhash(secret.username, credentials.realm, algorithm),
        credentials.username.toLowerCase(),
      )
    ) {
      return false;
    }
  }
  const expected = computeDigestResponse({
    algorithm,
    username,
    realm: credentials.realm,
    nonce: credentials.nonce,
    method: secret.method,
    uri: credentials.uri,
    qop: credentials.qop,
    nc: credentials.nc,
    cnonce: credentials.cnonce,
    body: secret.body,
    password: secret.password,
    ha1: secret.ha1,
  });
  return sameText(expected, credentials.response.toLowerCase());
}

export interface AnswerOptions {
  readonly username: string;
  readonly password?: string | undefined;
  readonly ha1?: string | undefined;
  readonly method: string;
  readonly uri: string;
  readonly body?: Buffer | undefined;
  readonly cnonce: string;
  /** Nonce count for this nonce, from 1. */
  readonly nc?: number;
}

/** Client side: the credentials answering a challenge (qop auth preferred, auth-int if alone). */
export function answerDigestChallenge(
  challenge: DigestChallenge,
  options: AnswerOptions,
): DigestCredentials {
  const qop =
    challenge.qop === undefined
      ? undefined
      : challenge.qop.includes('auth')
        ? 'auth'
        : challenge.qop.includes('auth-int')
          ? 'auth-int'
          : undefined;
  if (challenge.qop !== undefined && qop === undefined)
    throw new TypeError(`no supported qop in ${challenge.qop.join(',')}`);
  const nc = qop === undefined ? undefined : (options.nc ?? 1).toString(16).padStart(8, '0');
  const response = computeDigestResponse({
    algorithm: challenge.algorithm,
    username: options.username,
    realm: challenge.realm,
    nonce: challenge.nonce,
    method: options.method,
    uri: options.uri,
    qop,
    nc,
    cnonce:
      qop === undefined && !challenge.algorithm.endsWith('-sess') ? undefined : options.cnonce,
    body: options.body,
    password: options.password,
    ha1: options.ha1,
  });
  return {
    username:
      challenge.userhash === true
        ? digestUserhash(options.username, challenge.realm, challenge.algorithm)
        : options.username,
    realm: challenge.realm,
    nonce: challenge.nonce,
    uri: options.uri,
    response,
    algorithm: challenge.algorithm,
    cnonce:
      qop === undefined && !challenge.algorithm.endsWith('-sess') ? undefined : options.cnonce,
    opaque: challenge.opaque,
    qop,
    nc,
    userhash: challenge.userhash === true ? true : undefined,
  };
}

function hash(algorithm: string, data: string | Buffer): string {
  return createHash(algorithm).update(data).digest('hex');
}

function baseOf(algorithm: DigestAlgorithm): string {
  const base = algorithm.endsWith('-sess') ? algorithm.slice(0, -5) : algorithm;
  return HASHES[base] ?? 'md5';
}

function algorithmOf(value: string | undefined, header: string): DigestAlgorithm {
  if (value === undefined) return 'MD5';
  const algorithm = ALGORITHMS.get(value.toLowerCase());
  if (algorithm === undefined) throw bad(header, `unsupported algorithm ${value}`);
  return algorithm;
}

function booleanOf(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  return value.toLowerCase() === 'true';
}

function required(params: ReadonlyMap<string, string>, name: string, header: string): string {
  const v = params.get(name);
  if (v === undefined) throw bad(header, `missing ${name}`);
  return v;
}

function token(value: string): string {
  if (!isToken(value)) throw new TypeError(`not a token: ${JSON.stringify(value)}`);
  return value;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function bad(value: string, what: string): SipParseError {
  return new SipParseError(`Digest: ${what} in ${excerpt(value)}`);
}
