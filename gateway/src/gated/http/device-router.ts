/**
 * The resident device's HTTP side, mounted at `/resident` (docs/gated.md):
 * the page a tablet opens, the device's sign-in with its credential (then SIP
 * registration with the same secret), the resident's sign-in with their PIN,
 * and the PIN keyed while a call rings, answered with the one-time ticket the
 * device puts in its 200 OK (`X-Parley-Device-Ticket`), which the gateway's
 * re-verification takes just before connecting. Every route but the page and
 * the session needs `Authorization: Bearer <device session>`.
 */
import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { ParleyError } from '@parley/shared/errors';
import { TokenBuckets } from '../../sbc/token-bucket.js';
import { parse } from '../admin/common.js';
import type { Gate, PinResult } from '../gate.js';
import type { GatedStore } from '../store/index.js';
import type { DeviceIdentity, DeviceSessions } from './device-session.js';

export interface DeviceRouterDeps {
  readonly gate: Gate;
  readonly store: GatedStore;
  readonly sessions: DeviceSessions;
  readonly sipDomain: string;
  readonly sipWsPath: string;
  readonly now: () => number;
}

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Parley — resident phone</title>
    <script type="module" src="/widget/resident.js"></script>
  </head>
  <body style="margin:0;font-family:system-ui,sans-serif">
    <parley-resident-phone></parley-resident-phone>
  </body>
</html>
`;

const sessionSchema = z.strictObject({
  tenant: z.string().min(1).max(100),
  device: z.string().min(1).max(64),
  secret: z.string().min(1).max(200),
});
const pinSchema = z.strictObject({
  /** The resident's id or number (a shared tablet); absent: the device's one resident. */
  resident: z.string().min(1).max(64).optional(),
  pin: z.string().min(1).max(64),
});

function bearer(req: Request): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
}

/** A refused PIN as the device hears it: 403 pin_refused, 429 pin_locked with Retry-After, 404. */
function pinRefusal(res: Response, result: Extract<PinResult, { ok: false }>): never {
  if (result.code === 'pin_locked')
    res.setHeader('retry-after', String(Math.ceil((result.retryAfterMs ?? 1000) / 1000)));
  throw new ParleyError(result.code === 'not_found' ? 'not_found' : result.code);
}

export function deviceRouter(deps: DeviceRouterDeps): Router {
  const router = Router();
  // Sign-in guesses: per source address and per device, like the desk's per-username limit.
  const bySource = new TokenBuckets({ perSecond: 0.2, burst: 10, now: deps.now });
  const byDevice = new TokenBuckets({ perSecond: 0.1, burst: 10, now: deps.now });

  const device = async (req: Request): Promise<DeviceIdentity> => {
    const identity = await deps.sessions.verify(bearer(req));
    if (!identity || !deps.gate.isGated(identity.tenant))
      throw new ParleyError('unauthorized', 'a device session is required');
    return identity;
  };

  router.get('/', (_req, res) => {
    res.setHeader(
      'content-security-policy',
      "default-src 'self'; connect-src 'self' ws: wss:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'",
    );
    res.type('html').send(PAGE);
  });

  router.post('/api/session', async (req, res) => {
    const input = parse(sessionSchema, req.body);
    if (!bySource.take(req.ip ?? 'unknown') || !byDevice.take(`${input.tenant}/${input.device}`)) {
      res.setHeader('retry-after', '10');
      throw new ParleyError('rate_limited');
    }
    const match = await deps.gate.deviceCredentialMatches(input.tenant, input.device, input.secret);
    if (!match) throw new ParleyError('unauthorized', 'unknown device or wrong secret');
    const stored = await deps.store.devices.get(input.tenant, input.device);
    const session = deps.sessions.issue(input.tenant, input.device, match.stamp);
    res.set('cache-control', 'no-store').json({
      token: session.token,
      expiresAt: new Date(session.expiresAt).toISOString(),
      device: { address: input.device, kind: stored?.kind ?? 'app', name: stored?.name ?? null },
      // The device registers with its SIP username and the same secret.
      sip: { wsPath: deps.sipWsPath, domain: deps.sipDomain, username: match.sipUser },
    });
  });

  router.get('/api/state', async (req, res) => {
    const { tenant, address } = await device(req);
    const signedIn =
      (await deps.store.devices.get(tenant, address)) && deps.gate.signedIn(tenant, address);
    const resident = signedIn
      ? await deps.store.residents.get(tenant, signedIn.residentId)
      : undefined;
    res.json({
      registered: deps.gate.deviceContacts(tenant, address).length > 0,
      signedIn:
        signedIn && resident
          ? {
              residentId: resident.id,
              name: resident.name,
              until: new Date(signedIn.until).toISOString(),
            }
          : null,
    });
  });

  router.post('/api/sign-in', async (req, res) => {
    const { tenant, address } = await device(req);
    const input = parse(pinSchema, req.body);
    const result = await deps.gate.signIn(tenant, address, input);
    if (!result.ok) pinRefusal(res, result);
    const resident = await deps.store.residents.get(tenant, result.decision.residentId ?? '');
    const until = deps.gate.signedIn(tenant, address)?.until ?? deps.now();
    res.json({
      resident: { id: resident?.id ?? null, name: resident?.name ?? null },
      until: new Date(until).toISOString(),
    });
  });

  router.post('/api/sign-out', async (req, res) => {
    const { tenant, address } = await device(req);
    deps.gate.signOut(tenant, address);
    res.status(204).end();
  });

  /** The caller's name of a call ringing here (the INVITE's From carries it too). */
  router.get('/api/calls/:callId', async (req, res) => {
    const { tenant, address } = await device(req);
    const call = deps.gate.ringing(tenant, String(req.params['callId']), address);
    if (!call) throw new ParleyError('not_found', 'no such call ringing on this device');
    res.json({ callId: call.callId, callerName: call.callerName });
  });

  router.post('/api/calls/:callId/pin', async (req, res) => {
    const { tenant, address } = await device(req);
    const { pin } = parse(pinSchema.pick({ pin: true }), req.body);
    const result = await deps.gate.devicePin(tenant, String(req.params['callId']), address, pin);
    if (!result.ok) pinRefusal(res, result);
    res.set('cache-control', 'no-store').json({
      ticket: result.ticket,
      expiresAt: new Date(result.expiresAt).toISOString(),
      header: 'X-Parley-Device-Ticket',
    });
  });

  return router;
}
