/**
 * The registrar (RFC 3261 §10.3) for agents' phones: digest authentication
 * (SHA-256 and MD5 challenges side by side, RFC 8760), several contacts per
 * agent, expiry, un-registration (Expires 0, `Contact: *`), and the flow each
 * binding came over so calls reach phones behind NAT or on TCP.
 */
import { clientOf, type SipProtocol } from '../transport/index.js';
import {
  formatDigestChallenge,
  formatNameAddr,
  formatUri,
  isSipUri,
  parseDigestCredentials,
  type DigestAlgorithm,
  type NameAddr,
  type SipRequest,
} from '../message/index.js';
import type { Logger } from '../../observability/index.js';
import type { ServerTransaction } from '../transaction/index.js';
import type { SipStack } from '../sip-stack.js';
import { AccountGuard } from './account-guard.js';
import { paramOf, parseExpires, supportsPath } from './request-fields.js';
import { NOBODY, verifySecret } from './secret.js';
import { NonceFactory } from './nonce.js';
import { NonceCounts } from './nonce-counts.js';

/** Why an authentication was refused (metric label). */
export type AuthFailure = 'credentials' | 'backoff' | 'locked' | 'replay';

/** Against password guessing and replays (config `sip.registration`). */
export interface RegistrarSecurity {
  /** A nonce's lifetime; older ones are answered `stale=true`. */
  readonly nonceSeconds: number;
  readonly backoffAfter: number;
  readonly lockoutAfter: number;
  readonly lockoutSeconds: number;
}

export interface Binding {
  readonly uri: string;
  readonly expiresAt: number;
  readonly flowId: string | undefined;
  /** RFC 3327: the REGISTER's Path, in order (empty when it came straight to us). */
  readonly path: readonly string[];
  /** The phone's own transport (WS for a browser behind an edge proxy). */
  readonly transport: SipProtocol;
  readonly callId: string;
  readonly cseq: number;
}

/** An agent's digest secret: the password, or the stored H(A1) of each base algorithm. */
export interface RegistrarCredentials {
  readonly agentId: string;
  readonly password?: string | undefined;
  readonly ha1?: { readonly MD5?: string; readonly 'SHA-256'?: string } | undefined;
  readonly algorithms?: readonly DigestAlgorithm[] | undefined;
}

export interface RegistrarOptions {
  readonly stack: SipStack;
  /** Digest realm (the gateway's SIP domain). */
  readonly realm: string;
  /**
   * The secret of a digest username, the agent it belongs to and (optionally)
   * its algorithms; a promise when it comes from a database (a gated device's).
   */
  readonly credentials: (
    username: string,
  ) => RegistrarCredentials | undefined | Promise<RegistrarCredentials | undefined>;
  /** Challenged algorithms, most preferred first (RFC 8760 §2.4). */
  readonly algorithms?: readonly DigestAlgorithm[];
  /** The agent's bindings changed (registered, refreshed, expired, removed). */
  readonly onBindings: (agentId: string, bindings: readonly Binding[]) => void;
  readonly logger: Logger;
  readonly minExpires?: number;
  readonly maxExpires?: number;
  readonly defaultExpires?: number;
  readonly maxContactsPerAgent?: number;
  readonly security?: RegistrarSecurity;
  /** An authentication was refused (for metrics). */
  readonly onAuthFailure?: (reason: AuthFailure) => void;
  /** An account was locked (for metrics). */
  readonly onLockout?: (username: string) => void;
  readonly now?: () => number;
}

export class Registrar {
  readonly #options: Required<
    Omit<RegistrarOptions, 'now' | 'onAuthFailure' | 'onLockout' | 'security'>
  > & { now: () => number };
  readonly #onAuthFailure: (reason: AuthFailure) => void;
  readonly #onLockout: (username: string) => void;
  readonly #nonces: NonceFactory;
  readonly #counts: NonceCounts;
  readonly #guard: AccountGuard;
  readonly #log: Logger;
  /** agentId → contact URI → binding */
  readonly #bindings = new Map<string, Map<string, Binding>>();
  #sweep: NodeJS.Timeout;

