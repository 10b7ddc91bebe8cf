/**
 * Wires live voicemail into the gateway (gateway.ts only calls this): the
 * service on the call manager, its store (SQLite, or PostgreSQL shared by the
 * cluster with `storage.kind: postgres`), the API routes and the `/live`
 * upgrade, and the desk fan-out (each event to the desks of the box's agents:
 * the live frames, and a voicemail marked heard or deleted).
 */
import { resolve } from 'node:path';
import type { Router } from 'express';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AgentDirectory } from '../agents/index.js';
import type { CallManager, MessageHub } from '../calls/index.js';
import { ConfirmedLapses, lapsedInstanceList, type LostGatewayModule } from '../cluster/index.js';
import type { Config } from '../config/index.js';
import type { DeskHub, DeskSessions } from '../desk/index.js';
import type { ApiKeyConfig } from '../http/api-auth.js';
import type { MediaApps } from '../media/apps/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import type { Speech } from '../speech/index.js';
import type { SipStack } from '../sip/index.js';
import type { MessageStore, SqliteDatabase } from '../storage/index.js';
import { JournalMover, type PgPool } from '../storage/postgres/index.js';
import type { VoicemailEvent, VoicemailInboxEvent } from '@parley/shared/protocol';
import { queueDefinitions } from '../queues/from-config.js';
import { voicemailDeskRouter } from './desk-routes.js';
import { voicemailLiveUpgrade, voicemailRouter } from './http.js';
import { VoicemailInbox, type VoicemailBoxOf } from './inbox.js';
import { endInterrupted, type InterruptedDeps } from './interrupted.js';
import type { WebhookOutbox } from './outbox.js';
import { JournaledOutbox } from './postgres/journaled-outbox.js';
import { moveSqliteOutbox, newestOutboxRow } from './postgres/outbox-move.js';
import { PgWebhookOutbox } from './postgres/pg-outbox.js';
import { PgVoicemailStore } from './postgres/pg-store.js';
import { PgTombstones } from './postgres/pg-tombstones.js';
import { flowVoicemail, watchQueueCalls, type FlowVoicemail } from './rules.js';
import { VoicemailRetention } from './retention.js';
import { SqliteWebhookOutbox } from './sqlite-outbox.js';
import { SqliteVoicemailStore } from './sqlite-store.js';
import type { VoicemailStore } from './store.js';
import { VoicemailWebhooks } from './webhooks.js';
import { Voicemails } from './voicemails.js';

export interface VoicemailWiring {
  readonly voicemails: Voicemails;
  readonly router: Router;
  /** Mounted at /desk: the voicemail page and the desk's voicemail API (desk-routes.ts). */
  readonly deskRouter: Router;
  readonly upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
  /** A flow's `voicemail` verb and `dial` of an agent who did not answer (`Telephony.setVoicemail`). */
  readonly flowVoicemail: FlowVoicemail;
  readonly webhooks: VoicemailWebhooks;
  readonly retention: VoicemailRetention;
  readonly store: VoicemailStore;
  /** For the cluster's lost-gateway sweeper: a dead gateway's voicemails still `recording`. */
  readonly lost: LostGatewayModule;
  /** Stops the sweeper, the webhooks and the recordings; the last rows' writes land first. */
  close(): Promise<void>;
}

