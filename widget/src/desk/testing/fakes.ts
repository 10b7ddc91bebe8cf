/**
 * In-memory fakes of what the desk depends on (the desk API over fetch and a
 * WebSocket, sip.js through the PhoneStack seam (`fake-phone.ts`), timers,
 * the Lit host), for unit tests without a browser.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { fakeMicrophone } from '../../client/testing/fakes.js';
import type { DeskSocket } from '../desk-client.js';
import type { CallContext, DeskAgent } from '../desk-protocol.js';

export { fakeMicrophone };
export { FakeInvitation, FakePhoneStack, FakePhoneUserAgent, HANG } from './fake-phone.js';

// --- timers -------------------------------------------------------------------

/** setTimeout/clearTimeout that run only when the test says so. */
export class ManualTimers {
  readonly pending = new Map<number, { callback: () => void; ms: number }>();
  #next = 1;

  readonly setTimeout = (callback: () => void, ms: number): unknown => {
    const id = this.#next++;
    this.pending.set(id, { callback, ms });
    return id;
  };

  readonly clearTimeout = (handle: unknown): void => {
    this.pending.delete(handle as number);
  };

  /** The delays of the timers waiting now. */
  get delays(): number[] {
    return [...this.pending.values()].map((t) => t.ms);
  }

  /** Runs every timer waiting now. */
  runAll(): void {
    const due = [...this.pending.values()];
    this.pending.clear();
    for (const timer of due) timer.callback();
  }
}

// --- the events socket --------------------------------------------------------

type Listener = (event: { readonly data: unknown }) => void;

export class FakeSocket implements DeskSocket {
  readyState = 0;
  readonly sent: string[] = [];
  closedByClient = false;
  readonly #listeners = new Map<string, Listener[]>();

  constructor(readonly url: string) {}

  addEventListener(type: string, listener: Listener): void {
    this.#listeners.set(type, [...(this.#listeners.get(type) ?? []), listener]);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('InvalidStateError');
    this.sent.push(data);
  }

  close(): void {
    this.closedByClient = true;
    this.readyState = 3;
  }

  // --- what the gateway does ---
  open(): void {
    this.readyState = 1;
    this.#dispatch('open', { data: undefined });
  }

  receive(frame: unknown): void {
    this.#dispatch('message', { data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
  }

  /** The connection dropped (or the upgrade was refused). */
  drop(): void {
    this.readyState = 3;
    this.#dispatch('error', { data: undefined });
    this.#dispatch('close', { data: undefined });
  }

  #dispatch(type: string, event: { readonly data: unknown }): void {
    for (const listener of this.#listeners.get(type) ?? []) listener(event);
  }
}

export class SocketFactory {
  readonly sockets: FakeSocket[] = [];
  readonly open = (url: string): DeskSocket => {
    const socket = new FakeSocket(url);
    this.sockets.push(socket);
    return socket;
  };

  get last(): FakeSocket {
    const socket = this.sockets.at(-1);
    if (!socket) throw new Error('no socket yet');
    return socket;
  }
}

// --- the desk API over fetch --------------------------------------------------

export interface Recorded {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
  readonly init: RequestInit;
}

type Handler = (request: Recorded) => Response | Promise<Response>;

export const json = (
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): Response =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });

export const apiError = (status: number, code: string, message = code): Response =>
  json(status, { error: { code, message } });

/** A fetch answering from a table of `METHOD /path` handlers (path without the query). */
export class FakeApi {
  readonly requests: Recorded[] = [];
  readonly routes = new Map<string, Handler>();

  route(key: string, handler: Handler | Response | unknown): this {
    this.routes.set(
      key,
      typeof handler === 'function'
        ? (handler as Handler)
        : handler instanceof Response
          ? () => handler.clone()
          : () => json(200, handler),
    );
    return this;
  }

