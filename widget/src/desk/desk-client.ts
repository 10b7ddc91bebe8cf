/**
 * The desk API of the gateway (`gateway/src/desk/`), without a DOM: the REST
 * calls (sign-in, profile, availability, calls) and the events WebSocket, which
 * it keeps open, reconnecting with backoff after a drop. Same origin as the
 * page; the session is an HttpOnly cookie the browser sends by itself.
 *
 * The socket is authenticated by that cookie during the upgrade; a refused
 * upgrade (401) reaches the browser as a plain close, so after a socket that
 * never opened the client asks `GET /me` before trying again, and reports
 * `unauthorized` instead of retrying forever with an expired session.
 */
import type { FetchLike } from '../client/call-token.js';
import { Emitter } from '../client/emitter.js';
import { DeskApiError } from './desk-api-error.js';
import {
  parseAgent,
  parseCallContext,
  parseDeskEvent,
  parseStoredMessage,
  type Availability,
  type CallDetail,
  type CallSummary,
  type DeskAgent,
  type DeskCommand,
  type DeskEvent,
  type DeskProfile,
} from './desk-protocol.js';
import { DESK_API_PATH, RECENT_CALLS_LIMIT } from './defaults.js';
import { exponentialBackoff, type ReconnectPolicy } from './reconnect-policy.js';

/** The part of a browser WebSocket the client uses (`readyState` 1 is OPEN). */
export interface DeskSocket {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open' | 'close' | 'error', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { readonly data: unknown }) => void): void;
}

export interface DeskClientDeps {
  readonly fetch: FetchLike;
  /** `new WebSocket(url)`. */
  readonly openSocket: (url: string) => DeskSocket;
  /** The page's URL: the API is `/desk/api/` on its origin. */
  readonly baseUrl: string;
  readonly reconnect?: ReconnectPolicy;
  readonly setTimeout?: (callback: () => void, ms: number) => unknown;
  readonly clearTimeout?: (handle: unknown) => void;
}

/**
 * `closed`: not connected and not trying; `connecting`: the first try;
 * `open`; `reconnecting`: the socket dropped and a retry is due or under way.
 */
export type DeskConnection = 'closed' | 'connecting' | 'open' | 'reconnecting';

export interface DeskClientEvents {
  event: [DeskEvent];
  connection: [DeskConnection];
  /** The session expired while the socket was reconnecting: sign in again. */
  unauthorized: [];
}

const OPEN = 1;

export class DeskClient {
  readonly #deps: DeskClientDeps;
  readonly #api: URL;
  readonly #policy: ReconnectPolicy;
  readonly #events = new Emitter<DeskClientEvents>();
  readonly #setTimeout: (callback: () => void, ms: number) => unknown;
  readonly #clearTimeout: (handle: unknown) => void;
  #connection: DeskConnection = 'closed';
  #socket: DeskSocket | undefined;
  /** connect() was called and disconnect() was not. */
  #wanted = false;
  /** Tries in a row that failed to open, or the drop that started them. */
  #failures = 0;
  #retry: unknown;

  constructor(deps: DeskClientDeps) {
    this.#deps = deps;
    this.#api = new URL(DESK_API_PATH, deps.baseUrl);
    this.#policy = deps.reconnect ?? exponentialBackoff();
    this.#setTimeout = deps.setTimeout ?? ((callback, ms) => setTimeout(callback, ms));
    this.#clearTimeout =
      deps.clearTimeout ?? ((handle) => clearTimeout(handle as ReturnType<typeof setTimeout>));
  }

  get connection(): DeskConnection {
    return this.#connection;
  }

  on<K extends keyof DeskClientEvents>(
    event: K,
    listener: (...args: DeskClientEvents[K]) => void,
  ): () => void {
    return this.#events.on(event, listener);
  }

  // --- REST -------------------------------------------------------------

  /** Signs in; the gateway sets the session cookie. Rejects with a DeskApiError (401, 429…). */
  async login(username: string, password: string): Promise<DeskAgent> {
    const body = await this.#request('POST', 'login', { username, password });
    return agentOf(body, 'login');
  }

  async logout(): Promise<void> {
    await this.#request('POST', 'logout', {});
  }

