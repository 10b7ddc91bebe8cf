/**
 * Live events for agent desks: each signed-in desk has a WebSocket; the hub
 * tells it when a call rings at its agent (with the call's context), when that
 * stops, when it is answered and ends, every data-channel message of the
 * agent's call, and the agent's own presence. A desk sends chat for its call
 * and its availability back.
 */
import { randomUUID } from 'node:crypto';
import type { Call, CallManager, MessageHub } from '../calls/index.js';
import type { Logger } from '../observability/index.js';
import type { AgentDirectory, AgentPresence } from '../agents/index.js';
import type { DeskAgent, DeskEvent } from '@parley/shared/protocol';
import type { CallStore } from '../storage/index.js';
import { callContext, type FlowEventsOf } from './call-context.js';
import type { DeskFanout } from './desk-fanout.js';
import { DeskRelay } from './desk-relay.js';

export interface DeskSocket {
  send(frame: string): void;
  /** Ends the desk's connection (its agent was deleted). */
  close?(code: number, reason: string): void;
}

/** Answers a desk frame of another module (it may act later; the answer is immediate). */
export type DeskCommandHandler = (
  agentId: string,
  frame: Readonly<Record<string, unknown>>,
) => { ok: boolean; reason?: string };

/** What another module's live feed replays to a desk that just connected (callbacks, flows in progress). */
export type DeskReplay = (agentId: string) => readonly DeskEvent[];

/**
 * Frames about this gateway's own calls, callbacks and flows go to the desks
 * connected to other gateways too; an agent's presence and a queue's view
 * each gateway sends its own desks, from its directory (which counts the
 * agent's calls on the other gateways too) and the cluster's queue.
 */
const LOCAL_ONLY: ReadonlySet<unknown> = new Set(['presence', 'queue']);

export class DeskHub {
  readonly #sockets = new Map<string, Set<DeskSocket>>();
  /** agentId → unsubscribe from its current call's messages */
  readonly #messageSubs = new Map<string, () => void>();
  readonly #calls: CallManager;
  readonly #store: CallStore;
  readonly #messages: MessageHub;
  readonly #agents: AgentDirectory;
  readonly #log: Logger;
  /** Per agent, the last event still waiting for a store read (see #toAgent). */
  readonly #pending = new Map<string, Promise<void>>();
  readonly #commands = new Map<string, DeskCommandHandler>();
  readonly #flowEvents: FlowEventsOf | undefined;
  readonly #replays: DeskReplay[] = [];
  readonly #socketIds = new WeakMap<DeskSocket, string>();
  readonly #relay: DeskRelay | undefined;

