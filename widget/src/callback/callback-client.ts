/**
 * A callback request on the wire (docs/callbacks.md "The request"):
 * 1. the company's token endpoint (`POST /callback-token` of the screening
 *    router) screens the visitor and the number and answers a token with the
 *    scope `callback:<destination>`, the number and time sealed in it;
 * 2. `POST <gateway>/v1/callbacks { token, destination, page, impressionId }`
 *    → `201 { id, events, key }`;
 * 3. the progress: server-sent events at `events` (`EventSource`);
 * 4. `POST <gateway>/v1/callbacks/<id>/cancel?key=` cancels.
 * Nothing here touches the DOM: the controller turns results into state and events.
 */
import { humanMessage } from '@parley/shared/errors';
import type { CallbackCreated, CallbackEvent } from '@parley/shared/protocol';
import {
  callFailed,
  fetchToken,
  isErrorResponse,
  isObject,
  type FetchLike,
  type RequestFailure,
} from '../client/call-token.js';

export type CallbackFailure = RequestFailure;

export interface CallbackRequest {
  /** The company's callback token endpoint. */
  readonly tokenUrl: string;
  /** A queue name or `listing.<id>`. */
  readonly destination: string;
  /** E.164 (checked by `checkPhone`). */
  readonly phone: string;
  readonly country: string | undefined;
  /** `now`, `agent-free` or an ISO 8601 instant. */
  readonly when: string;
  /** The gateway's URL when the page names it (else the token endpoint's answer). */
  readonly gateway: string | undefined;
  /** The page the visitor asks from (`location.href`). */
  readonly page: string;
  readonly impression: string | undefined;
}

export type CallbackRequested =
  | {
      readonly ok: true;
      readonly id: string;
      readonly dueAt: string;
      /** Absolute URL of the progress stream. */
      readonly events: string;
      /** Absolute URL that cancels it. */
      readonly cancel: string;
    }
  | CallbackFailure;

/**
 * The gateway's HTTP base from the page's or the token endpoint's URL:
 * `ws(s)://h/sip` → `http(s)://h`, `http(s)://h/` → `http(s)://h`.
 * Undefined when unusable.
 */
export function gatewayHttpBase(url: string, base: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url, base);
  } catch {
    return undefined;
  }
  if (parsed.protocol === 'ws:' || parsed.protocol === 'wss:') {
    parsed = new URL(parsed.href.replace(/^ws/, 'http'));
    parsed.pathname = parsed.pathname.replace(/\/sip\/?$/, '');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return undefined;
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

/** Never rejects, except with the AbortSignal's reason when it is aborted. */
export async function requestCallback(
  fetchFn: FetchLike,
  request: CallbackRequest,
  signal: AbortSignal,
): Promise<CallbackRequested> {
  const token = await fetchToken(
    fetchFn,
    request.tokenUrl,
    {
      destination: request.destination,
      phone: request.phone,
      when: request.when,
      ...(request.country === undefined ? {} : { country: request.country }),
    },
    signal,
  );
  if (!token.ok) return token;
  const named = request.gateway ?? token.gateway?.url;
  const gateway = named === undefined ? undefined : gatewayHttpBase(named, request.page);
  if (gateway === undefined)
    return callFailed('no gateway URL: set the gateway attribute or answer it');
  let response: Response;
  try {
    response = await fetchFn(`${gateway}/v1/callbacks`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({
        token: token.token,
        destination: request.destination,
        page: request.page,
        ...(request.impression === undefined ? {} : { impressionId: request.impression }),
      }),
      cache: 'no-store',
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw error;
    return callFailed(`gateway unreachable: ${String(error)}`);
  }
  const body = await response.json().catch((error: unknown) => {
    if (signal.aborted) throw error;
    return undefined;
  });
  if (response.status === 201 && isCreated(body)) {
    const events = new URL(body.events, `${gateway}/`);
    const key = events.searchParams.get('key') ?? '';
    return {
      ok: true,
      id: body.id,
      dueAt: body.dueAt,
      events: events.href,
      cancel: `${gateway}/v1/callbacks/${encodeURIComponent(body.id)}/cancel?key=${encodeURIComponent(key)}`,
    };
  }
  if (isErrorResponse(body)) {
    const { code, message } = body.error;
    return {
      ok: false,
      code,
      message: typeof message === 'string' ? message : '',
      human: humanMessage(code),
    };
  }
  return callFailed(`gateway answered ${response.status}`);
}

/**
 * Follows a callback's progress until it ends. `EventSource` reconnects by
 * itself after a dropped connection (the gateway sends the current phase
 * first); it is closed at `ended` or by the returned function.
 */
export function watchCallback(
  url: string,
  onEvent: (event: CallbackEvent) => void,
  EventSourceImpl: typeof EventSource = EventSource,
): () => void {
  const source = new EventSourceImpl(url);
  source.addEventListener('callback', (message) => {
    let event: CallbackEvent;
    try {
      event = JSON.parse((message as MessageEvent<string>).data) as CallbackEvent;
    } catch {
      return;
    }
    if (event.phase === 'ended') source.close();
    onEvent(event);
  });
  return () => source.close();
}

/** Cancels; resolves true when the gateway took it (a callback already over is not an error). */
export async function cancelCallback(fetchFn: FetchLike, url: string): Promise<boolean> {
  try {
    const response = await fetchFn(url, { method: 'POST', cache: 'no-store' });
    return response.ok;
  } catch {
    return false;
  }
}

function isCreated(body: unknown): body is CallbackCreated {
  return isObject(body) && typeof body['id'] === 'string' && typeof body['events'] === 'string';
}
