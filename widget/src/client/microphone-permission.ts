/**
 * The page's microphone permission, read ahead and watched (issue 15 item 4:
 * warm what can be warmed before the click). When a call looks likely (hover,
 * focus) the widget asks the Permissions API what a getUserMedia would meet,
 * which shows no prompt:
 * - `denied`: the click could only fail with `microphone_denied`. The widget
 *   says so before the click, the warm-up opens nothing (no token, no
 *   WebSocket), and a click fails at once with the same code and events as a
 *   refused getUserMedia.
 * - `granted`: no prompt will come; kept and reported, nothing visible changes
 *   (the warm-up and the click go as for `prompt`).
 * - `prompt`: as without this module.
 * The state is watched (`change`): the visitor allowing the microphone in the
 * site settings clears the blocked state without a reload.
 *
 * Not every browser answers for `microphone` (older Firefox rejects the query
 * with a TypeError; some pages have no `navigator.permissions`): then the state
 * stays unknown and the widget does what it did before, getUserMedia decides.
 */

export type MicrophoneState = 'granted' | 'denied' | 'prompt';

/** What the watch uses of a PermissionStatus (an EventTarget firing `change`). */
export interface PermissionStatusLike extends EventTarget {
  readonly state: string;
}

/** `navigator.permissions.query({ name: 'microphone' })`; may throw or reject where unsupported. */
export type QueryMicrophone = () => Promise<PermissionStatusLike>;

export class MicrophonePermission {
  readonly #query: QueryMicrophone | undefined;
  readonly #onChange: (state: MicrophoneState) => void;
  #watching: Promise<MicrophoneState | undefined> | undefined;
  #status: PermissionStatusLike | undefined;
  #state: MicrophoneState | undefined;
  #closed = false;

  /** `onChange` runs with the first state read and with every change after it. */
  constructor(query: QueryMicrophone | undefined, onChange: (state: MicrophoneState) => void) {
    this.#query = query;
    this.#onChange = onChange;
  }

  /** The last state read; undefined until read, or where it cannot be. */
  get state(): MicrophoneState | undefined {
    return this.#state;
  }

  /**
   * Reads the state and watches it from then on (once: later calls get the
   * same answer). Resolves with the state, or undefined where the browser
   * cannot tell; never rejects.
   */
  watch(): Promise<MicrophoneState | undefined> {
    this.#watching ??= this.#start();
    return this.#watching;
  }

  /** Stops watching. */
  close(): void {
    this.#closed = true;
    this.#status?.removeEventListener('change', this.#changed);
    this.#status = undefined;
  }

  async #start(): Promise<MicrophoneState | undefined> {
    let status: PermissionStatusLike | undefined;
    try {
      status = await this.#query?.();
    } catch {
      return undefined; // not supported here: getUserMedia decides, as before
    }
    if (!status || this.#closed) return undefined;
    // Kept: a PermissionStatus nobody references may be collected with its listener.
    this.#status = status;
    status.addEventListener('change', this.#changed);
    this.#changed();
    return this.#state;
  }

  readonly #changed = (): void => {
    const state = this.#status?.state;
    if (state !== 'granted' && state !== 'denied' && state !== 'prompt') return;
    if (state === this.#state) return;
    this.#state = state;
    this.#onChange(state);
  };
}
