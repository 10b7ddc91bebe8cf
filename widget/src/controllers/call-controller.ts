/**
 * The element's call behaviour as a Lit ReactiveController: loads the call
 * stack on demand, drives its CallClient, keeps what the element renders
 * (state, timer, chat) and fires the element's DOM events. Loaded with the
 * button, so it imports only types from the call stack.
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { WIDGET_CODES } from '@parley/shared/errors/widget';
import type { ParleyMessage, QueueStatus } from '@parley/shared/protocol';
import type {
  CallClientApi,
  CallClientOptions,
  CallStack,
  CallStateChange,
  DtmfDigit,
} from '../api/call-stack.js';
import { isActive, isAnswered, type CallState } from '../api/call-state.js';
import type {
  ParleyErrorDetail,
  ParleyHoldDetail,
  ParleyMessageDetail,
  ParleyQueueDetail,
  ParleyStateDetail,
} from '../api/events.js';
import { MessageRejectedError } from '../api/message-rejected-error.js';

export interface ChatEntry {
  readonly id: string;
  readonly from: 'visitor' | 'agent' | 'notice';
  readonly text: string;
}

export interface CallControllerOptions {
  /** Loads the call stack (a dynamic import); called at most once successfully. */
  load(): Promise<CallStack>;
  /** The element's current attributes, read when a call starts. */
  options(): CallClientOptions;
}

/** Entries kept in the chat panel. */
const CHAT_HISTORY = 200;

export class CallController implements ReactiveController {
  state: CallState = 'idle';
  error: ParleyErrorDetail | undefined;
  muted = false;
  /** The agent has the call on hold (the gateway said so on the data channel). */
  held = false;
  /** The visitor's place in a queue while waiting for an agent (the gateway says so on the data channel). */
  queue: QueueStatus | undefined;
  /** No agent took the call and the gateway's voicemail is recording the visitor. */
  voicemail = false;
  channelOpen = false;
  /** The microphone permission, once the call stack read it (a hover): `denied` shows before a click. */
  microphone: PermissionState | undefined;
  remoteStream: MediaStream | undefined;
  chat: readonly ChatEntry[] = [];

  readonly #host: ReactiveControllerHost & HTMLElement;
  readonly #options: CallControllerOptions;
  #stack: Promise<CallStack> | undefined;
  #client: CallClientApi | undefined;
  #clientKey = '';
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Bumped by every call() and hangup(), so a slow load cannot start a call nobody wants any more. */
  #generation = 0;

  constructor(host: ReactiveControllerHost & HTMLElement, options: CallControllerOptions) {
    this.#host = host;
    this.#options = options;
    host.addController(this);
  }

  hostConnected(): void {
    this.#syncTimer();
  }

  hostDisconnected(): void {
    this.#syncTimer(true);
    // Moving the element in the DOM disconnects and reconnects it at once:
    // hang up only if it stays out of the page. Its client goes too: the
    // PermissionStatus it watches (the browser keeps one with a listener) would
    // keep it, and through its listeners this element, alive in a single-page
    // app, and a WebSocket it opened ahead would stay open. Back in the page, a
    // hover makes a new one, which reads the permission again.
    queueMicrotask(() => {
      if (this.#host.isConnected) return;
      void this.hangup();
      this.#client?.dispose();
      this.#client = this.microphone = undefined;
      this.#host.requestUpdate(); // put back, it does not show an old block
    });
  }

  /** Milliseconds since the call was answered. */
  get elapsed(): number {
    const at = this.#client?.connectedAt;
    return at === undefined || !isAnswered(this.state) ? 0 : performance.now() - at;
  }

  /**
   * Starts loading the call stack (on hover or focus) and fetching a token, so
   * the click finds them ready; `code` (the button came into view): the stack's
   * code alone, no client, so no token, WebSocket or permission read.
   */
  prefetch(code?: boolean): void {
    this.#load().then(
      (stack) => {
        if (!code && !isActive(this.state)) this.#clientFor(stack).prefetch?.();
      },
      () => undefined,
    );
  }

  async call(): Promise<void> {
    if (isActive(this.state)) return;
    const generation = ++this.#generation;
    // At once, before the stack is loaded: the click is answered immediately.
    this.#apply({ state: 'permission' });
    let stack: CallStack;
    try {
      stack = await this.#load();
    } catch (error) {
      if (generation !== this.#generation) return;
      this.#apply({
        state: 'error',
        code: 'call_failed',
        message: `${WIDGET_CODES.call_failed.message} (call stack did not load: ${String(error)})`,
        human: WIDGET_CODES.call_failed.human,
      });
      return;
    }
    if (generation !== this.#generation) return;
    await this.#clientFor(stack).call();
  }

  async hangup(): Promise<void> {
    this.#generation++;
    const client = this.#client;
    if (client && isActive(client.state)) {
      await client.hangup();
    } else if (isActive(this.state)) {
      this.#apply({ state: 'ended' }); // still loading: nothing was sent yet
    }
  }

  async send(message: string | ParleyMessage): Promise<ParleyMessage> {
    const client = this.#client;
    if (!client) throw MessageRejectedError.notInCall();
    const sent = await client.send(message);
    if (sent.type === 'chat') this.#addChat({ id: sent.id, from: 'visitor', text: sent.text });
    return sent;
  }

  sendDtmf(digit: DtmfDigit): void {
    this.#client?.sendDtmf(digit).catch(() => undefined);
  }

