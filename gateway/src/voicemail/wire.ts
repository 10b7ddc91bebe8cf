/**
 * Wires live voicemail into the gateway (gateway.ts only calls this): the
 * service on the call manager, its store, the API routes and the `/live`
 * upgrade, and the desk fan-out (each event to the desks of the queue's agents).
 */
import { resolve } from 'node:path';
import type { Router } from 'express';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AgentDirectory } from '../agents/index.js';
import type { CallManager } from '../calls/index.js';
import type { Config } from '../config/index.js';
import type { DeskHub, DeskSessions } from '../desk/index.js';
import type { ApiKeyConfig } from '../http/api-auth.js';
import type { MediaApps } from '../media/apps/index.js';
import type { Logger } from '../observability/index.js';
import type { Speech } from '../speech/index.js';
import type { SipStack } from '../sip/index.js';
import type { MessageStore, SqliteDatabase } from '../storage/index.js';
import { queueDefinitions } from '../queues/from-config.js';
import { voicemailDeskRouter } from './desk-routes.js';
import { voicemailLiveUpgrade, voicemailRouter } from './http.js';
import { VoicemailInbox } from './inbox.js';
import { flowVoicemail, watchQueueCalls, type FlowVoicemail } from './rules.js';
import { VoicemailRetention } from './retention.js';
import { SqliteVoicemailStore } from './store.js';
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
  close(): void;
}

export function wireVoicemail(deps: {
  readonly config: Config;
  readonly db: SqliteDatabase;
  /** The calls' data-channel messages: what a browser caller typed, shown with its voicemail. */
  readonly messages: MessageStore;
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
  readonly now: () => number;
}): VoicemailWiring {
  const { config } = deps;
  const store = new SqliteVoicemailStore(deps.db);
  const interrupted = store.closeInterrupted(deps.now());
  if (interrupted > 0)
    deps.logger.warn({ voicemails: interrupted }, 'closed voicemails interrupted by the last stop');
  const voicemails = new Voicemails({
    calls: deps.calls,
    store,
    apps: deps.apps,
    tts: deps.speech.tts,
    transcriber: deps.speech.transcriber,
    // Absolute: the API sends the file by its stored path.
    recordingsDir: resolve(config.storage.recordingsDir),
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
  const webhooks = new VoicemailWebhooks({
    db: deps.db,
    target: (tenant) => {
      const webhook = config.tenants[tenant]?.voicemail?.webhook;
      if (!webhook) return undefined;
      const { maxBackoffSeconds, ...rest } = webhook;
      return {
        ...rest,
        ...(maxBackoffSeconds === undefined ? {} : { maxBackoffMs: maxBackoffSeconds * 1000 }),
      };
    },
    tenantOf: (id) => store.get(id)?.tenant,
    recordingUrl: (id) => `${deps.httpUrl.replace(/\/$/, '')}/v1/voicemails/${id}/recording`,
    maxBackoffMs: config.voicemail.webhookMaxBackoffSeconds * 1000,
    logger: deps.logger,
    now: deps.now,
  });
  const unhook = voicemails.live.onEvent((event) => webhooks.publish(event));
  webhooks.start();
  const retention = new VoicemailRetention({
    store,
    retentionDays: config.voicemail.retentionDays,
    intervalMs: config.voicemail.sweepIntervalSeconds * 1000,
    logger: deps.logger,
    now: deps.now,
  });
  retention.start();
  // Each live voicemail's box: its queue's agents, or the one agent whose box it is.
  const boxes = new Map<string, { queue: string; agent: string | null }>();
  const unsubscribe = voicemails.live.onEvent((event) => {
    let box: { queue: string; agent: string | null } | undefined;
    if (event.type === 'voicemail-started') {
      box = event.voicemail;
      boxes.set(event.voicemail.id, { queue: box.queue, agent: box.agent });
    } else if (event.type === 'voicemail-ended') {
      box = event.voicemail;
      boxes.delete(event.voicemail.id);
    } else box = boxes.get(event.voicemailId);
    if (box === undefined) return;
    if (box.agent !== null) {
      deps.desk.notify(box.agent, event);
      return;
    }
    for (const agent of deps.agents.list())
      if (agent.queues.includes(box.queue)) deps.desk.notify(agent.id, event);
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
    logger: deps.logger,
    now: deps.now,
  });
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
    close() {
      retention.close();
      unhook();
      webhooks.close();
      unsubscribe();
      voicemails.close();
    },
  };
}
