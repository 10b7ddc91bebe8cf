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
import type { SqliteDatabase } from '../storage/index.js';
import { voicemailDeskRouter } from './desk-routes.js';
import { voicemailLiveUpgrade, voicemailRouter } from './http.js';
import { SqliteVoicemailStore } from './store.js';
import { Voicemails } from './voicemails.js';

export interface VoicemailWiring {
  readonly voicemails: Voicemails;
  readonly router: Router;
  /** Mounted at /desk: the voicemail page and the desk's voicemail API (desk-routes.ts). */
  readonly deskRouter: Router;
  readonly upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;
  close(): void;
}

export function wireVoicemail(deps: {
  readonly config: Config;
  readonly db: SqliteDatabase;
  readonly stack: SipStack;
  readonly calls: CallManager;
  readonly apps: MediaApps;
  readonly speech: Speech;
  readonly agents: AgentDirectory;
  readonly desk: DeskHub;
  readonly deskSessions: DeskSessions;
  readonly apiKeys: readonly ApiKeyConfig[];
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
    settings: (queue) => config.queues[queue]?.voicemail,
    // Absolute: the API sends the file by its stored path.
    recordingsDir: resolve(config.storage.recordingsDir),
    logger: deps.logger,
    now: deps.now,
    stack: deps.stack,
    agents: deps.agents,
    domain: config.sip.domain,
    tenantName: (tenant) => config.tenants[tenant]?.name,
  });
  // Each voicemail's queue, while it is live: where its partials go.
  const queues = new Map<string, string>();
  const unsubscribe = voicemails.live.onEvent((event) => {
    let queue: string | undefined;
    if (event.type === 'voicemail-started') {
      queue = event.voicemail.queue;
      queues.set(event.voicemail.id, queue);
    } else if (event.type === 'voicemail-ended') {
      queue = event.voicemail.queue;
      queues.delete(event.voicemail.id);
    } else queue = queues.get(event.voicemailId);
    if (queue === undefined) return;
    for (const agent of deps.agents.list())
      if (agent.queues.includes(queue)) deps.desk.notify(agent.id, event);
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
  const http = { apiKeys: deps.apiKeys, voicemails, store };
  return {
    voicemails,
    router: voicemailRouter(http),
    deskRouter: voicemailDeskRouter({
      sessions: deps.deskSessions,
      agents: deps.agents,
      voicemails,
      store,
    }),
    upgrade: voicemailLiveUpgrade(http),
    close() {
      unsubscribe();
      voicemails.close();
    },
  };
}
