/**
 * The live stream of voicemails being recorded: each subscriber of a
 * voicemail gets its `voicemail-started` frame, the finals so far and the
 * current partial and the lines typed so far on subscribing (so a late desk or API client catches up),
 * then every frame as it comes, until `voicemail-ended`.
 */
import type { VoicemailEvent, VoicemailTyped, VoicemailUtterance } from '@parley/shared/protocol';

export type LiveListener = (event: VoicemailEvent) => void;

interface Live {
  started: VoicemailEvent & { type: 'voicemail-started' };
  finals: VoicemailUtterance[];
  partial: { utterance: number; text: string } | undefined;
  typed: VoicemailTyped[];
  listeners: Set<LiveListener>;
}

export class VoicemailLive {
  readonly #live = new Map<string, Live>();
  readonly #everyone = new Set<LiveListener>();

  /** Voicemails being recorded now. */
  get ids(): string[] {
    return [...this.#live.keys()];
  }

  /** Every frame of every voicemail (the desk's fan-out). */
  onEvent(listener: LiveListener): () => void {
    this.#everyone.add(listener);
    return () => this.#everyone.delete(listener);
  }

  /** Subscribes to one voicemail being recorded; undefined when it is not live. */
  subscribe(id: string, listener: LiveListener): (() => void) | undefined {
    const live = this.#live.get(id);
    if (!live) return undefined;
    listener(live.started);
    for (const utterance of live.finals)
      listener({ type: 'voicemail-final', voicemailId: id, utterance });
    if (live.partial) listener({ type: 'voicemail-partial', voicemailId: id, ...live.partial });
    for (const typed of live.typed) listener({ type: 'voicemail-typed', voicemailId: id, typed });
    live.listeners.add(listener);
    return () => live.listeners.delete(listener);
  }

  publish(event: VoicemailEvent): void {
    const id =
      event.type === 'voicemail-started' || event.type === 'voicemail-ended'
        ? event.voicemail.id
        : event.voicemailId;
    if (event.type === 'voicemail-started')
      this.#live.set(id, {
        started: event,
        finals: [],
        partial: undefined,
        typed: [],
        listeners: new Set(),
      });
    const live = this.#live.get(id);
    if (event.type === 'voicemail-partial' && live)
      live.partial = { utterance: event.utterance, text: event.text };
    if (event.type === 'voicemail-final' && live) {
      live.finals.push(event.utterance);
      if (live.partial?.utterance === event.utterance.utterance) live.partial = undefined;
    }
    if (event.type === 'voicemail-typed' && live) live.typed.push(event.typed);
    for (const listener of [...(live?.listeners ?? []), ...this.#everyone]) listener(event);
    if (event.type === 'voicemail-ended') this.#live.delete(id);
  }
}
