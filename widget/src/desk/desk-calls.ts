/**
 * The desk's live call feed: the calls ringing for the agent, the call in
 * progress and the last one that ended. It joins the two sources of truth
 * about a call, the gateway's desk events (`ring`, `answered`, `message`,
 * `ended`, keyed by call id) and the softphone's SIP sessions (keyed by the
 * same id, from `X-Parley-Call`), which come over two sockets with no order
 * between them, and fires `parley-desk-call` and `parley-desk-message`.
 */
import type { NavigationMessage, StoredMessage } from '@parley/shared/protocol';
import { CallChat } from './call-chat.js';
import type { DeskClient } from './desk-client.js';
import type { DeskCallDetail, DeskErrorDetail, DeskMessageDetail } from './desk-events.js';
import type { CallContext, DeskEvent } from './desk-protocol.js';
import { latestPage, ringAnnouncement } from './desk-text.js';
import type { ActiveCall, EndedCall, RingingCall } from './desk-view.js';
import type { Softphone } from './softphone.js';
import type { PhoneCallChange } from './softphone-types.js';

export interface DeskCallsDeps {
  readonly client: Pick<DeskClient, 'callDetail'>;
  readonly phone: Pick<Softphone, 'callState' | 'remoteStream'>;
  readonly now: () => number;
  readonly fire: <T>(type: string, detail: T) => void;
  /** Something the view shows changed. */
  readonly changed: () => void;
  /** A call the desk knew ended (the recent calls change). */
  readonly ended: () => void;
  /** The events socket is open (else no `ended` will come from the gateway). */
  readonly connected: () => boolean;
}

interface RingEntry {
  context: CallContext | undefined;
  page: NavigationMessage | undefined;
  /** Came with a desk event (else only as an INVITE). */
  fromEvent: boolean;
}

interface CallEntry {
  readonly callId: string;
  context: CallContext | undefined;
  readonly answeredAt: number;
  readonly chat: CallChat;
  /** `parley-desk-call` `answered` was fired (it needs the context). */
  announced: boolean;
  /** The softphone's session of this call ended before the gateway's `ended`. */
  ending: boolean;
}

export class DeskCalls {
  lastEnded: EndedCall | undefined;
  /** What the live region says (incoming calls, answers, ends). */
  announcement = '';
  remoteStream: MediaStream | undefined;
  readonly #deps: DeskCallsDeps;
  readonly #rings = new Map<string, RingEntry>();
  #call: CallEntry | undefined;

  constructor(deps: DeskCallsDeps) {
    this.#deps = deps;
  }

