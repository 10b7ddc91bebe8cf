/**
 * The resident device API of the gateway (`/resident/api/`, gateway/src/gated/http/device-router.ts),
 * without a DOM: the device signs in with its credential and gets a bearer
 * session and its SIP settings; the resident signs in with their PIN; the PIN
 * keyed while a call rings is sent for re-verification and answered with the
 * one-time ticket the device puts in its 200 OK.
 */
import type { FetchLike } from '../client/call-token.js';
import { DeskApiError } from '../desk/desk-api-error.js';

export interface DeviceCredential {
  readonly tenant: string;
  readonly device: string;
  readonly secret: string;
}

export interface DeviceSession {
  readonly token: string;
  readonly expiresAt: string;
  readonly device: {
    readonly address: string;
    readonly kind: 'sip' | 'app';
    readonly name: string | null;
  };
  readonly sip: { readonly wsPath: string; readonly domain: string; readonly username: string };
}

export interface ResidentSignIn {
  readonly resident: { readonly id: string | null; readonly name: string | null };
  readonly until: string;
}

export interface DeviceState {
  readonly registered: boolean;
  readonly signedIn: {
    readonly residentId: string;
    readonly name: string;
    readonly until: string;
  } | null;
}

export interface PinTicket {
  readonly ticket: string;
  /** The 200 OK header that carries it (`X-Parley-Device-Ticket`). */
  readonly header: string;
}

export class ResidentClient {
  readonly #fetch: FetchLike;
  readonly #base: string;
  #token: string | undefined;

  /** `gatewayUrl`: the gateway's HTTP origin (the API is `/resident/api/` on it). */
  constructor(options: { fetch: FetchLike; gatewayUrl: string }) {
    this.#fetch = options.fetch;
    this.#base = new URL('/resident/api/', options.gatewayUrl).href;
  }

  get gatewayUrl(): string {
    return new URL('/', this.#base).href;
  }

  async signInDevice(credential: DeviceCredential): Promise<DeviceSession> {
    const session = await this.#call<DeviceSession>('POST', 'session', credential, false);
    if (typeof session.token !== 'string' || typeof session.sip?.username !== 'string')
      throw DeskApiError.badBody('session');
    this.#token = session.token;
    return session;
  }

  signOutDevice(): void {
    this.#token = undefined;
  }

  state(): Promise<DeviceState> {
    return this.#call('GET', 'state');
  }

  signInResident(pin: string, resident?: string): Promise<ResidentSignIn> {
    return this.#call('POST', 'sign-in', resident ? { resident, pin } : { pin });
  }

  async signOutResident(): Promise<void> {
    await this.#call('POST', 'sign-out', {});
  }

  /** The caller's name of a call ringing here, when the gateway authorised it. */
  async callerName(callId: string): Promise<string | undefined> {
    try {
      const info = await this.#call<{ callerName: string | null }>(
        'GET',
        `calls/${encodeURIComponent(callId)}`,
      );
      return info.callerName ?? undefined;
    } catch {
      return undefined;
    }
  }

  submitPin(callId: string, pin: string): Promise<PinTicket> {
    return this.#call('POST', `calls/${encodeURIComponent(callId)}/pin`, { pin });
  }

  async #call<T>(method: string, path: string, body?: unknown, authorised = true): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (authorised && this.#token) headers['authorization'] = `Bearer ${this.#token}`;
    let response: Response;
    try {
      response = await this.#fetch(new URL(path, this.#base).href, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (error) {
      throw DeskApiError.network(error);
    }
    const text = await response.text().catch(() => '');
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok)
      throw DeskApiError.fromResponse(response.status, parsed, response.headers.get('retry-after'));
    if (parsed === undefined && response.status !== 204) throw DeskApiError.badBody(path);
    return parsed as T;
  }
}
