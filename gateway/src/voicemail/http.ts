/**
 * The voicemail API (API key; `read` scope; a tenant's key sees its tenant's
 * voicemails only, and private claims only with `privateClaims`):
 *
 * - `GET /v1/voicemails?queue=&agent=&heard=&limit=`: newest first.
 * - `GET /v1/voicemails/<id>`: one, with its transcript and what the caller typed.
 * - `POST /v1/voicemails/<id>/heard` `{ agentId? }` (`voicemails` scope): marks it heard.
 * - `DELETE /v1/voicemails/<id>` (`voicemails` scope): deletes its WAV and its row (204);
 *   `409 conflict` while it is being recorded. With the index shared (`storage.kind:
 *   postgres`), a WAV on another gateway: 202, hidden at once, deleted by that gateway's sweep.
 * - `GET /v1/voicemails/<id>/recording`: the WAV (HTTP range requests, so a player can seek);
 *   `421 elsewhere` (naming the gateway) when the WAV is on another gateway of the cluster.
 * - `POST /v1/voicemails/<id>/take` `{ agentId }` (`agents` scope): the agent takes the
 *   call mid-message (their phone rings; answered, the caller is bridged to them).
 * - `GET /v1/voicemails/<id>/live` (WebSocket upgrade; `Authorization: Bearer`
 *   or `?access_token=`): the `VoicemailEvent` frames of a voicemail being
 *   recorded (what was said so far first), closed 1000 after `voicemail-ended`;
 *   a voicemail no longer live gets its `voicemail-ended` frame and the close; one
 *   being recorded on another gateway is refused `421` (ask that gateway).
 */
import { existsSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Router, type NextFunction, type Response } from 'express';
import { WebSocketServer } from 'ws';
import type { VoicemailView } from '@parley/shared/protocol';
import { ParleyError } from '@parley/shared/errors';
import {
  apiKeyFinder,
  assertScope,
  canSee,
  keyHasScope,
  principalOf,
  requireApiKey,
  type ApiKeyConfig,
} from '../http/api-auth.js';
import { recordingElsewhere, type VoicemailInbox } from './inbox.js';
import type { Voicemails } from './voicemails.js';
import type { VoicemailRecord, VoicemailStore } from './store.js';
import { voicemailView } from './view.js';

export const VOICEMAIL_LIVE_PATH = /^\/v1\/voicemails\/([A-Za-z0-9-]{1,64})\/live$/;

export interface VoicemailHttpDeps {
  readonly apiKeys: readonly ApiKeyConfig[];
  /** `take()` for the take route, `live` for the `/live` upgrade. */
  readonly voicemails: Pick<Voicemails, 'take' | 'live'>;
  readonly store: VoicemailStore;
  readonly inbox: VoicemailInbox;
}

/**
 * The voicemail's WAV; 404 when it has none, 421 when it is on another
 * gateway (`gateway`: this one). Shared with the desk's route (`desk-routes.ts`).
 */
export function sendRecording(
  record: VoicemailRecord,
  gateway: string,
  res: Response,
  next: NextFunction,
): void {
  if (record.recordingPath !== null && record.gateway !== gateway) throw recordingElsewhere(record);
  if (!record.recordingPath || !existsSync(record.recordingPath))
    throw new ParleyError('not_found', 'this voicemail has no recording');
  // express's sendFile answers Range requests (206) and sets Accept-Ranges.
  res.type('audio/wav');
  res.sendFile(record.recordingPath, { dotfiles: 'allow' }, (error) => {
    if (error && !res.headersSent) next(error);
  });
}

