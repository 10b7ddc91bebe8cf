import type { FlowEvent } from '@parley/shared/protocol';
import type { VoicemailSettings } from '../../config/voicemail.js';
import { Router } from 'express';
import { ParleyError } from '@parley/shared/errors';
import type { IceServerSource } from '../../media/index.js';
import type { SessionNumberPool } from '../../numbers/index.js';
import type { AgentAdmin, AgentDirectory, AgentPresence } from '../../agents/index.js';
import type { CallRecord, CallStore, MessageStore, SessionStore } from '../../storage/index.js';
import { canSee, principalOf, requireApiKey, assertScope, type ApiKeyConfig } from '../api-auth.js';

export interface V1Deps {
  readonly apiKeys: readonly ApiKeyConfig[];
  readonly agents: AgentDirectory;
  /** Creates, changes and deletes agents (`PUT`/`DELETE /v1/agents/:id`). */
  readonly admin?: AgentAdmin;
  readonly calls: CallStore;
  readonly sessions: SessionStore;
  readonly numbers: SessionNumberPool;
  readonly messages: MessageStore;
  /**
   * What the call's flow did (`FlowEventStore.list`): with PostgreSQL, every
   * gateway of the cluster reads the events of a flow any of them ran.
   */
  readonly flowEvents?: (callId: string) => Promise<readonly FlowEvent[]>;
  /** The in-memory record of a call in progress (fresher than the stored one). */
  readonly live?: (id: string) => CallRecord | undefined;
  /** STUN/TURN servers for a visitor (`POST /v1/ice-servers`), minted per request. */
  readonly ice?: IceServerSource;
  /** The gated facilities' API (`/v1/gated/<tenant>/…`, scope `gated`; gateway/src/gated). */
  readonly gated?: Router;
  /**
   * What a call was attributed to by the marketplace (listing, impression,
   * advertiser, publisher, charge), shown as the record's `marketplace`.
   */
  /** The marketplace's attribution of these calls (one query for a page of calls). */
  readonly attribution?: (callIds: readonly string[]) => Promise<ReadonlyMap<string, object>>;
}

const E164 = /^\+[1-9]\d{1,14}$/;

/**
 * The call record as the API shows it (timestamps as ISO strings). The customer
 * id comes from the token's sealed private claims: only callers allowed to read
 * those (`privateClaims` keys, the tenant's own agents) see it.
 */
export function callView(record: CallRecord, options: { privateClaims?: boolean } = {}) {
  const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
  // The legs' dialogs (tags, contacts, addresses) are for the gateway's own restart, not for API users.
  const { dialogs: _dialogs, ...shown } = record;
  return {
    ...shown,
    customerId: options.privateClaims === false ? null : record.customerId,
    createdAt: iso(record.createdAt),
    ringingAt: iso(record.ringingAt),
    answeredAt: iso(record.answeredAt),
    endedAt: iso(record.endedAt),
    attempts: record.attempts.map((a) => ({
      ...a,
      startedAt: iso(a.startedAt),
      endedAt: iso(a.endedAt ?? null),
      answeredAt: iso(a.answeredAt ?? null),
    })),
  };
}

/** An agent as the API shows it: presence and settings, never a secret. */
function agentView(a: AgentPresence, voicemail: VoicemailSettings | undefined) {
  return {
    ...a,
    /** The agent's own voicemail box (docs/voicemail.md), or null. */
    voicemail: voicemail ?? null,
    idleSince: a.idleSince === undefined ? null : new Date(a.idleSince).toISOString(),
    contacts: a.contacts.map((c) => ({
      uri: c.uri,
      expiresAt: Number.isFinite(c.expiresAt) ? new Date(c.expiresAt).toISOString() : null,
    })),
  };
}

/**
 * The /v1 API for the company's systems and the agent desk. Every route needs
 * an API key with the route's scope: `read` (GET), `agents` (PUT/DELETE
 * agents), `ice-servers` (POST /v1/ice-servers).
 */