  get ringing(): RingingCall[] {
    return [...this.#rings].map(([callId, ring]) => ({
      callId,
      context: ring.context,
      page: ring.page,
      phone: this.#deps.phone.callState(callId),
    }));
  }

  get active(): ActiveCall | undefined {
    const call = this.#call;
    if (!call) return undefined;
    return {
      callId: call.callId,
      context: call.context,
      answeredAt: call.answeredAt,
      here: this.#deps.phone.callState(call.callId) === 'connected',
      ending: call.ending,
      chat: call.chat.entries,
      page: call.chat.page,
    };
  }

  /** Some call rings for the agent. */
  get anyRinging(): boolean {
    return this.#rings.size > 0;
  }

  /** The call in progress, if any. */
  get callId(): string | undefined {
    return this.#call?.callId;
  }

  /** Forgets every call (signed out). */
  clear(): void {
    this.#rings.clear();
    this.#call = undefined;
    this.remoteStream = undefined;
    this.lastEnded = undefined;
    this.announcement = '';
  }

  /** A frame of the events socket (those about calls; others are not this feed's). */
  frame(event: DeskEvent): void {
    switch (event.type) {
      case 'ring':
        return this.ring(event.call);
      case 'ring-stopped':
        return this.ringStopped(event.callId);
      case 'answered':
        return this.answered(event.call.callId, event.call);
      case 'message':
        return this.message(event.callId, event.stored);
      case 'ended':
        return this.ended(event.callId, event.outcome, event.reason);
      case 'notice': {
        // The gateway did not relay the agent's message.
        const message = `Message not sent: ${event.reason}.`;
        this.notice(message);
        this.#deps.fire<DeskErrorDetail>('parley-desk-error', {
          code: 'message_rejected',
          message,
        });
      }
    }
  }

  ring(context: CallContext): void {
    if (this.#call?.callId === context.callId) return; // already answered (a replay after reconnect)
    const known = this.#rings.get(context.callId);
    this.#rings.set(context.callId, { context, page: known?.page, fromEvent: true });
    if (known?.context) return;
    this.lastEnded = undefined;
    this.announcement = ringAnnouncement(context);
    this.#fire({ phase: 'ringing', callId: context.callId, call: context });
    void this.#loadPage(context.callId);
  }

  /** The call stopped ringing for this agent (taken elsewhere, declined here, given up). */
  ringStopped(callId: string): void {
    if (this.#rings.delete(callId)) this.#fire({ phase: 'ring-stopped', callId });
  }

  answered(callId: string, context: CallContext | undefined): void {
    const ring = this.#rings.get(callId);
    this.#rings.delete(callId);
    let call = this.#call;
    if (call?.callId !== callId) {
      call = {
        callId,
        context: context ?? ring?.context,
        answeredAt: this.#deps.now(),
        chat: new CallChat(),
        announced: false,
        ending: false,
      };
      this.#call = call;
      this.remoteStream = this.#deps.phone.remoteStream(callId);
      this.lastEnded = undefined;
      this.announcement = 'Call connected.';
    }
    call.context ??= context;
    if (call.context && !call.announced) {
      call.announced = true;
      const here = this.#deps.phone.callState(callId) === 'connected';
      this.#fire({ phase: 'answered', callId, call: call.context, here });
    }
  }

  message(callId: string, stored: StoredMessage): void {
    const call = this.#call;
    if (call?.callId === callId) {
      if (!call.chat.add(stored)) return;
    } else {
      const ring = this.#rings.get(callId);
      if (!ring) return;
      if (stored.from === 'visitor' && stored.message.type === 'navigation')
        ring.page = stored.message;
    }
    this.#deps.fire<DeskMessageDetail>('parley-desk-message', { callId, stored });
  }

  /** A line of the desk's own in the call's chat; false without a call in progress. */
  notice(text: string): boolean {
    if (!this.#call) return false;
    this.#call.chat.notice(text);
    this.#deps.changed();
    return true;
  }

  /** The softphone's audio of a call arrived. */
  media(callId: string, stream: MediaStream): void {
    if (this.#call?.callId !== callId) return;
    this.remoteStream = stream;
    this.#deps.changed();
  }

  ended(callId: string, outcome: string | null, reason: string | null): void {
    const ring = this.#rings.get(callId);
    this.#rings.delete(callId);
    const call = this.#call;
    if (call?.callId === callId) {
      this.lastEnded = {
        callId,
        context: call.context,
        outcome,
        reason,
        talkMs: Math.max(0, this.#deps.now() - call.answeredAt),
      };
      this.#call = undefined;
      this.remoteStream = undefined;
      this.announcement = 'Call ended.';
    } else if (this.lastEnded?.callId === callId) {
      // Ended on the phone first; now the gateway says how.
      this.lastEnded = { ...this.lastEnded, outcome, reason };
    } else if (!ring) {
      return;
    }
    this.#fire({ phase: 'ended', callId, outcome, reason });
    this.#deps.ended();
  }

  /** A change of one of the softphone's sessions. */
  phoneCall(change: PhoneCallChange): void {
    const { callId, state } = change;
    if (state === 'ringing' && !this.#rings.has(callId) && this.#call?.callId !== callId) {
      // The INVITE came before the ring event (two sockets, no order between them).
      this.#rings.set(callId, { context: undefined, page: undefined, fromEvent: false });
      this.lastEnded = undefined;
      this.announcement = 'Incoming call.';
      void this.#loadPage(callId);
    } else if (state === 'connected') {
      this.answered(callId, undefined);
      this.remoteStream = this.#deps.phone.remoteStream(callId) ?? this.remoteStream;
    } else if (state === 'ended') {
      const ring = this.#rings.get(callId);
      if (ring && !ring.fromEvent) this.#rings.delete(callId);
      const call = this.#call;
      if (call?.callId === callId) {
        call.ending = true;
        // Without the events socket no `ended` will come: end it here.
        if (!this.#deps.connected()) this.ended(callId, null, null);
      }
    }
  }

  /**
   * After a reconnect the gateway sends the agent's presence, the calls
   * ringing for it and its call in progress again: forget rings it does not
   * repeat, and ask whether the call in progress ended meanwhile.
   */
  async resync(): Promise<void> {
    for (const [callId, ring] of this.#rings) {
      if (ring.fromEvent && this.#deps.phone.callState(callId) === undefined)
        this.#rings.delete(callId);
    }
    const call = this.#call;
    if (!call) return;
    try {
      const detail = await this.#deps.client.callDetail(call.callId);
      if (detail.endedAt !== null && this.#call === call)
        this.ended(call.callId, detail.outcome, detail.reason);
      else for (const stored of detail.messages) call.chat.add(stored);
    } catch {
      // the next event will tell
    }
    this.#deps.changed();
  }

  /** The visitor's latest page, from the messages stored so far (best effort). */
  async #loadPage(callId: string): Promise<void> {
    try {
      const detail = await this.#deps.client.callDetail(callId);
      const ring = this.#rings.get(callId);
      if (ring) {
        ring.page = latestPage(detail.messages) ?? ring.page;
        if (!ring.context && detail.context) {
          ring.context = detail.context;
          this.announcement = ringAnnouncement(detail.context);
        }
      } else if (this.#call?.callId === callId) {
        for (const stored of detail.messages) this.#call.chat.add(stored);
        this.#call.context ??= detail.context ?? undefined;
      }
      this.#deps.changed();
    } catch {
      // the ring panel shows what the ring event had
    }
  }

  #fire(detail: DeskCallDetail): void {
    this.#deps.fire('parley-desk-call', detail);
  }
}
