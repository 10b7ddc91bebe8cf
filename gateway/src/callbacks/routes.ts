/**
 * `/v1/callbacks` (docs/callbacks.md):
 * - `POST /` with a `callback:<destination>` token (no API key: the
 *   company's screening issued the token): 201 with the id and the watch key;
 * - `GET /:id/events?key=` server-sent progress events for the requester;
 *   `POST /:id/cancel?key=` cancels;
 * - `GET /` and `GET /:id` for the company's systems (API key, `read` or
 *   `callbacks` scope): the records with their attempts and outcomes.
 */
import { Router, type Request, type Response } from 'express';
import { ParleyError } from '@parley/shared/errors';
import type { CallbackCreated, CallbackEvent } from '@parley/shared/protocol';
import {
  assertScope,
  canSee,
  principalOf,
  requireApiKey,
  type ApiKeyConfig,
} from '../http/api-auth.js';
import type { TokenService } from '../tokens/index.js';
import type { CallbackRecord, CallbackState } from './model.js';
import type { CallbackService } from './service.js';

export interface CallbackRoutesDeps {
  readonly service: CallbackService;
  readonly tokens: TokenService;
  readonly apiKeys: readonly ApiKeyConfig[];
}

const STATES: readonly CallbackState[] = [
  'scheduled',
  'calling',
  'prompting',
  'connecting',
  'connected',
  'ended',
];

/** A callback record as the API shows it (times in ISO 8601). */
export function callbackView(r: CallbackRecord) {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    id: r.id,
    tenant: r.tenant,
    destination: r.destination,
    listingId: r.listingId,
    advertiserId: r.advertiserId,
    target: r.target,
    phone: r.phone,
    callerNumber: r.callerNumber,
    sessionId: r.sessionId,
    page: r.page,
    mode: r.mode,
    dueAt: iso(r.dueAt),
    state: r.state,
    outcome: r.outcome,
    code: r.code,
    fee: { cents: r.feeCents, currency: r.currency },
    connectedAt: iso(r.connectedAt),
    chargedAt: iso(r.chargedAt),
    chargeTransactionId: r.chargeTransactionId,
    attempts: r.attempts,
    createdAt: iso(r.createdAt),
    endedAt: iso(r.endedAt),
  };
}

async function watchKey(req: Request, service: CallbackService, id: string): Promise<void> {
  const key = typeof req.query['key'] === 'string' ? req.query['key'] : '';
  // The same answer for an unknown id and a wrong key: ids are not disclosed.
  if (!key || !(await service.watchKeyMatches(id, key)))
    throw new ParleyError('not_found', 'no such callback', { expose: true });
}

export function callbackRoutes(deps: CallbackRoutesDeps): Router {
  const { service, tokens } = deps;
  const router = Router();

  router.post('/', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const destination = body['destination'];
    if (typeof destination !== 'string' || destination.length === 0 || destination.length > 200)
      throw new ParleyError(
        'bad_request',
        'destination (a queue name or listing.<id>) is required',
        {
          expose: true,
        },
      );
    const page = typeof body['page'] === 'string' ? body['page'].slice(0, 2000) : undefined;
    const impressionId =
      typeof body['impressionId'] === 'string' ? body['impressionId'].slice(0, 200) : undefined;
    const token = await tokens.verify(body['token'], {
      requiredScope: `callback:${destination}`,
      ...(typeof req.headers.origin === 'string' ? { origin: req.headers.origin } : {}),
    });
    const { record, watchKey: key } = await service.request({
      token,
      destination,
      page,
      impressionId,
    });
    const created: CallbackCreated = {
      id: record.id,
      phase: 'scheduled',
      dueAt: new Date(record.dueAt).toISOString(),
      events: `${req.baseUrl}/${record.id}/events?key=${key}`,
    };
    res.status(201).json({ ...created, key });
  });

  router.get('/:id/events', async (req, res: Response) => {
    const id = req.params['id'] ?? '';
    await watchKey(req, service, id);
    // Read before the stream opens: an unknown callback is a plain 404.
    const record = await service.get(id);
    if (!record) throw new ParleyError('not_found', 'no such callback', { expose: true });
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    const send = (event: CallbackEvent) => {
      res.write(`event: callback\ndata: ${JSON.stringify(event)}\n\n`);
      if (event.phase === 'ended') res.end();
    };
    const stop = service.watchFrom(record, send);
    res.on('close', stop);
  });

  router.post('/:id/cancel', async (req, res) => {
    const id = req.params['id'] ?? '';
    await watchKey(req, service, id);
    const record = await service.cancel(id);
    res.json({ id, state: record.state, outcome: record.outcome });
  });

  const api = Router();
  api.use(requireApiKey(deps.apiKeys));
  api.get('/', async (req, res) => {
    assertScope(res, 'read');
    const state = req.query['state'];
    if (state !== undefined && !STATES.includes(state as CallbackState))
      throw new ParleyError('bad_request', `state is one of ${STATES.join(', ')}`, {
        expose: true,
      });
    const limit = Math.min(500, Math.max(1, Number(req.query['limit'] ?? 50) || 50));
    const before = typeof req.query['before'] === 'string' ? Date.parse(req.query['before']) : NaN;
    const principal = principalOf(res);
    res.json({
      callbacks: (
        await service.list({
          tenant: principal?.tenant,
          state: state as CallbackState | undefined,
          limit,
          before: Number.isFinite(before) ? before : undefined,
        })
      ).map(callbackView),
    });
  });
  api.get('/:id', async (req, res) => {
    assertScope(res, 'read');
    const record = await service.get(req.params['id'] ?? '');
    if (!record || !canSee(principalOf(res), record.tenant))
      throw new ParleyError('not_found', 'no such callback', { expose: true });
    res.json(callbackView(record));
  });
  router.use(api);
  return router;
}
