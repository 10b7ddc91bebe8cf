/**
 * The screening behind express 5 routes: `POST /call-token` with the JSON body
 * `{ "queue": "sales" }`, and (with `callbacks` in the options) `POST
 * /callback-token` with `{ "destination": "sales", "phone": "(415) 555-0123",
 * "country": "US", "when": "now" }`. express is an optional peer dependency of
 * @parley/shared: this is the only file that imports it, so the core screening
 * works without it.
 *
 * Answers:
 * - 200 `{ token, expiresAt, claims, gateway? }`;
 * - a refusal with the code's HTTP status and `{ error: { code, message, human }, retryAfterSeconds? }`,
 *   plus `Retry-After` when waiting helps (429).
 *
 * Only `application/json` bodies are read. That is deliberate: a cross-site HTML
 * form can post `text/plain` without a CORS preflight, never JSON.
 * Private claims come from `getSession` only, never from the body.
 *
 * express is loaded when a router is created, not when this module is imported:
 * `@parley/shared/screening` exports both, and the core must load without express.
 *
 * The client address is `req.ip`; behind a reverse proxy set express's
 * `trust proxy` so it is the visitor's and not the proxy's (or pass `getIp`).
 */
import { createRequire } from 'node:module';
import type expressModule from 'express';
import type { ErrorRequestHandler, Request, RequestHandler, Response, Router } from 'express';
import { ERROR_CODES, ParleyError } from '../errors/index.js';
import type { CallTokenPublicClaims, PrivateClaims } from '../tokens/index.js';
import type { ScreeningOptions, ScreeningRefused, ScreeningRequest } from './options.js';
import { createScreening, notifyDecision, refusal } from './screening.js';

export interface ScreeningSession {
  readonly id: string;
  /** Claims only the gateway can read: customer id, name, tier. */
  readonly privateClaims?: PrivateClaims;
}

export interface IceServer {
  readonly urls: string | readonly string[];
  readonly username?: string;
  readonly credential?: string;
}

/** Where the widget connects with the token, passed through to it. */
export interface GatewayInfo {
  readonly url: string;
  readonly iceServers?: readonly IceServer[];
  /** `relay`: the browser sends media through TURN only. Default `all`. */
  readonly iceTransportPolicy?: 'all' | 'relay';
}

export interface ScreeningRouterOptions extends ScreeningOptions {
  /** The visitor's web session, from the company's own session middleware. */
  getSession(req: Request): ScreeningSession | undefined | Promise<ScreeningSession | undefined>;
  /**
   * Handed to the widget with each token: fixed, or asked per token (e.g.
   * {@link gatewayInfoSource}, for TURN credentials the gateway mints).
   */
  readonly gateway?:
    GatewayInfo | ((session: ScreeningSession) => GatewayInfo | Promise<GatewayInfo>);
  /**
   * A `gateway` function failed: the token goes out without `gateway` (the widget
   * then uses its own gateway attribute) rather than being lost; this says why.
   */
  readonly onGatewayError?: (error: Error) => void;
  /** Client address; default `req.ip` (which honours express's `trust proxy`). */
  readonly getIp?: (req: Request) => string | undefined;
  /** Largest accepted body. Default `4kb`. */
  readonly bodyLimit?: string | number;
}

/** The 200 body. */
export interface CallTokenResponse {
  readonly token: string;
  /** ISO 8601. */
  readonly expiresAt: string;
  readonly claims: CallTokenPublicClaims;
  readonly gateway?: GatewayInfo;
}

/** The body of every refusal. */
export interface CallTokenErrorResponse {
  readonly error: { readonly code: string; readonly message: string; readonly human: string };
  readonly retryAfterSeconds?: number;
}

/**
 * Validates the options (throws `ParleyError('invalid_config')`) and returns a
 * router to mount where the widget expects it: `app.use('/parley', router)`.
 * Errors of the company's own callbacks (`getSession`, `isBlocked`) and of the
 * store or issuer go to express's error handling via `next(error)`.
 */