export async function wireVoicemail(deps: {
  readonly config: Config;
  readonly db: SqliteDatabase;
  /** `storage.kind: postgres`: the shared database (migrated with `VOICEMAIL_PG_MIGRATIONS`). */
  readonly pool?: PgPool | undefined;
  /** This gateway's instance id (`shared.instanceId`): the WAVs it records are on its disk. */
  readonly instanceId: string;
  /** Whether another gateway of the cluster holds its lease (Redis); absent without one. */
  readonly alive?: ((instance: string) => Promise<boolean>) | undefined;
  /** The calls' data-channel messages: what a browser caller typed, shown with its voicemail. */
  readonly messages: MessageStore;
  /** The message hub: the lines a caller types while recording, as it accepted them. */
  readonly hub: Pick<MessageHub, 'subscribe'>;
  readonly stack: SipStack;
  readonly calls: CallManager;
  readonly apps: MediaApps;
  readonly speech: Speech;
  readonly agents: AgentDirectory;
  readonly desk: DeskHub;
  readonly deskSessions: DeskSessions;
  readonly apiKeys: readonly ApiKeyConfig[];
  /** Where the company reaches the API (`http.publicUrl`, or where it listens): the webhooks' recording URLs. */
  readonly httpUrl: string;
  readonly logger: Logger;
  /** The files removed for tombstones are counted there. */
  readonly metrics?: Pick<Metrics, 'voicemailTombstonedFilesRemoved'> | undefined;
  readonly now: () => number;
}): Promise<VoicemailWiring> {
  const { config, alive } = deps;
  const pgStore = deps.pool ? new PgVoicemailStore(deps.pool, deps.instanceId) : undefined;
  const store: VoicemailStore = pgStore ?? new SqliteVoicemailStore(deps.db, deps.instanceId);
  const recordingsDir = resolve(config.storage.recordingsDir);
  const voicemails = new Voicemails({
    calls: deps.calls,
    store,
    messages: deps.hub,
    apps: deps.apps,
    tts: deps.speech.tts,
    transcriber: deps.speech.transcriber,
    // Absolute: the API sends the file by its stored path.
    recordingsDir,
    logger: deps.logger,
    now: deps.now,
    stack: deps.stack,
    agents: deps.agents,
    domain: config.sip.domain,
    tenantName: (tenant) => config.tenants[tenant]?.name,
  });
  const hours = queueDefinitions(config);
  const rules = {
    calls: deps.calls,
    voicemails,
    queue: (name: string) => {
      const q = config.queues[name];
      if (!q?.voicemail) return undefined;
      const waits = q.waiting !== undefined;
      const closedFlow = q.flows?.closed !== undefined;
      const at = hours[name]?.businessHours;
      return { tenant: q.tenant, settings: q.voicemail, hours: at, waits, closedFlow };
    },
    // The config file's agents and those made through the API alike.
    agent: (id: string) => deps.agents.voicemail(id),
    agentTenant: (id: string) => deps.agents.get(id)?.tenant,
    now: deps.now,
    logger: deps.logger,
  };
  watchQueueCalls(rules);
  // Shared index, shared outbox: any live gateway sends what a dead one raised.
  // On PostgreSQL each event is journalled in SQLite first: on disk before `add` returns.
  const outbox: WebhookOutbox = deps.pool
    ? new JournaledOutbox(deps.db, new PgWebhookOutbox(deps.pool, deps.logger), deps.logger)
    : new SqliteWebhookOutbox(deps.db);
  // What this gateway's journal held at its last stop (or its outbox from before the outbox was
  // shared): sent from the shared one.
  if (deps.pool)
    await moveSqliteOutbox(deps.db, deps.pool, deps.instanceId, deps.logger).then(
      (moved) =>
        moved > 0 &&
        deps.logger.info({ moved }, 'voicemail webhook events moved from SQLite to PostgreSQL'),
      (err: unknown) =>
        deps.logger.error({ err }, 'voicemail webhook events left in SQLite: moved at next start'),
    );
  // What PostgreSQL refused past the journal's insert while this gateway runs: moved within a minute.
  const pool = deps.pool;
  const mover = pool
    ? new JournalMover(
        {
          name: 'voicemail webhook events',
          newest: () => newestOutboxRow(deps.db),
          move: (upTo) => moveSqliteOutbox(deps.db, pool, deps.instanceId, deps.logger, upTo),
        },
        deps.logger,
      )
    : undefined;
  const webhooks = new VoicemailWebhooks({
    outbox,
    scanMs: config.shared.heartbeatSeconds * 1000,
    target: (tenant) => {
      const webhook = config.tenants[tenant]?.voicemail?.webhook;
      if (!webhook) return undefined;
      const { maxBackoffSeconds, ...rest } = webhook;
      return {
        ...rest,
        ...(maxBackoffSeconds === undefined ? {} : { maxBackoffMs: maxBackoffSeconds * 1000 }),
      };
    },
    tenantOf: (id) => voicemails.liveBox(id)?.tenant,
    recordingUrl: (id) => `${deps.httpUrl.replace(/\/$/, '')}/v1/voicemails/${id}/recording`,
    maxBackoffMs: config.voicemail.webhookMaxBackoffSeconds * 1000,
    logger: deps.logger,
    now: deps.now,
  });
  const unhook = voicemails.live.onEvent((event) => webhooks.publish(event));
  webhooks.start();
  // Each voicemail's box: its queue's agents, or the one agent whose box it is.
  const notifyBox = (box: VoicemailBoxOf, event: VoicemailEvent | VoicemailInboxEvent) => {
    if (box.agent !== null) {
      deps.desk.notify(box.agent, event);
      return;
    }
    for (const agent of deps.agents.list())
      if (agent.queues.includes(box.queue)) deps.desk.notify(agent.id, event);
  };
  const retention = new VoicemailRetention({
    store,
    retentionDays: config.voicemail.retentionDays,
    intervalMs: config.voicemail.sweepIntervalSeconds * 1000,
    // Shared index: the rows of gateways whose lease lapsed are this one's to sweep too (seen
    // missing on two sweeps a lease apart: a Redis restarted empty has every lease missing).
    retired:
      pgStore && alive && retiredGateways(pgStore, alive, config.shared.leaseSeconds, deps.now),
    // Shared index: the WAVs here whose rows another gateway deleted while this one was retired.
    tombstones: deps.pool && {
      tombstones: new PgTombstones(deps.pool, deps.instanceId),
      recordingsDir,
      removed: (count: number) => deps.metrics?.voicemailTombstonedFilesRemoved.inc(count),
    },
    logger: deps.logger,
    now: deps.now,
  });
  // Shared index: also the deletions asked on other gateways of the WAVs held here.
  retention.start(pgStore !== undefined);
  const unsubscribe = voicemails.live.onEvent((event) => {
    const box = 'voicemail' in event ? event.voicemail : voicemails.liveBox(event.voicemailId);
    if (box !== undefined) notifyBox(box, event);
  });
  // "Take the call" from the desk: the agent's phone (or this desk's softphone) rings.
  deps.desk.onCommand('take-voicemail', (agentId, frame) => {
    const id = frame['voicemailId'];
    if (typeof id !== 'string') return { ok: false, reason: 'voicemailId is required' };
    const tenant = deps.agents.get(agentId)?.tenant;
    voicemails.take(id, agentId, tenant).catch((error: unknown) => {
      const reason = error instanceof Error ? error.message : String(error);
      deps.desk.notify(agentId, { type: 'notice', code: 'take_failed', reason });
    });
    return { ok: true };
  });
  const inbox = new VoicemailInbox({
    store,
    messages: deps.messages,
    notify: notifyBox,
    logger: deps.logger,
    now: deps.now,
  });
  // What the last run left `recording` (killed mid-message): ended `interrupted`, the webhook
  // told, now that the fan-out and the webhooks listen. A lost gateway's: `recoverLost`.
  const interrupted: InterruptedDeps = {
    store,
    publish: (event) => voicemails.live.publish(event),
    // The typed lines are extra: one that cannot be read must not stop the
    // ended frame (or, at start, the gateway's start-up).
    typed: (view) =>
      inbox.typed(view).catch((err: unknown) => {
        deps.logger.error({ err, voicemailId: view.id }, 'typed lines not read: published without');
        return [];
      }),
    logger: deps.logger,
    now: deps.now,
  };
  await endInterrupted(interrupted, store.gateway, 'interrupted');
  const http = { apiKeys: deps.apiKeys, voicemails, store, inbox };
  return {
    voicemails,
    router: voicemailRouter(http),
    deskRouter: voicemailDeskRouter({
      sessions: deps.deskSessions,
      agents: deps.agents,
      voicemails,
      store,
      inbox,
    }),
    upgrade: voicemailLiveUpgrade(http),
    flowVoicemail: flowVoicemail(rules),
    webhooks,
    retention,
    store,
    lost: {
      name: 'voicemail',
      openOwners: () => store.openOwners(),
      recoverLost: (owner) => endInterrupted(interrupted, owner, 'gateway_lost'),
    },
    async close() {
      retention.close();
      await mover?.close();
      unhook();
      // The events raised so far are in the outbox before the pool closes.
      await webhooks.close();
      unsubscribe();
      await voicemails.close();
      await pgStore?.idle();
    },
  };
}

/** The other gateways of the shared index whose lease has been missing for a lease at least. */
function retiredGateways(
  store: PgVoicemailStore,
  alive: (instance: string) => Promise<boolean>,
  leaseSeconds: number,
  now: () => number,
): () => Promise<string[]> {
  const lapses = new ConfirmedLapses({ leaseMs: leaseSeconds * 1000, now });
  return async () => {
    const others = await store.otherGateways();
    lapses.keepOnly(new Set(others));
    return lapsedInstanceList(others, lapses.alive(alive));
  };
}