export function v1Router(deps: V1Deps): Router {
  const router = Router();
  const attributionsOf = async (calls: readonly { id: string }[]) =>
    deps.attribution && calls.length > 0
      ? deps.attribution(calls.map((c) => c.id))
      : new Map<string, object>();
  router.use(requireApiKey(deps.apiKeys));
  if (deps.gated) router.use('/gated', deps.gated);

  router.get('/agents', (_req, res) => {
    assertScope(res, 'read');
    const principal = principalOf(res);
    const agents = deps.agents.list(principal?.tenant ? { tenant: principal.tenant } : {});
    res.json({ agents: agents.map((a) => agentView(a, deps.agents.voicemail(a.id))) });
  });

  router.get('/agents/:id', (req, res) => {
    assertScope(res, 'read');
    const agent = deps.agents.get(req.params.id);
    if (!agent || !canSee(principalOf(res), agent.tenant))
      throw new ParleyError('not_found', 'no such agent');
    res.json(agentView(agent, deps.agents.voicemail(agent.id)));
  });

  const admin = deps.admin;
  if (admin) {
    router.put('/agents/:id', async (req, res) => {
      assertScope(res, 'agents');
      const { created, agent } = await admin.put(principalOf(res)?.tenant, req.params.id, req.body);
      res.status(created ? 201 : 200).json(agentView(agent, deps.agents.voicemail(agent.id)));
    });
    router.delete('/agents/:id', async (req, res) => {
      assertScope(res, 'agents');
      await admin.remove(principalOf(res)?.tenant, req.params.id);
      res.status(204).end();
    });
  }

  router.get('/sessions/by-number/:number', async (req, res) => {
    assertScope(res, 'read');
    const number = req.params.number;
    if (!E164.test(number))
      throw new ParleyError('bad_request', 'the number must be E.164, e.g. +15550101');
    const holder = deps.numbers.holder(number);
    const session = holder ? await deps.sessions.get(holder.tenant, holder.sessionId) : undefined;
    const principal = principalOf(res);
    if (!session || !canSee(principal, session.tenant)) {
      throw new ParleyError('not_found', `no session holds ${number}`);
    }
    const calls = await deps.calls.listBySession(session.tenant, session.sessionId);
    const attributed = await attributionsOf(calls);
    res.json({
      tenant: session.tenant,
      sessionId: session.sessionId,
      number,
      origin: session.origin,
      publicClaims: session.publicClaims,
      ...(principal?.privateClaims ? { privateClaims: session.privateClaims } : {}),
      firstSeenAt: new Date(session.firstSeenAt).toISOString(),
      lastSeenAt: new Date(session.lastSeenAt).toISOString(),
      calls: calls.map((c) => ({
        ...callView(c, { privateClaims: principal?.privateClaims === true }),
        marketplace: attributed.get(c.id) ?? null,
      })),
    });
  });

  router.get('/calls/:id', async (req, res) => {
    assertScope(res, 'read');
    const record = deps.live?.(req.params.id) ?? (await deps.calls.get(req.params.id));
    if (!record || !canSee(principalOf(res), record.tenant)) {
      throw new ParleyError('not_found', 'no such call');
    }
    res.json({
      ...callView(record, { privateClaims: principalOf(res)?.privateClaims === true }),
      marketplace: (await attributionsOf([record])).get(record.id) ?? null,
      messages: await deps.messages.list(record.id),
      flow: (await deps.flowEvents?.(record.id)) ?? [],
    });
  });

  /**
   * For a company's token endpoint: the ICE servers to hand the widget with
   * the token, with fresh TURN credentials when the gateway has `media.turn`.
   */
  const ice = deps.ice;
  if (ice) {
    router.post('/ice-servers', (_req, res) => {
      assertScope(res, 'ice-servers');
      const answer = ice.mint(principalOf(res)?.tenant ?? 'parley');
      res.set('cache-control', 'no-store').json({
        iceServers: answer.iceServers,
        iceTransportPolicy: answer.iceTransportPolicy,
        expiresAt: answer.expiresAt?.toISOString() ?? null,
        ttlSeconds: answer.ttlSeconds,
      });
    });
  }

  router.get('/calls', async (req, res) => {
    assertScope(res, 'read');
    const principal = principalOf(res);
    const limit = Math.min(Number(req.query['limit'] ?? 50) || 50, 500);
    const calls = await deps.calls.listRecent(
      limit,
      principal?.tenant ? { tenant: principal.tenant } : {},
    );
    const attributed = await attributionsOf(calls);
    res.json({
      calls: calls.map((c) => ({
        ...callView(c, { privateClaims: principal?.privateClaims === true }),
        marketplace: attributed.get(c.id) ?? null,
      })),
    });
  });

  return router;
}