export function createScreeningRouter(options: ScreeningRouterOptions): Router {
  const express = loadExpress();
  const screening = createScreening(options);
  if (typeof options.getSession !== 'function') {
    throw new ParleyError(
      'invalid_config',
      'screening: getSession must be a function (req) => session',
    );
  }
  const { getSession, gateway, onDecision } = options;
  const getIp = options.getIp ?? ((req: Request) => req.ip ?? req.socket.remoteAddress);

  /** The fixed gateway info, or the function's answer; a failing function does not lose the token. */
  const gatewayFor = async (session: ScreeningSession | undefined) => {
    if (typeof gateway !== 'function') return gateway;
    if (!session) return undefined;
    try {
      return await gateway(session);
    } catch (error) {
      try {
        options.onGatewayError?.(error instanceof Error ? error : new Error(String(error)));
      } catch {
        // A reporting hook must not lose the token.
      }
      return undefined;
    }
  };

  const handle: RequestHandler = async (req, res) => {
    const session = await getSession(req);
    const body: unknown = req.body;
    const queue =
      typeof body === 'object' && body !== null && !Array.isArray(body)
        ? (body as Record<string, unknown>).queue
        : undefined;
    const request: ScreeningRequest = {
      ip: getIp(req) ?? '',
      origin: req.get('origin'),
      sessionId: session?.id,
      queue: typeof queue === 'string' ? queue : undefined,
      ...(session?.privateClaims === undefined ? {} : { privateClaims: session.privateClaims }),
    };
    const decision = await screening.screen(request);
    if (!decision.ok) {
      sendRefusal(res, decision);
      return;
    }
    // A token was issued, so there is a session (screening refuses calls without one).
    const info = await gatewayFor(session);
    const answer: CallTokenResponse = {
      token: decision.token,
      expiresAt: decision.expiresAt.toISOString(),
      claims: decision.claims,
      ...(info === undefined ? {} : { gateway: info }),
    };
    res.set('Cache-Control', 'no-store').status(200).json(answer);
  };

  // body-parser errors (bad JSON, too large, bad charset) carry `type` and a 4xx `status`.
  const badBody: ErrorRequestHandler = (error: unknown, req, res, next) => {
    const status = (error as { status?: unknown } | null)?.status;
    const type = (error as { type?: unknown } | null)?.type;
    if (typeof type !== 'string' || typeof status !== 'number' || status < 400 || status > 499) {
      next(error);
      return;
    }
    const decision = refusal('bad_request', `unreadable body (${type})`);
    notifyDecision(onDecision, decision, {
      ip: getIp(req) ?? '',
      origin: req.get('origin'),
      sessionId: undefined,
      queue: undefined,
    });
    sendRefusal(res, decision);
  };

  /** `POST /callback-token`: the same answers, for a callback token (callback.ts). */
  const handleCallback: RequestHandler = async (req, res) => {
    const session = await getSession(req);
    const body: Record<string, unknown> =
      typeof req.body === 'object' && req.body !== null && !Array.isArray(req.body)
        ? (req.body as Record<string, unknown>)
        : {};
    const text = (name: string) => (typeof body[name] === 'string' ? body[name] : undefined);
    const decision = await screening.screenCallback({
      ip: getIp(req) ?? '',
      origin: req.get('origin'),
      sessionId: session?.id,
      destination: text('destination'),
      phone: text('phone'),
      country: text('country'),
      when: text('when'),
      ...(session?.privateClaims === undefined ? {} : { privateClaims: session.privateClaims }),
    });
    if (!decision.ok) {
      sendRefusal(res, decision);
      return;
    }
    const info = await gatewayFor(session);
    const answer: CallTokenResponse = {
      token: decision.token,
      expiresAt: decision.expiresAt.toISOString(),
      claims: decision.claims,
      ...(info === undefined ? {} : { gateway: info }),
    };
    res.set('Cache-Control', 'no-store').status(200).json(answer);
  };

  const json = express.json({ limit: options.bodyLimit ?? '4kb', strict: true });
  const router = express.Router();
  router.post('/call-token', json, handle, badBody);
  if (options.callbacks !== undefined)
    router.post('/callback-token', json, handleCallback, badBody);
  return router;
}

function sendRefusal(res: Response, decision: ScreeningRefused): void {
  const info = ERROR_CODES[decision.code];
  const body: CallTokenErrorResponse = {
    error: { code: decision.code, message: info.message, human: info.human },
    ...(decision.retryAfterSeconds === undefined
      ? {}
      : { retryAfterSeconds: decision.retryAfterSeconds }),
  };
  res.set('Cache-Control', 'no-store');
  if (decision.retryAfterSeconds !== undefined) {
    res.set('Retry-After', String(decision.retryAfterSeconds));
  }
  res.status(decision.status).json(body);
}

type Express = typeof expressModule;

function loadExpress(): Express {
  try {
    return createRequire(import.meta.url)('express') as Express;
  } catch (error) {
    throw new ParleyError(
      'invalid_config',
      'createScreeningRouter needs express 5 (an optional peer dependency of @parley/shared): install it',
      { cause: error },
    );
  }
}