  /** The signed-in agent and its SIP settings; a 401 when no session. */
  async me(): Promise<DeskProfile> {
    const body = (await this.#request('GET', 'me')) as { sip?: Partial<DeskProfile['sip']> };
    const sip = body?.sip;
    if (
      typeof sip?.wsUrl !== 'string' ||
      typeof sip.domain !== 'string' ||
      typeof sip.username !== 'string'
    )
      throw DeskApiError.badBody('me');
    return {
      agent: agentOf(body, 'me'),
      sip: { wsUrl: sip.wsUrl, domain: sip.domain, username: sip.username },
    };
  }

  async setAvailability(value: Availability): Promise<DeskAgent> {
    return agentOf(
      await this.#request('POST', 'availability', { availability: value }),
      'availability',
    );
  }

  /** The agent's recent calls, newest first. */
  async recentCalls(limit = RECENT_CALLS_LIMIT): Promise<CallSummary[]> {
    const body = (await this.#request('GET', `calls?limit=${limit}`)) as { calls?: unknown };
    if (!Array.isArray(body?.calls)) throw DeskApiError.badBody('calls');
    return body.calls.filter(
      (c): c is CallSummary => typeof c === 'object' && c !== null && typeof c.id === 'string',
    );
  }

  /** One call's record, its messages, and its context while live. */
  async callDetail(id: string): Promise<CallDetail> {
    const body = (await this.#request('GET', `calls/${encodeURIComponent(id)}`)) as Record<
      string,
      unknown
    > | null;
    if (!body || typeof body['id'] !== 'string') throw DeskApiError.badBody('calls/:id');
    const messages = Array.isArray(body['messages'])
      ? body['messages'].map(parseStoredMessage).filter((m) => m !== undefined)
      : [];
    return {
      ...(body as unknown as CallSummary),
      messages,
      context: parseCallContext(body['context']) ?? null,
      session: body['session'] ?? null,
    };
  }

  // --- the events socket ------------------------------------------------

  /** Opens the events socket and keeps it open until disconnect(). */
  connect(): void {
    if (this.#wanted) return;
    this.#wanted = true;
    this.#failures = 0;
    this.#open('connecting');
  }

  disconnect(): void {
    this.#wanted = false;
    if (this.#retry !== undefined) this.#clearTimeout(this.#retry);
    this.#retry = undefined;
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.close(1000, 'signed out');
    this.#setConnection('closed');
  }

  /** Sends a frame; false when the socket is not open (nothing is queued). */
  send(command: DeskCommand): boolean {
    const socket = this.#socket;
    if (!socket || socket.readyState !== OPEN) return false;
    socket.send(JSON.stringify(command));
    return true;
  }

  /** Removes the listeners and closes the socket. */
  dispose(): void {
    this.disconnect();
    this.#events.clear();
  }

  #open(state: 'connecting' | 'reconnecting'): void {
    this.#setConnection(state);
    const url = new URL('events', this.#api);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    let socket: DeskSocket;
    try {
      socket = this.#deps.openSocket(url.href);
    } catch {
      this.#scheduleRetry(false);
      return;
    }
    this.#socket = socket;
    let opened = false;
    socket.addEventListener('open', () => {
      if (socket !== this.#socket) return;
      opened = true;
      this.#failures = 0;
      this.#setConnection('open');
    });
    socket.addEventListener('message', (event) => {
      if (socket !== this.#socket) return;
      const parsed = parseDeskEvent(event.data);
      if (parsed) this.#events.emit('event', parsed);
    });
    // Browsers follow an 'error' with a 'close'; only the close counts.
    socket.addEventListener('close', () => {
      if (socket !== this.#socket) return;
      this.#socket = undefined;
      if (this.#wanted) this.#scheduleRetry(opened);
    });
  }

  #scheduleRetry(wasOpen: boolean): void {
    this.#failures = wasOpen ? 1 : this.#failures + 1;
    const delay = this.#policy.nextDelayMs(this.#failures);
    if (delay === null) {
      this.#wanted = false;
      this.#setConnection('closed');
      return;
    }
    this.#setConnection('reconnecting');
    this.#retry = this.#setTimeout(() => {
      this.#retry = undefined;
      void this.#reconnect(wasOpen);
    }, delay);
  }

  async #reconnect(wasOpen: boolean): Promise<void> {
    if (!this.#wanted) return;
    if (!wasOpen) {
      // The last try never opened: was the upgrade refused for want of a session?
      try {
        await this.me();
      } catch (error) {
        if (error instanceof DeskApiError && error.unauthorized) {
          this.disconnect();
          this.#events.emit('unauthorized');
          return;
        }
        // Unreachable or another failure: the socket's try tells the same, and backs off.
      }
      if (!this.#wanted || this.#socket) return;
    }
    this.#open('reconnecting');
  }

  #setConnection(state: DeskConnection): void {
    if (state === this.#connection) return;
    this.#connection = state;
    this.#events.emit('connection', state);
  }

  async #request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const init: RequestInit = {
      method,
      headers:
        body === undefined
          ? { Accept: 'application/json' }
          : { Accept: 'application/json', 'Content-Type': 'application/json' },
      credentials: 'same-origin',
      cache: 'no-store',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    };
    let response: Response;
    try {
      response = await this.#deps.fetch(new URL(path, this.#api).href, init);
    } catch (error) {
      throw DeskApiError.network(error);
    }
    let json: unknown;
    try {
      json = await response.json();
    } catch {
      json = undefined;
    }
    if (!response.ok)
      throw DeskApiError.fromResponse(response.status, json, response.headers.get('retry-after'));
    return json;
  }
}

function agentOf(body: unknown, path: string): DeskAgent {
  const agent = parseAgent((body as { agent?: unknown } | undefined)?.agent);
  if (!agent) throw DeskApiError.badBody(path);
  return agent;
}
