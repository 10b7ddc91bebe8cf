/**
 * What the agent does with a call on the desk: answer or decline it on this
 * browser's softphone, hang up, mute, hold (the visitor's widget is told why
 * it hears silence), and chat with the visitor over the events socket.
 */
import type { DeskCalls } from './desk-calls.js';
import type { DeskClient } from './desk-client.js';
import type { DeskErrorDetail } from './desk-events.js';
import type { DeskSession } from './desk-session.js';
import type { Softphone } from './softphone.js';
import { SoftphoneError } from './softphone-error.js';

export interface DeskCallActionsDeps {
  readonly client: DeskClient;
  readonly phone: Softphone;
  readonly calls: DeskCalls;
  readonly session: DeskSession;
  readonly fire: <T>(type: string, detail: T) => void;
  /** A problem to show (and fire as `parley-desk-error`); undefined: clear the one shown. */
  readonly report: (error: DeskErrorDetail | undefined) => void;
  /** Rings changed: the ring tone follows. */
  readonly rang: () => void;
  readonly changed: () => void;
}

/** The longest chat message the gateway relays. */
const MAX_CHAT = 2000;

export class DeskCallActions {
  readonly #deps: DeskCallActionsDeps;

  constructor(deps: DeskCallActionsDeps) {
    this.#deps = deps;
  }

  async answer(callId: string): Promise<void> {
    this.#deps.report(undefined);
    try {
      await this.#deps.phone.answer(callId);
    } catch (error) {
      const denied = error instanceof SoftphoneError && error.reason === 'microphone_denied';
      this.#deps.session.microphoneBlocked ||= denied;
      this.#deps.report({
        code: denied ? 'microphone_denied' : 'answer_failed',
        message: denied
          ? 'The browser blocked the microphone. Allow it for this page and answer again.'
          : `The call could not be answered${error instanceof Error ? `: ${error.message}` : ''}.`,
      });
    }
    this.#deps.changed();
  }

  async decline(callId: string): Promise<void> {
    try {
      await this.#deps.phone.decline(callId);
    } catch {
      // no longer ringing here
    }
    this.#deps.calls.ringStopped(callId);
    this.#deps.rang();
    this.#deps.changed();
  }

  async hangup(): Promise<void> {
    const callId = this.#deps.calls.callId;
    if (callId !== undefined) await this.#deps.phone.hangup(callId);
  }

  toggleMute(): void {
    this.#deps.phone.setMuted(!this.#deps.phone.muted);
    this.#deps.changed();
  }

  toggleHold(): void {
    const held = !this.#deps.phone.held;
    this.#deps.phone.setHeld(held);
    // The visitor hears silence on hold: the gateway tells their widget why.
    const callId = this.#deps.calls.callId;
    if (callId !== undefined) this.#deps.client.send({ type: 'hold', callId, held });
    this.#deps.changed();
  }

  /** Sends a chat message to the visitor; false when it could not go (the chat says why). */
  sendChat(text: string): boolean {
    const { calls, client } = this.#deps;
    const callId = calls.callId;
    const trimmed = text.trim();
    if (callId === undefined || !trimmed) return false;
    if (trimmed.length > MAX_CHAT) {
      calls.notice(`Message not sent: it is longer than ${MAX_CHAT} characters.`);
      return false;
    }
    if (!client.send({ type: 'chat', callId, text: trimmed })) {
      calls.notice('Message not sent: not connected to the gateway.');
      this.#deps.fire<DeskErrorDetail>('parley-desk-error', {
        code: 'not_connected',
        message: 'not connected to the gateway',
      });
      return false;
    }
    return true; // it shows when the gateway relays it back, in its place
  }
}
