/**
 * The demo company's web server: its page with the call button, and its token
 * endpoint behind Parley's screening. This is what a company writes itself; it
 * uses only @parley/shared.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type Express, type Request } from 'express';
import {
  createScreeningRouter,
  type CallbackScreeningOptions,
  type GatewayInfo,
} from '@parley/shared/screening';
import type { CallTokenIssuer } from '@parley/shared/tokens';
import { CUSTOMERS, customerById, customerByCustomerId } from './customers.js';

export interface CompanySiteOptions {
  readonly issuer: CallTokenIssuer;
  /** The gateway's URL as the browser reaches it. */
  readonly gatewayUrl: string;
  /** STUN/TURN servers for the browser, from the gateway's /.well-known/parley-gateway.json. */
  readonly iceServers?: readonly {
    urls: string | readonly string[];
    username?: string;
    credential?: string;
  }[];
  /**
   * Asked per token instead of `gatewayUrl`/`iceServers`: for a gateway that
   * mints TURN credentials (`gatewayInfoSource` from @parley/shared/screening).
   */
  readonly gatewayInfo?: () => Promise<GatewayInfo>;
  /** This site's own origin, e.g. http://127.0.0.1:3000. */
  readonly origin: string;
  /** Where the built widget lives (widget/dist), if built. */
  readonly widgetDir?: string;
  /** More origins the page may connect to, beside the gateway (CSP connect-src). */
  readonly connectSources?: readonly string[];
  /** Callback requests its token endpoint accepts (`POST /api/callback-token`); none when absent. */
  readonly callbacks?: CallbackScreeningOptions;
}

const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url));

function cookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie ?? '';
  for (const part of header.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

export function createCompanySite(options: CompanySiteOptions): Express {
  const app = express();
  app.disable('x-powered-by');

  // A strict Content-Security-Policy, as a careful company sets one: the widget
  // needs no inline script, no eval and no inline style, only its own script
  // and connections to the gateway (HTTP and the SIP WebSocket).
  const gateway = new URL(options.gatewayUrl);
  const gatewayWs = `${gateway.protocol === 'https:' ? 'wss:' : 'ws:'}//${gateway.host}`;
  const csp = [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    ["connect-src 'self'", gateway.origin, gatewayWs, ...(options.connectSources ?? [])].join(' '),
    "media-src 'self' blob:",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  app.use((_req, res, next) => {
    res.setHeader('content-security-policy', csp);
    next();
  });

  // Every visitor gets a web session (the token's subject) on first sight.
  app.use((req, res, next) => {
    if (!cookie(req, 'demo_sid')) {
      const sid = `web-${randomUUID()}`;
      req.headers.cookie = `${req.headers.cookie ?? ''}; demo_sid=${sid}`;
      res.append('set-cookie', `demo_sid=${sid}; Path=/; HttpOnly; SameSite=Lax`);
    }
    next();
  });

  app.post('/api/sign-in', express.json(), (req, res) => {
    const id = customerById((req.body as { customer?: string } | undefined)?.customer).id;
    res.append(
      'set-cookie',
      `demo_customer=${encodeURIComponent(id)}; Path=/; HttpOnly; SameSite=Lax`,
    );
    res.json({ customer: id });
  });

  app.get('/api/whoami', (req, res) => {
    res.json({
      session: cookie(req, 'demo_sid'),
      customer: customerById(cookie(req, 'demo_customer')).id,
      customers: CUSTOMERS.map(({ id, label }) => ({ id, label })),
      gatewayUrl: options.gatewayUrl,
    });
  });

  app.use(
    '/api',
    createScreeningRouter({
      issuer: options.issuer,
      allowedOrigins: [options.origin],
      queues: {
        sales: {},
        support: {
          businessHours: {
            timeZone: 'Europe/Berlin',
            weekly: {
              mon: [['09:00', '17:00']],
              tue: [['09:00', '17:00']],
              wed: [['09:00', '17:00']],
              thu: [['09:00', '17:00']],
              fri: [['09:00', '17:00']],
            },
          },
        },
        // Never open: shows the business-hours refusal at any time of day.
        holidays: { businessHours: { timeZone: 'UTC', weekly: {} } },
      },
      rateLimit: {
        perIp: { max: 60, windowSeconds: 60 },
        perSession: { max: 10, windowSeconds: 60 },
      },
      maxOutstandingPerSession: 5,
      ttlSeconds: 60,
      ...(options.callbacks ? { callbacks: options.callbacks } : {}),
      getSession: (req) => {
        const id = cookie(req, 'demo_sid');
        return id
          ? { id, privateClaims: customerById(cookie(req, 'demo_customer')).claims }
          : undefined;
      },
      gateway: options.gatewayInfo ?? {
        url: options.gatewayUrl,
        ...(options.iceServers ? { iceServers: options.iceServers } : {}),
      },
    }),
  );

  // The company's own scoring services, which the gateway's value routing calls:
  // benefit = what the customer brought (revenue), burden = what serving them costs.
  app.post('/scores/benefit', express.json(), (req, res) => {
    const customer = customerByCustomerId(
      (req.body as { customerId?: unknown } | undefined)?.customerId,
    );
    res.json({ score: customer ? customer.revenue / 10 : 0 });
  });
  app.post('/scores/burden', express.json(), (req, res) => {
    const body = (req.body ?? {}) as {
      customerId?: unknown;
      history?: { repeatContacts?: number };
    };
    const customer = customerByCustomerId(body.customerId);
    res.json({
      score: (customer ? customer.cost / 10 : 0) + 5 * (body.history?.repeatContacts ?? 0),
    });
  });

  if (options.widgetDir && existsSync(options.widgetDir))
    app.use('/widget', express.static(options.widgetDir));
  app.use(express.static(PUBLIC_DIR));
  return app;
}
