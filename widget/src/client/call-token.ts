/**
 * Asks the company's token endpoint for a call token (the route of
 * `shared/src/screening/router.ts`): `POST { queue }` with the page's cookies,
 * answered by `CallTokenResponse` or, on refusal, `CallTokenErrorResponse`.
 */
import { ERROR_CODES, humanMessage } from '@parley/shared/errors';
import type {
  CallTokenErrorResponse,
  CallTokenResponse,
  GatewayInfo,
} from '@parley/shared/screening';

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** A refusal or failure, as the token endpoints and the gateway's HTTP API answer it. */
export type RequestFailure = {
  readonly ok: false;
  readonly code: string;
  readonly message: string;
  readonly human: string;
  readonly retryAfterSeconds?: number;
};

export type CallTokenResult =
  | {
      readonly ok: true;
      readonly token: string;
      readonly expiresAt: string;
      readonly gateway?: GatewayInfo;
    }
  | RequestFailure;

/** Never rejects, except with the AbortSignal's reason when it is aborted. */
export async function fetchCallToken(
  fetchFn: FetchLike,
  url: string,
  queue: string,
  signal: AbortSignal,
  /** More fields of the request (a marketplace call's listing and impression). */
  extra: Readonly<Record<string, string>> = {},
): Promise<CallTokenResult> {
  return fetchToken(fetchFn, url, { queue, ...extra }, signal);
}

/**
 * `POST body` to a token endpoint of the screening router (`/call-token`,
 * `/callback-token`): the same answers for both. Never rejects, except with
 * the AbortSignal's reason when it is aborted.
 */
export async function fetchToken(
  fetchFn: FetchLike,
  url: string,
  body: Readonly<Record<string, string>>,
  signal: AbortSignal,
): Promise<CallTokenResult> {
  let response: Response;
  try {
    response = await fetchFn(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify(body),
      credentials: 'include',
      cache: 'no-store',
      signal,
    });
  } catch (error) {
    if (signal.aborted) throw error;
    return callFailed(`token endpoint unreachable: ${String(error)}`);
  }
  let answer: unknown;
  try {
    answer = await response.json();
  } catch (error) {
    if (signal.aborted) throw error;
    answer = undefined;
  }
  if (response.ok) {
    return isTokenResponse(answer)
      ? {
          ok: true,
          token: answer.token,
          expiresAt: answer.expiresAt,
          ...(answer.gateway ? { gateway: answer.gateway } : {}),
        }
      : callFailed(`token endpoint answered ${response.status} without a token`);
  }
  if (isErrorResponse(answer)) {
    const { code, message, human } = answer.error;
    return {
      ok: false,
      code,
      message: typeof message === 'string' ? message : '',
      human: typeof human === 'string' && human ? human : humanMessage(code),
      ...(typeof answer.retryAfterSeconds === 'number'
        ? { retryAfterSeconds: answer.retryAfterSeconds }
        : {}),
    };
  }
  return callFailed(`token endpoint answered ${response.status}`);
}

/** `call_failed` with what went wrong in the message. */
export function callFailed(detail: string): RequestFailure {
  return {
    ok: false,
    code: 'call_failed',
    message: `${ERROR_CODES.call_failed.message} (${detail})`,
    human: humanMessage('call_failed'),
  };
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function isTokenResponse(body: unknown): body is CallTokenResponse {
  // The token goes into a SIP header: a compact JWS (base64url and dots) only.
  if (!isObject(body) || typeof body['token'] !== 'string' || !/^[\w.~+/=-]+$/.test(body['token']))
    return false;
  const gateway = body['gateway'];
  return gateway === undefined || (isObject(gateway) && typeof gateway['url'] === 'string');
}

/** `{ error: { code, … } }` with a code: the error body of the registry (docs/errors.md). */
export function isErrorResponse(body: unknown): body is CallTokenErrorResponse {
  return (
    isObject(body) &&
    isObject(body['error']) &&
    typeof body['error']['code'] === 'string' &&
    body['error']['code'] !== ''
  );
}
