/**
 * The agent desk's voicemail side, mounted at /desk beside the desk router
 * (desk session cookie; an agent sees the voicemails of its tenant's queues
 * it belongs to, with the caller's context, private claims included, as the
 * desk shows a ringing call):
 *
 * - `GET /desk/voicemail`: the page (`<parley-voicemail-desk>` from desk.js):
 *   the live transcript of messages being recorded, "Take the call", and the
 *   inbox with each message's transcript and a player.
 * - `GET /desk/api/voicemails?limit=`: newest first.
 * - `GET /desk/api/voicemails/<id>/recording`: the WAV, with range requests.
 * - `POST /desk/api/voicemails/<id>/take`: this agent takes the call (its
 *   registered phone or desk softphone rings); 409 when someone took it.
 * - `POST /desk/api/voicemails/<id>/heard`: marks it heard by this agent.
 * - `DELETE /desk/api/voicemails/<id>`: deletes it (WAV and row); 409 while recorded
 *   (202 when the WAV is on another gateway: see http.ts).
 *
 * The live frames come on the desk's own events socket (`/desk/api/events`),
 * and so do `voicemail-heard` and `voicemail-deleted` (inbox.ts) to every desk
 * of the box, whichever gateway or desk made the change.
 */
import { Router, type Response } from 'express';
import { ParleyError } from '@parley/shared/errors';
import type { AgentDirectory } from '../agents/index.js';
import { deskIdentity, deskPage, requireDeskSession, type DeskSessions } from '../desk/index.js';
import type { VoicemailInbox } from './inbox.js';
import type { VoicemailRecord, VoicemailStore } from './store.js';
import { sendRecording } from './http.js';
import { voicemailView } from './view.js';
import type { Voicemails } from './voicemails.js';

export interface VoicemailDeskDeps {
  readonly sessions: DeskSessions;
  readonly agents: AgentDirectory;
  readonly voicemails: Voicemails;
  readonly store: VoicemailStore;
  readonly inbox: VoicemailInbox;
}

export function voicemailDeskRouter(deps: VoicemailDeskDeps): Router {
  const router = Router();
  router.get('/voicemail', deskPage('voicemail', 'parley-voicemail-desk'));

  const api = Router();
  api.use('/voicemails', requireDeskSession(deps.sessions));
  const me = deskIdentity;
  const queuesOf = (res: Response): readonly string[] =>
    deps.agents.get(me(res).agentId)?.queues ?? [];
  const visible = async (res: Response, id: string): Promise<VoicemailRecord> => {
    const record = await deps.store.get(id);
    const mine =
      record?.agent === null
        ? queuesOf(res).includes(record.queue)
        : record?.agent === me(res).agentId;
    if (!record || record.tenant !== me(res).tenant || !mine)
      throw new ParleyError('not_found', 'no such voicemail');
    return record;
  };

  api.get('/voicemails', async (req, res, next) => {
    try {
      res.json({ voicemails: await deps.inbox.withTyped(await list(req.query['limit'], res)) });
    } catch (error) {
      next(error);
    }
  });
  const list = async (rawLimit: unknown, res: Response) => {
    const limit = Number(rawLimit ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200)
      throw new ParleyError('bad_request', 'limit must be an integer from 1 to 200');
    const tenant = me(res).tenant;
    // One query per queue the agent is in (an agent's queues are few), and one for their own box.
    const lists = await Promise.all([
      ...queuesOf(res).map((queue) => deps.store.list({ tenant, queue, limit })),
      deps.store.list({ tenant, agent: me(res).agentId, limit }),
    ]);
    const records = lists
      .flat()
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, limit);
    return records.map((r) => voicemailView(r, true));
  };

  api.get('/voicemails/:id/recording', async (req, res, next) => {
    try {
      sendRecording(await visible(res, String(req.params['id'])), deps.store.gateway, res, next);
    } catch (error) {
      next(error);
    }
  });

  api.post('/voicemails/:id/take', async (req, res, next) => {
    try {
      const { agentId, tenant } = me(res);
      res.json(await deps.voicemails.take(String(req.params['id']), agentId, tenant));
    } catch (error) {
      next(error);
    }
  });

  api.post('/voicemails/:id/heard', async (req, res, next) => {
    try {
      const record = await visible(res, String(req.params['id']));
      res.json(voicemailView(await deps.inbox.markHeard(record, me(res).agentId), true));
    } catch (error) {
      next(error);
    }
  });

  api.delete('/voicemails/:id', async (req, res, next) => {
    try {
      const result = await deps.inbox.delete(await visible(res, String(req.params['id'])));
      res.status(result === 'deleted' ? 204 : 202).end();
    } catch (error) {
      next(error);
    }
  });

  router.use('/api', api);
  return router;
}
