import express, { type Express, type Router } from 'express';
import { CallTokenError } from '@parley/shared/tokens';
import type { Logger, Metrics } from '../observability/index.js';
import type { IceServerEntry, IceTransportPolicy } from '../media/index.js';
import type { TokenService } from '../tokens/index.js';
import { errorHandler, notFound } from './errors.js';
import { trustProxyFn } from './server.js';

export interface HttpAppDeps {
  readonly tokens: TokenService;
  readonly metrics: Metrics;
  readonly logger: Logger;
  /** Routers of other modules, mounted at their paths. */
  readonly routers?: readonly { path: string; router: Router }[];
  /** What browsers and company servers need to know to use this gateway (public). */
  readonly client?: {
    readonly gatewayId: string;
    readonly sipDomain: string;
    readonly sipWsPath: string;
    readonly publicUrl?: string | undefined;
    readonly iceServers: readonly IceServerEntry[];
    readonly iceTransportPolicy?: IceTransportPolicy;
    /** Short-lived TURN credentials are minted at `POST /v1/ice-servers`. */
    readonly turn?: boolean;
  };
  /** Proxies whose `X-Forwarded-For` is believed (`http.trustProxy`); none by default. */
  readonly trustProxy?: readonly string[];
  /**
   * Paths whose request bodies their routers read as streams (large uploads):
   * the JSON body parser leaves them alone.
   */
  readonly streamingPaths?: readonly string[];
  /** Reports whether the gateway is ready (false while draining). */
  readonly health?: () => { ok: boolean; [detail: string]: unknown };
}

export function createHttpApp(deps: HttpAppDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Only configured proxies may say who the client is: anyone else could rotate
  // X-Forwarded-For to escape per-address limits (the desk sign-in's).
  app.set('trust proxy', trustProxyFn(deps.trustProxy ?? []));
  const streaming = new Set(deps.streamingPaths ?? []);
  app.use(
    express.json({
      limit: '64kb',
      type: (req) =>
        !streaming.has((req as express.Request).path) &&
        /^application\/(?:[\w.+-]+\+)?json\b/i.test(req.headers['content-type'] ?? ''),
    }),
  );
  app.use((req, res, next) => {
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-allow-headers', 'content-type, authorization, idempotency-key');
    res.setHeader('access-control-allow-methods', 'GET, POST, PATCH, DELETE, OPTIONS');
    // CORS preflights are answered here, before any route's authentication.
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  });

  app.get('/healthz', (_req, res) => {
    const health = deps.health?.() ?? { ok: true };
    res.status(health.ok ? 200 : 503).json(health);
  });

  app.get('/metrics', async (_req, res, next) => {
    try {
      res.setHeader('content-type', deps.metrics.registry.contentType);
      res.send(await deps.metrics.registry.metrics());
    } catch (error) {
      next(error);
    }
  });

  /**
   * The gateway's public client settings: a company's server reads them once
   * and hands them to the widget with each token (`gateway` in the response).
   */
  app.get('/.well-known/parley-gateway.json', (req, res) => {
    const client = deps.client;
    if (!client) {
      res.status(404).json({ error: { code: 'not_found', message: 'Not found.' } });
      return;
    }
    const base = client.publicUrl ?? `${req.protocol}://${req.headers.host ?? 'localhost'}`;
    res.setHeader('cache-control', 'public, max-age=300');
    res.json({
      gatewayId: client.gatewayId,
      url: base,
      sip: {
        webSocket: `${base.replace(/^http/, 'ws')}${client.sipWsPath}`,
        domain: client.sipDomain,
      },
      iceServers: client.iceServers,
      iceTransportPolicy: client.iceTransportPolicy ?? 'all',
      // Minted TURN credentials are not public: a company's server gets them with its API key.
      ...(client.turn ? { turnCredentials: '/v1/ice-servers' } : {}),
    });
  });

  app.get('/.well-known/jwks.json', (_req, res) => {
    res.setHeader('cache-control', 'public, max-age=300');
    res.type('application/jwk-set+json').send(JSON.stringify(deps.tokens.jwks));
  });

  /**
   * Checks a token without using it up: for a company's developers wiring up
   * their token endpoint. Answers the public claims only; private claims are
   * for the agent side.
   */
  app.post('/v1/tokens/check', async (req, res, next) => {
    try {
      const body = (req.body ?? {}) as { token?: unknown; scope?: unknown };
      const verified = await deps.tokens.verify(body.token, {
        consume: false,
        ...(typeof req.headers.origin === 'string' ? { origin: req.headers.origin } : {}),
        ...(typeof body.scope === 'string' ? { requiredScope: body.scope } : {}),
      });
      res.json({
        ok: true,
        claims: verified.claims,
        privateClaimNames: Object.keys(verified.privateClaims),
      });
    } catch (error) {
      if (error instanceof CallTokenError) {
        res.status(error.httpStatus).json({ ok: false, ...error.toJSON() });
        return;
      }
      next(error);
    }
  });

  for (const { path, router } of deps.routers ?? []) app.use(path, router);
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