  constructor(deps: {
    calls: CallManager;
    store: CallStore;
    messages: MessageHub;
    agents: AgentDirectory;
    logger: Logger;
    /** The stored flow events of a call, for the call's context (telephony's event store). */
    flowEvents?: FlowEventsOf;
    /** The cluster's desk fan-out (`shared.redis`): desks see calls on every gateway. */
    fanout?: DeskFanout;
  }) {
    this.#flowEvents = deps.flowEvents;
    this.#relay = deps.fanout
      ? new DeskRelay(
          deps.fanout,
          {
            deliverHere: (agentId, frame) => this.#deliverFrame(agentId, frame),
            sendToSocket: (agentId, socketId, frames) => {
              for (const socket of this.#sockets.get(agentId) ?? [])
                if (this.#socketIds.get(socket) === socketId)
                  for (const frame of frames) socket.send(frame);
            },
            receive: (agentId, frame) => this.receive(agentId, frame),
            // In the agent's queue of events: the replay leaves before anything raised after it.
            framesFor: (agentId, send) =>
              this.#inOrder(agentId, async () => {
                const events = await this.#collect(
                  agentId,
                  this.#calls.list(),
                  this.#replays.flatMap((replay) => replay(agentId)),
                );
                send(
                  events
                    .filter((event) => !LOCAL_ONLY.has(event['type']))
                    .map((event) => JSON.stringify(event)),
                );
              }),
          },
          deps.logger.child({ module: 'desk-relay' }),
        )
      : undefined;
    this.#calls = deps.calls;
    this.#store = deps.store;
    this.#messages = deps.messages;
    this.#agents = deps.agents;
    this.#log = deps.logger.child({ module: 'desk' });
    deps.agents.on('change', (presence) =>
      this.#toAgent(presence.id, { type: 'presence', agent: presenceView(presence) }),
    );
    deps.agents.on('removed', (agentId) => {
      for (const socket of this.#sockets.get(agentId) ?? []) socket.close?.(4001, 'agent removed');
      this.#sockets.delete(agentId);
      this.#messageSubs.get(agentId)?.();
      this.#messageSubs.delete(agentId);
    });
    deps.calls.onCall((call) => this.#watch(call));
  }

  /** A desk connected for `agentId`: it gets its presence and any call ringing or up for it now. */
  connect(agentId: string, socket: DeskSocket): () => void {
    const set = this.#sockets.get(agentId) ?? new Set<DeskSocket>();
    set.add(socket);
    this.#sockets.set(agentId, set);
    const presence = this.#agents.get(agentId);
    if (presence) socket.send(JSON.stringify({ type: 'presence', agent: presenceView(presence) }));
    // The calls' context comes from the store: sent in order, after the reads.
    const calls = this.#calls.list();
    // Taken now, with the socket joining: what is raised from here on is queued behind it.
    const replayed = this.#replays.flatMap((replay) => replay(agentId));
    const send = async () => {
      for (const event of await this.#collect(agentId, calls, replayed))
        socket.send(JSON.stringify(event));
    };
    this.#inOrder(agentId, send);
    if (this.#relay) {
      const socketId = randomUUID();
      this.#socketIds.set(socket, socketId);
      this.#relay.connected(agentId, socketId);
    }
    return () => set.delete(socket);
  }

  /** What a desk of `agentId` is sent when it connects: its calls (with context and chat), then the replays. */
  async #collect(
    agentId: string,
    calls: readonly Call[],
    replayed: readonly DeskEvent[],
  ): Promise<Record<string, unknown>[]> {
    const events: Record<string, unknown>[] = [];
    for (const call of calls) {
      if (call.agentId === agentId) {
        events.push({
          type: 'answered',
          call: await callContext(call, this.#store, this.#flowEvents),
        });
        for (const stored of await this.#messages.history(call.id))
          events.push({ type: 'message', callId: call.id, stored });
      } else if (call.ringingAgents.includes(agentId)) {
        events.push({ type: 'ring', call: await callContext(call, this.#store, this.#flowEvents) });
      }
    }
    for (const event of replayed) events.push(event as unknown as Record<string, unknown>);
    return events;
  }

  /**
   * A desk frame: `{ type: 'chat', callId, text }`, `{ type: 'availability', value }`
   * or `{ type: 'hold', callId, held }` (the visitor is told).
   */
  receive(agentId: string, frame: string): { ok: boolean; reason?: string } {
    let message: {
      type?: unknown;
      callId?: unknown;
      text?: unknown;
      value?: unknown;
      held?: unknown;
    };
    try {
      message = JSON.parse(frame) as typeof message;
    } catch {
      return { ok: false, reason: 'not JSON' };
    }
    if (
      message.type === 'availability' &&
      (message.value === 'available' || message.value === 'away')
    ) {
      this.#agents.setAvailability(agentId, message.value);
      return { ok: true };
    }
    if (
      message.type === 'chat' &&
      typeof message.callId === 'string' &&
      typeof message.text === 'string'
    ) {
      const call = this.#calls.get(message.callId);
      if (!call && this.#relay?.forward(agentId, message.callId, frame)) return { ok: true };
      if (!call || call.agentId !== agentId) return { ok: false, reason: 'not your call' };
      const result = this.#messages.fromAgent(
        call,
        JSON.stringify({
          type: 'chat',
          id: randomUUID(),
          at: new Date().toISOString(),
          text: message.text,
        }),
      );
      return result.ok ? { ok: true } : { ok: false, reason: result.reason };
    }
    if (
      message.type === 'hold' &&
      typeof message.callId === 'string' &&
      typeof message.held === 'boolean'
    ) {
      const call = this.#calls.get(message.callId);
      if (!call && this.#relay?.forward(agentId, message.callId, frame)) return { ok: true };
      if (!call || call.agentId !== agentId) return { ok: false, reason: 'not your call' };
      call.agentHold(message.held);
      return { ok: true };
    }
    const handler = typeof message.type === 'string' ? this.#commands.get(message.type) : undefined;
    if (handler) return handler(agentId, message as Record<string, unknown>);
    return { ok: false, reason: 'unknown message' };
  }

  /** Another module's desk command (voicemail's `take-voicemail`): `handler` answers it. */
  onCommand(type: string, handler: DeskCommandHandler): void {
    this.#commands.set(type, handler);
  }

  /** What `replay` gives is sent to each desk that connects, after its calls (a reconnect catches up). */
  onConnectReplay(replay: DeskReplay): void {
    this.#replays.push(replay);
  }

  /** Sends an event to every desk of `agentId` (other modules' events: voicemail). */
  notify(agentId: string, event: DeskEvent): void {
    this.#toAgent(agentId, event as unknown as Record<string, unknown>);
  }

  #watch(call: Call): void {
    call.on('agentRinging', (agentId) =>
      this.#toAgent(agentId, async () => ({
        type: 'ring',
        call: await callContext(call, this.#store, this.#flowEvents),
      })),
    );
    call.on('agentStopped', (agentId) =>
      this.#toAgent(agentId, { type: 'ring-stopped', callId: call.id }),
    );
    call.on('answered', (agentId) => {
      this.#toAgent(agentId, async () => ({
        type: 'answered',
        call: await callContext(call, this.#store, this.#flowEvents),
      }));
      this.#messageSubs.get(agentId)?.();
      const unsubscribe = this.#messages.subscribe(call.id, {
        send: (stored) =>
          this.#toAgent(agentId, {
            type: 'message',
            callId: call.id,
            stored: JSON.parse(stored) as unknown,
          }),
        close: () => undefined,
      });
      this.#messageSubs.set(agentId, unsubscribe);
    });
    call.once('ended', (record) => {
      const agentId = record.agentId;
      if (agentId && call.agentId === agentId) {
        this.#messageSubs.get(agentId)?.();
        this.#messageSubs.delete(agentId);
        this.#toAgent(agentId, {
          type: 'ended',
          callId: call.id,
          reason: record.reason,
          outcome: record.outcome,
        });
      }
    });
  }

  /**
   * Sends an event to the agent's desks. Events that read the store first
   * (`event` a function) keep their place: every event to one agent goes out
   * in the order it was raised (a ring before its ring-stopped).
   */
  #toAgent(
    agentId: string,
    event: Record<string, unknown> | (() => Promise<Record<string, unknown>>),
  ): void {
    // A frame to be made (a call's context: a store read) for nobody: not made. A desk
    // connecting later is sent its calls then (#collect); the relay shares with other gateways.
    if (typeof event === 'function' && !this.#relay && !this.#sockets.get(agentId)?.size) return;
    if (typeof event !== 'function' && !this.#pending.has(agentId)) {
      this.#deliver(agentId, event);
      return;
    }
    this.#inOrder(agentId, async () =>
      this.#deliver(agentId, typeof event === 'function' ? await event() : event),
    );
  }

  #inOrder(agentId: string, task: () => Promise<void>): void {
    const previous = this.#pending.get(agentId) ?? Promise.resolve();
    const next = previous
      .then(task)
      .catch((err: unknown) => this.#log.error({ err, agentId }, 'desk event not sent'));
    this.#pending.set(agentId, next);
    void next.then(() => {
      if (this.#pending.get(agentId) === next) this.#pending.delete(agentId);
    });
  }

  #deliver(agentId: string, event: Record<string, unknown>): void {
    const frame = JSON.stringify(event);
    if (this.#relay && !LOCAL_ONLY.has(event['type'])) this.#relay.shared(agentId, frame);
    this.#deliverFrame(agentId, frame);
  }

  #deliverFrame(agentId: string, frame: string): void {
    const sockets = this.#sockets.get(agentId);
    if (!sockets || sockets.size === 0) return;
    for (const socket of sockets) {
      try {
        socket.send(frame);
      } catch (error) {
        this.#log.debug({ err: error, agentId }, 'desk socket send failed');
      }
    }
  }
}

export function presenceView(p: AgentPresence): DeskAgent {
  return {
    id: p.id,
    displayName: p.displayName ?? p.id,
    tier: p.tier ?? null,
    state: p.state,
    availability: p.availability,
    registered: p.registered,
    activeCalls: p.activeCalls,
    wrapUpUntil: p.wrapUpUntil === undefined ? null : new Date(p.wrapUpUntil).toISOString(),
    queues: p.queues,
  };
}