export function voicemailRouter(deps: VoicemailHttpDeps): Router {
  const router = Router();
  const auth = requireApiKey(deps.apiKeys);
  const visible = async (
    res: Parameters<typeof principalOf>[0],
    id: string,
    scope: 'read' | 'voicemails' = 'read',
  ): Promise<VoicemailRecord> => {
    assertScope(res, scope);
    const record = await deps.store.get(id);
    if (!record || !canSee(principalOf(res), record.tenant))
      throw new ParleyError('not_found', 'no such voicemail');
    return record;
  };

  router.get('/voicemails', auth, async (req, res, next) => {
    try {
      await list(req.query, res);
    } catch (error) {
      next(error);
    }
  });
  const list = async (query: Record<string, unknown>, res: Response) => {
    assertScope(res, 'read');
    const principal = principalOf(res);
    const limit = Number(query['limit'] ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw new ParleyError('bad_request', 'limit must be an integer from 1 to 500');
    const queue = typeof query['queue'] === 'string' ? query['queue'] : undefined;
    const agent = typeof query['agent'] === 'string' ? query['agent'] : undefined;
    const heard = query['heard'];
    if (heard !== undefined && heard !== 'true' && heard !== 'false')
      throw new ParleyError('bad_request', 'heard must be true or false');
    const records = await deps.store.list({
      tenant: principal?.tenant,
      ...(queue ? { queue } : {}),
      ...(agent ? { agent } : {}),
      ...(heard !== undefined ? { heard: heard === 'true' } : {}),
      limit,
    });
    res.json({
      voicemails: records.map((r) => voicemailView(r, principal?.privateClaims ?? false)),
    });
  };

  router.get('/voicemails/:id', auth, async (req, res, next) => {
    try {
      const record = await visible(res, String(req.params['id']));
      res.json(await deps.inbox.view(record, principalOf(res)?.privateClaims ?? false));
    } catch (error) {
      next(error);
    }
  });

  router.post('/voicemails/:id/heard', auth, async (req, res, next) => {
    try {
      const record = await visible(res, String(req.params['id']), 'voicemails');
      const body = req.body as { agentId?: unknown } | undefined;
      const by = body?.agentId;
      if (by !== undefined && (typeof by !== 'string' || by.length === 0 || by.length > 128))
        throw new ParleyError('bad_request', 'agentId must be a string of 1 to 128 characters');
      const marked = await deps.inbox.markHeard(record, by ?? null);
      res.json(voicemailView(marked, principalOf(res)?.privateClaims ?? false));
    } catch (error) {
      next(error);
    }
  });

  router.delete('/voicemails/:id', auth, async (req, res, next) => {
    try {
      const result = await deps.inbox.delete(
        await visible(res, String(req.params['id']), 'voicemails'),
      );
      res.status(result === 'deleted' ? 204 : 202).end();
    } catch (error) {
      next(error);
    }
  });

  router.get('/voicemails/:id/recording', auth, async (req, res, next) => {
    try {
      sendRecording(await visible(res, String(req.params['id'])), deps.store.gateway, res, next);
    } catch (error) {
      next(error);
    }
  });

  router.post('/voicemails/:id/take', auth, async (req, res, next) => {
    try {
      assertScope(res, 'agents');
      const body = req.body as { agentId?: unknown } | undefined;
      const agentId = body?.agentId;
      if (typeof agentId !== 'string' || !agentId)
        throw new ParleyError('bad_request', 'agentId (string) is required');
      const view = await deps.voicemails.take(
        String(req.params['id']),
        agentId,
        principalOf(res)?.tenant,
      );
      res.json(view);
    } catch (error) {
      next(error);
    }
  });

  return router;
}

/** The `/v1/voicemails/<id>/live` upgrade handler: true when the path was its. */
export function voicemailLiveUpgrade(
  deps: VoicemailHttpDeps,
): (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 1024 });
  const find = apiKeyFinder(deps.apiKeys);
  const refuse = (socket: Duplex, status: string): void =>
    void socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  return (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const id = VOICEMAIL_LIVE_PATH.exec(url.pathname)?.[1];
    if (!id) return false;
    const header = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const key = find(header ?? url.searchParams.get('access_token') ?? '');
    if (!key) {
      refuse(socket, '401 Unauthorized');
      return true;
    }
    if (!keyHasScope(key, 'read')) {
      refuse(socket, '403 Forbidden');
      return true;
    }
    void deps.store
      .get(id)
      .then(
        (record) => {
          if (!record || (key.tenant !== undefined && key.tenant !== record.tenant))
            return refuse(socket, '404 Not Found');
          const live = deps.voicemails.live.ids.includes(id);
          // Recorded on another gateway of the cluster: its live stream is there.
          if (!live && record.status === 'recording' && record.gateway !== deps.store.gateway)
            return refuse(socket, '421 Misdirected Request');
          wss.handleUpgrade(req, socket, head, (ws) => {
            ws.on('error', () => undefined);
            const shown = (view: VoicemailView): VoicemailView => {
              if (key.privateClaims) return view;
              const { privateClaims: _private, ...rest } = view;
              return rest;
            };
            const unsubscribe = deps.voicemails.live.subscribe(id, (event) => {
              if (event.type === 'voicemail-started' || event.type === 'voicemail-ended')
                ws.send(JSON.stringify({ ...event, voicemail: shown(event.voicemail) }));
              else ws.send(JSON.stringify(event));
              if (event.type === 'voicemail-ended') ws.close(1000, 'voicemail ended');
            });
            if (unsubscribe) {
              ws.on('close', unsubscribe);
              return;
            }
            void deps.store.get(id).then(
              (now) => {
                const view = voicemailView(now ?? record, key.privateClaims);
                ws.send(JSON.stringify({ type: 'voicemail-ended', voicemail: view }));
                ws.close(1000, 'voicemail ended');
              },
              () => ws.close(1011, 'voicemail not read'),
            );
          });
        },
        () => refuse(socket, '503 Service Unavailable'),
      )
      // Anything thrown in the upgrade above ends this socket, never the process.
      .catch(() => socket.destroy());
    return true;
  };
}