  constructor(options: RegistrarOptions) {
    this.#options = {
      minExpires: 60,
      maxExpires: 3600,
      defaultExpires: 3600,
      maxContactsPerAgent: 10,
      algorithms: ['SHA-256', 'MD5'],
      now: Date.now,
      ...options,
    };
    const security: RegistrarSecurity = options.security ?? {
      nonceSeconds: 300,
      backoffAfter: 5,
      lockoutAfter: 20,
      lockoutSeconds: 900,
    };
    this.#onAuthFailure = options.onAuthFailure ?? (() => undefined);
    this.#onLockout = options.onLockout ?? (() => undefined);
    const nonceMs = security.nonceSeconds * 1000;
    this.#nonces = new NonceFactory({ now: this.#options.now, maxAgeMs: nonceMs });
    // A nonce's counts are kept a little past its lifetime: until then it is refused as stale anyway.
    this.#counts = new NonceCounts({ ttlMs: nonceMs + 120_000 });
    this.#guard = new AccountGuard({
      backoffAfter: security.backoffAfter,
      lockoutAfter: security.lockoutAfter,
      lockoutMs: security.lockoutSeconds * 1000,
    });
    this.#log = options.logger.child({ module: 'registrar' });
    this.#sweep = setInterval(() => {
      const now = this.#options.now();
      this.#expire();
      this.#counts.sweep(now);
      this.#guard.sweep(now);
    }, 1000);
    this.#sweep.unref();
  }

  bindings(agentId: string): Binding[] {
    return [...(this.#bindings.get(agentId)?.values() ?? [])];
  }

  close(): void {
    clearInterval(this.#sweep);
  }

  /** Drops every binding of an agent (the agent was removed from the directory). */
  forget(agentId: string): void {
    if (!this.#bindings.has(agentId)) return;
    this.#log.info({ agentId }, 'bindings dropped: agent removed');
    this.#commit(agentId, new Map());
  }

  /** Answers a REGISTER (never rejects: a failed credentials lookup is answered 500). */
  async handle(request: SipRequest, tx: ServerTransaction): Promise<void> {
    const stack = this.#options.stack;
    let agent: { agentId: string; username: string } | undefined;
    try {
      agent = await this.#authenticate(request, tx);
    } catch (error) {
      this.#log.error({ err: error }, 'REGISTER not answered: credentials lookup failed');
      stack.respond(tx, 500, { reason: 'Credentials Unavailable' });
      return;
    }
    if (!agent) return;

    // The AOR is the To URI; an agent may register only its own (§10.3 step 6).
    const aor = request.to.uri;
    if (!isSipUri(aor) || (aor.user !== agent.username && aor.user !== agent.agentId)) {
      stack.respond(tx, 403, { reason: 'Not Your Address Of Record' });
      return;
    }

    const now = this.#options.now();
    const current = this.#bindings.get(agent.agentId) ?? new Map<string, Binding>();
    const headerExpires = parseExpires(request.headers.get('expires'));

    if (request.isWildcardContact) {
      // §10.3 step 6: "*" only with Expires: 0 and no other Contact.
      if (headerExpires !== 0) {
        stack.respond(tx, 400, { reason: 'Wildcard Contact Needs Expires 0' });
        return;
      }
      current.clear();
      this.#commit(agent.agentId, current);
      stack.respond(tx, 200, { headers: [['Date', new Date(now).toUTCString()]] });
      return;
    }

    const contacts: NameAddr[] = [...request.contacts];
    const path = request.headers.getAll('path').map((p) => p.trim());
    const transport = clientOf(request, tx.flow).protocol;
    for (const contact of contacts) {
      const expires =
        parseExpires(paramOf(contact, 'expires')) ?? headerExpires ?? this.#options.defaultExpires;
      if (expires > 0 && expires < this.#options.minExpires) {
        stack.respond(tx, 423, { headers: [['Min-Expires', String(this.#options.minExpires)]] });
        return;
      }
    }
    for (const contact of contacts) {
      const uri = formatUri(contact.uri);
      const expires = Math.min(
        parseExpires(paramOf(contact, 'expires')) ?? headerExpires ?? this.#options.defaultExpires,
        this.#options.maxExpires,
      );
      const previous = current.get(uri);
      // §10.3 step 7: an older request of the same registration changes nothing.
      if (previous && previous.callId === request.callId && request.cseq.seq <= previous.cseq)
        continue;
      if (expires === 0) {
        current.delete(uri);
        continue;
      }
      current.set(uri, {
        uri,
        expiresAt: now + expires * 1000,
        flowId: tx.flow.id,
        path,
        transport,
        callId: request.callId,
        cseq: request.cseq.seq,
      });
    }
    if (current.size > this.#options.maxContactsPerAgent) {
      stack.respond(tx, 403, { reason: 'Too Many Contacts' });
      return;
    }
    this.#commit(agent.agentId, current);
    const contactHeaders = [...current.values()].map((b): [string, string] => [
      'Contact',
      `${formatNameAddr({ uri: b.uri })};expires=${Math.max(0, Math.round((b.expiresAt - now) / 1000))}`,
    ]);
    // RFC 3327 §5.3: the stored path is returned to a UA that supports Path.
    const echoPath =
      path.length > 0 && supportsPath(request)
        ? [['Path', path.join(', ')] as [string, string]]
        : [];
    stack.respond(tx, 200, {
      headers: [...contactHeaders, ...echoPath, ['Date', new Date(now).toUTCString()]],
    });
    this.#log.info(
      { agentId: agent.agentId, contacts: current.size, flow: tx.flow.id },
      'registered',
    );
  }

  async #authenticate(
    request: SipRequest,
    tx: ServerTransaction,
  ): Promise<{ agentId: string; username: string } | undefined> {
    const stack = this.#options.stack;
    const header = request.headers.get('authorization');
    // The To user says who is registering, before any credentials: its algorithms are challenged.
    const toUri = request.to.uri;
    const toUser = isSipUri(toUri) && toUri.user ? toUri.user : undefined;
    const claimed = toUser === undefined ? undefined : await this.#options.credentials(toUser);
    const algorithms = claimed?.algorithms ?? this.#options.algorithms;
    const challenge = (stale: boolean) =>
      algorithms.map((algorithm): [string, string] => [
        'WWW-Authenticate',
        formatDigestChallenge({
          realm: this.#options.realm,
          nonce: this.#nonces.create(),
          algorithm,
          qop: ['auth'],
          ...(stale ? { stale: true } : {}),
        }),
      ]);
    if (!header) {
      stack.respond(tx, 401, { headers: challenge(false) });
      return undefined;
    }
    let credentials;
    try {
      credentials = parseDigestCredentials(header);
    } catch {
      stack.respond(tx, 400, { reason: 'Bad Authorization Header' });
      return undefined;
    }
    const username = credentials.username;
    const nonce = this.#nonces.check(credentials.nonce);
    if (credentials.realm !== this.#options.realm || nonce === 'invalid') {
      this.#log.info({ username }, 'REGISTER refused: realm or nonce not ours');
      stack.respond(tx, 401, { headers: challenge(false) });
      return undefined;
    }
    // One answer for every refusal below (unknown user, wrong password, back-off,
    // lockout), so none tells a guesser whether the username exists.
    const refuse = (reason: AuthFailure) => {
      this.#onAuthFailure(reason);
      stack.respond(tx, 403, { reason: 'Forbidden' });
      return undefined;
    };
    // Looked up before the guard is asked: from here to the count of a failure nothing awaits,
    // so REGISTERs sent at once cannot all pass the guard before the first failure is counted.
    const known = username === toUser ? claimed : await this.#options.credentials(username);
    const now = this.#options.now();
    const state = this.#guard.state(username, now);
    if (state !== 'open') {
      this.#log.info({ username, state }, 'REGISTER refused unchecked: too many failures');
      return refuse(state === 'locked' ? 'locked' : 'backoff');
    }
    const ok = known
      ? verifySecret(credentials, known, request.method)
      : verifySecret(credentials, NOBODY, request.method);
    if (!known || !ok) {
      const locked = this.#guard.failed(username, now);
      if (locked) {
        this.#onLockout(username);
        this.#log.warn(
          { username, source: tx.flow.remote.address },
          'account locked: repeated failed authentications',
        );
      } else {
        this.#log.info(
          { username, source: tx.flow.remote.address },
          'REGISTER refused: bad credentials',
        );
      }
      return refuse('credentials');
    }
    if (nonce === 'stale') {
      stack.respond(tx, 401, { headers: challenge(true) });
      return undefined;
    }
    // RFC 7616 §3.4.5: each request under one nonce has a new nc; a repeated one is a replay.
    if (!this.#counts.use(credentials.nonce, credentials.qop ? credentials.nc : undefined, now)) {
      this.#onAuthFailure('replay');
      this.#log.info({ username, nc: credentials.nc }, 'REGISTER refused: nonce count reused');
      stack.respond(tx, 401, { headers: challenge(true) });
      return undefined;
    }
    this.#guard.succeeded(username);
    return { agentId: known.agentId, username: credentials.username };
  }

  #commit(agentId: string, bindings: Map<string, Binding>): void {
    if (bindings.size === 0) this.#bindings.delete(agentId);
    else this.#bindings.set(agentId, bindings);
    this.#options.onBindings(agentId, [...bindings.values()]);
  }

  #expire(): void {
    const now = this.#options.now();
    for (const [agentId, bindings] of this.#bindings) {
      let changed = false;
      for (const [uri, binding] of bindings) {
        if (binding.expiresAt <= now) {
          bindings.delete(uri);
          changed = true;
        }
      }
      if (changed) {
        this.#log.info({ agentId, contacts: bindings.size }, 'binding expired');
        this.#commit(agentId, bindings);
      }
    }
  }
}