  readonly fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const parsed = new URL(url);
    const method = init.method ?? 'GET';
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    const request: Recorded = { method, path: parsed.pathname + parsed.search, body, init };
    this.requests.push(request);
    const handler = this.routes.get(`${method} ${parsed.pathname}`);
    if (!handler) return apiError(404, 'not_found');
    return handler(request);
  };

  paths(): string[] {
    return this.requests.map((r) => `${r.method} ${r.path}`);
  }
}

export function agent(overrides: Partial<DeskAgent> = {}): DeskAgent {
  return {
    id: 'agent1',
    displayName: 'Grace',
    tier: 'gold',
    state: 'available',
    availability: 'available',
    registered: true,
    activeCalls: 0,
    wrapUpUntil: null,
    queues: ['sales'],
    ...overrides,
  };
}

export const SIP = { wsUrl: 'ws://127.0.0.1:8080/sip', domain: 'parley.test', username: 'agent1' };

export function context(callId: string, overrides: Partial<CallContext> = {}): CallContext {
  return {
    callId,
    state: 'ringing',
    queue: 'sales',
    sessionNumber: '+15550100',
    sessionId: 'web-1',
    origin: 'https://shop.acme.test',
    createdAt: '2025-01-01T10:00:00.000Z',
    publicClaims: {
      iss: 'acme',
      sub: 'web-1',
      scope: 'queue:sales',
      origin: 'https://shop.acme.test',
    },
    privateClaims: { customerId: 'C-1', name: 'Ada Lovelace', tier: 'gold' },
    routing: {
      value: 42.5,
      tier: 'high',
      terms: { benefit: 50, burden: -7.5 },
      algorithm: { name: 'weighted', version: '1' },
      benefit: { score: 50, fallback: false, ms: 12, cached: false },
      burden: { score: 7.5, fallback: true, error: 'timeout', ms: 300, cached: false },
      history: { windowDays: 30, calls: 3, answeredCalls: 2, minutes: 14, repeatContacts: 1 },
      strategy: 'sequential',
      candidates: [
        { agentId: 'agent1', agentTier: 'gold', rank: 0, idleMs: 1000, recentHandleSeconds: 60 },
      ],
      decidedInMs: 4,
    },
    previousCalls: [
      {
        id: 'old1',
        createdAt: '2024-12-30T10:00:00.000Z',
        outcome: 'answered',
        agentId: 'agent2',
        talkSeconds: 95,
      },
    ],
    ...overrides,
  };
}

/** The API a signed-in agent sees. */
export function signedInApi(): FakeApi {
  return new FakeApi()
    .route('POST /desk/api/login', { agent: agent() })
    .route('POST /desk/api/logout', { ok: true })
    .route('GET /desk/api/me', { agent: agent(), sip: SIP })
    .route('GET /desk/api/calls', { calls: [] })
    .route('POST /desk/api/availability', (r: Recorded) =>
      json(200, {
        agent: agent({ availability: (r.body as { availability: 'away' }).availability }),
      }),
    );
}

// --- the Lit host -------------------------------------------------------------

/** A ReactiveControllerHost that records updates and the events dispatched on it. */
export class FakeHost extends EventTarget implements ReactiveControllerHost {
  readonly controllers: ReactiveController[] = [];
  readonly events: CustomEvent[] = [];
  updates = 0;
  isConnected = true;

  addController(controller: ReactiveController): void {
    this.controllers.push(controller);
  }

  removeController(): void {}

  requestUpdate(): void {
    this.updates++;
  }

  get updateComplete(): Promise<boolean> {
    return Promise.resolve(true);
  }

  override dispatchEvent(event: Event): boolean {
    if (event instanceof CustomEvent) this.events.push(event);
    return super.dispatchEvent(event);
  }

  connect(): void {
    for (const c of this.controllers) c.hostConnected?.();
  }

  /** The details of the events of one type, in order. */
  details<T>(type: string): T[] {
    return this.events.filter((e) => e.type === type).map((e) => e.detail as T);
  }
}

export const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));