  toggleMute(): void {
    const client = this.#client;
    if (!client) return;
    client.setMuted(!client.muted);
    this.muted = client.muted;
    this.#host.requestUpdate();
  }

  #load(): Promise<CallStack> {
    this.#stack ??= this.#options.load().catch((error: unknown) => {
      this.#stack = undefined; // a later click tries again
      throw error;
    });
    return this.#stack;
  }

  /** The client for the current attributes (a new one when they changed). */
  #clientFor(stack: CallStack): CallClientApi {
    const options = this.#options.options();
    const key = JSON.stringify(options);
    if (this.#client && key === this.#clientKey) return this.#client;
    this.#client?.dispose(); // it drops our listeners
    const client = stack.createCallClient(options);
    this.#client = client;
    this.#clientKey = key;
    client.on('state', (change) => this.#apply(change));
    client.on('message', (message) => this.#onMessage(message));
    client.on('notice', (notice) => {
      if (notice.code === 'voicemail') {
        // Like a place in the queue, it may come before the 200 of a call answered early.
        this.voicemail = (this.state === 'in-call' || this.state === 'ringing') && notice.recording;
        this.#host.requestUpdate();
        return;
      }
      if (notice.code === 'hold') {
        this.#onHold(notice.held);
        return;
      }
      if (notice.code === 'message_rejected') {
        this.#addChat({
          id: `notice-${notice.ref ?? Date.now()}`,
          from: 'notice',
          text: WIDGET_CODES.message_rejected.human,
        });
      }
    });
    client.on('queue', (status) => this.#onQueue(status));
    client.on('media', (stream) => {
      this.remoteStream = stream;
      this.#host.requestUpdate();
    });
    client.on('channel', (open) => {
      this.channelOpen = open;
      this.#host.requestUpdate();
    });
    client.on('permission', (state) => {
      this.microphone = state;
      this.#host.requestUpdate();
    });
    return client;
  }

  #apply(change: CallStateChange): void {
    if (change.state === this.state) return;
    this.state = change.state;
    if (change.state === 'permission') {
      this.error = undefined;
      this.muted = false;
      this.chat = [];
      this.remoteStream = undefined;
      this.channelOpen = false;
    }
    if (change.state === 'ended' || change.state === 'error') {
      this.remoteStream = undefined;
      this.channelOpen = false;
    }
    if (change.state !== 'in-call') {
      this.held = false;
      this.queue = undefined;
      this.voicemail = false;
    }
    const code = change.code ?? 'call_failed';
    if (change.state === 'error') {
      this.error = {
        code,
        message: change.message ?? code,
        // The call stack gives every error its text (humanMessage of the whole
        // registry, a lazy chunk): this first-load module knows the widget's own.
        human: change.human ?? WIDGET_CODES.call_failed.human,
        ...(change.retryAfterSeconds === undefined
          ? {}
          : { retryAfterSeconds: change.retryAfterSeconds }),
      };
    }
    this.#syncTimer();
    this.#host.requestUpdate();
    const detail: ParleyStateDetail =
      change.state === 'error' ? { state: change.state, code } : { state: change.state };
    this.#fire('parley-state', detail);
    if (change.state === 'error' && this.error) this.#fire('parley-error', this.error);
  }

  #onHold(held: boolean): void {
    if (held === this.held || this.state !== 'in-call') return;
    this.held = held;
    this.#addChat({
      id: `hold-${Date.now()}`,
      from: 'notice',
      text: held ? 'The agent put you on hold.' : 'The agent is back.',
    });
    this.#host.requestUpdate();
    this.#fire('parley-hold', { held } satisfies ParleyHoldDetail);
  }

  #onQueue(status: QueueStatus): void {
    // Answered early (a 180 with SDP: media.earlyAnswer), the data channel is open while
    // the call still rings, and the place in the queue can come before the 200: kept, it
    // shows once the call is in-call (dropped, the page said "Connected" for the whole wait).
    if (this.state !== 'in-call' && this.state !== 'ringing') return;
    this.queue = status.state === 'left' ? undefined : status;
    this.#host.requestUpdate();
    const detail: ParleyQueueDetail = {
      state: status.state,
      queue: status.queue,
      ...(status.position === undefined ? {} : { position: status.position }),
      ...(status.estimatedWaitSeconds === undefined
        ? {}
        : { estimatedWaitSeconds: status.estimatedWaitSeconds }),
      ...(status.reason === undefined ? {} : { reason: status.reason }),
    };
    this.#fire('parley-queue', detail);
  }

  #onMessage(message: ParleyMessage): void {
    if (message.type === 'chat')
      this.#addChat({ id: message.id, from: 'agent', text: message.text });
    this.#fire('parley-message', { message } satisfies ParleyMessageDetail);
  }

  #addChat(entry: ChatEntry): void {
    this.chat = [...this.chat, entry].slice(-CHAT_HISTORY);
    this.#host.requestUpdate();
  }

  #fire<T>(type: string, detail: T): void {
    this.#host.dispatchEvent(new CustomEvent<T>(type, { detail, bubbles: true, composed: true }));
  }

  /** A once-a-second re-render while in a call, for the timer. */
  #syncTimer(stop = false): void {
    const run = !stop && isAnswered(this.state);
    if (run && this.#timer === undefined) {
      this.#timer = setInterval(() => this.#host.requestUpdate(), 1000);
    } else if (!run && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
