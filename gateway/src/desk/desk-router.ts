/**
 * The agent desk's HTTP side, mounted at /desk: the page itself, sign-in and
 * sign-out, the agent's profile and SIP settings (for the desk's softphone),
 * availability, recent calls and a call's full record. Every /desk/api route
 * but login needs the desk session cookie; an agent sees only its own tenant's
 * calls.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import express, { Router, type Request } from 'express';
import { ParleyError } from '@parley/shared/errors';
import type { CallManager, MessageHub } from '../calls/index.js';
import { callView } from '../http/routes/v1.js';
import type { AgentCredentials, AgentDirectory } from '../agents/index.js';
import { digestHa1 } from '../sip/message/index.js';
import { TokenBuckets } from '../sbc/token-bucket.js';
import type { CallStore, SessionStore } from '../storage/index.js';
import { callContext, type FlowEventsOf } from './call-context.js';
import { presenceView } from './desk-hub.js';
import { deskIdentity, deskPage, requireDeskSession } from './desk-http.js';
import type { DeskSessions } from './desk-session.js';

export interface DeskRouterDeps {
  readonly sessions: DeskSessions;
  readonly agents: AgentDirectory;
  readonly calls: CallManager;
  readonly store: CallStore;
  readonly webSessions: SessionStore;
  readonly messages: MessageHub;
  /** The stored flow events of a call, for the call's context. */
  readonly flowEvents?: FlowEventsOf;
  readonly sipDomain: string;
  readonly sipWsPath: string;
  /** The built desk bundle (widget/dist); the page says so when it is missing. */
  readonly assetsDir: string;
}

const same = (a: string, b: string) =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

/**
 * The desk password is the agent's SIP password: checked as is, or through the
 * stored digest H(A1) when only that is kept. Unknown users cost the same
 * comparison, so timing does not tell which usernames exist.
 */
function passwordMatches(
  known: AgentCredentials | undefined,
  password: string,
  realm: string,
): boolean {
  if (known?.password !== undefined) return same(password, known.password);
  const ha1 = known?.ha1?.['SHA-256'];
  if (known && ha1 !== undefined)
    return same(digestHa1(known.username, realm, password, 'SHA-256'), ha1);
  const md5 = known?.ha1?.MD5;
  if (known && md5 !== undefined)
    return same(digestHa1(known.username, realm, password, 'MD5'), md5);
  same(password, '\u0000no such agent');
  return false;
}

export function deskRouter(deps: DeskRouterDeps): Router {
  const router = Router();
  // Sign-in attempts per client address (`req.ip`: X-Forwarded-For only from
  // http.trustProxy) and per username, so neither a rotating header nor many
  // addresses guess one agent's password faster than this.
  const logins = new TokenBuckets({ perSecond: 0.2, burst: 10 });
  const loginsPerUser = new TokenBuckets({ perSecond: 0.2, burst: 10 });

  router.get('/', deskPage('agent desk', 'parley-agent-desk'));
  if (existsSync(deps.assetsDir))
    router.use('/assets', express.static(deps.assetsDir, { fallthrough: false }));

  const api = Router();
  api.use(express.json({ limit: '16kb' }));

  api.post('/login', (req, res) => {
    if (!logins.take(req.ip ?? 'unknown'))
      throw new ParleyError('rate_limited', 'too many sign-in attempts');
    const { username, password } = (req.body ?? {}) as { username?: unknown; password?: unknown };
    if (typeof username !== 'string' || typeof password !== 'string')
      throw new ParleyError('bad_request', 'username and password are required');
    if (!loginsPerUser.take(username.slice(0, 128)))
      throw new ParleyError('rate_limited', 'too many sign-in attempts');
    const known = deps.agents.credentials(username);
    const ok = passwordMatches(known, password, deps.sipDomain);
    const presence = known ? deps.agents.get(known.agentId) : undefined;
    const session = ok && presence ? deps.sessions.issue(presence.id) : undefined;
    if (!presence || !session) throw new ParleyError('unauthorized', 'wrong username or password');
    const { token, expiresAt } = session;
    res.setHeader('set-cookie', deps.sessions.cookie(token, expiresAt, req.secure));
    res.json({ agent: presenceView(presence) });
  });

  api.post('/logout', (req, res) => {
    res.setHeader('set-cookie', deps.sessions.cookie('', 0, req.secure));
    res.json({ ok: true });
  });

  api.use(requireDeskSession(deps.sessions));
  const me = deskIdentity;

  api.get('/me', (req: Request, res) => {
    const identity = me(res);
    const presence = deps.agents.get(identity.agentId);
    if (!presence) throw new ParleyError('unauthorized', 'agent no longer configured');
    const proto = req.secure ? 'wss' : 'ws';
    res.json({
      agent: presenceView(presence),
      sip: {
        wsUrl: `${proto}://${req.headers.host ?? 'localhost'}${deps.sipWsPath}`,
        domain: deps.sipDomain,
        username: presence.username,
      },
    });
  });

  api.post('/availability', (req, res) => {
    const value = (req.body as { availability?: unknown } | undefined)?.availability;
    if (value !== 'available' && value !== 'away')
      throw new ParleyError('bad_request', 'availability is available or away');
    deps.agents.setAvailability(me(res).agentId, value);
    res.json({ agent: presenceView(deps.agents.get(me(res).agentId)!) });
  });

  api.get('/calls', async (req, res) => {
    const limit = Math.min(Number(req.query['limit'] ?? 20) || 20, 100);
    const calls = await deps.store.listRecent(limit, { agentId: me(res).agentId });
    res.json({ calls: calls.map((c) => callView(c)) });
  });

  api.get('/calls/:id', async (req, res) => {
    const record = await deps.store.get(req.params.id);
    if (!record || record.tenant !== me(res).tenant)
      throw new ParleyError('not_found', 'no such call');
    const live = deps.calls.get(record.id);
    res.json({
      ...callView(record),
      messages: await deps.messages.history(record.id),
      context: live ? await callContext(live, deps.store, deps.flowEvents) : null,
      session: (await deps.webSessions.get(record.tenant, record.sessionId)) ?? null,
    });
  });

  router.use('/api', api);
  return router;
}
