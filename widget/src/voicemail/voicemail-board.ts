/**
 * What the voicemail page shows, without a DOM: the voicemails (newest
 * first) and, for each being recorded, its live text (the finals so far and
 * the current partial, which replaces the previous one). Fed by the list the
 * desk API returns and by the `voicemail-*` frames of the desk's events socket
 * (a message marked heard or deleted on another desk, or through the API,
 * comes as `voicemail-heard` / `voicemail-deleted`).
 */
import type { VoicemailEvent, VoicemailInboxEvent, VoicemailView } from '@parley/shared/protocol';

/** The frames the board follows. */
export type VoicemailBoardEvent = VoicemailEvent | VoicemailInboxEvent;

export interface VoicemailItem {
  readonly voicemail: VoicemailView;
  /** Final utterances, in order (from the record, then from the frames). */
  readonly finals: readonly string[];
  /** The recogniser's guess for the utterance being spoken ('' when none). */
  readonly partial: string;
}

export class VoicemailBoard {
  readonly #items = new Map<string, VoicemailItem>();

  /** Newest first. */
  get items(): VoicemailItem[] {
    return [...this.#items.values()].sort((a, b) =>
      b.voicemail.createdAt.localeCompare(a.voicemail.createdAt),
    );
  }

  get(id: string): VoicemailItem | undefined {
    return this.#items.get(id);
  }

  /** The list from the API (or one answer): replaces what is known, except text that came live since. */
  load(list: readonly VoicemailView[]): void {
    for (const voicemail of list) {
      const known = this.#items.get(voicemail.id);
      const finals = voicemail.utterances.map((u) => u.text);
      // A view without typed lines (the take's or "mark heard"'s answer) keeps those known.
      const typed = voicemail.typed ?? known?.voicemail.typed;
      this.#items.set(voicemail.id, {
        voicemail: typed ? { ...voicemail, typed } : voicemail,
        finals: known && known.finals.length > finals.length ? known.finals : finals,
        partial: known?.partial ?? '',
      });
    }
  }

  /** A voicemail deleted: no longer shown. */
  remove(id: string): void {
    this.#items.delete(id);
  }

  /** One frame of the live stream; true when something changed. */
  apply(event: VoicemailBoardEvent): boolean {
    switch (event.type) {
      case 'voicemail-deleted':
        return this.#items.delete(event.voicemailId);
      case 'voicemail-heard': {
        const known = this.#items.get(event.voicemailId);
        if (!known || known.voicemail.heardAt !== null) return false;
        const { heardAt, heardBy } = event;
        this.#items.set(event.voicemailId, {
          ...known,
          voicemail: { ...known.voicemail, heardAt, heardBy },
        });
        return true;
      }
      case 'voicemail-started':
      case 'voicemail-ended': {
        const known = this.#items.get(event.voicemail.id);
        const finals = event.voicemail.utterances.map((u) => u.text);
        // Frames carry no typed lines (the list does): keep what the list gave.
        const typed = event.voicemail.typed ?? known?.voicemail.typed;
        this.#items.set(event.voicemail.id, {
          voicemail: typed ? { ...event.voicemail, typed } : event.voicemail,
          finals: known && known.finals.length > finals.length ? known.finals : finals,
          partial: event.type === 'voicemail-ended' ? '' : (known?.partial ?? ''),
        });
        return true;
      }
      case 'voicemail-partial': {
        const known = this.#items.get(event.voicemailId);
        if (!known) return false;
        this.#items.set(event.voicemailId, { ...known, partial: event.text });
        return true;
      }
      case 'voicemail-typed': {
        const known = this.#items.get(event.voicemailId);
        if (!known) return false;
        const typed = [...(known.voicemail.typed ?? []), event.typed];
        this.#items.set(event.voicemailId, { ...known, voicemail: { ...known.voicemail, typed } });
        return true;
      }
      case 'voicemail-final': {
        const known = this.#items.get(event.voicemailId);
        if (!known) return false;
        this.#items.set(event.voicemailId, {
          ...known,
          finals: [...known.finals, event.utterance.text],
          partial: '',
        });
        return true;
      }
    }
  }
}

/** A `voicemail-*` frame of the desk's events socket, or undefined for any other frame. */
export function parseVoicemailEvent(data: unknown): VoicemailBoardEvent | undefined {
  if (typeof data !== 'string') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const frame = value as Record<string, unknown>;
  const view = frame['voicemail'] as Record<string, unknown> | undefined;
  const isView =
    typeof view === 'object' &&
    view !== null &&
    typeof view['id'] === 'string' &&
    typeof view['createdAt'] === 'string' &&
    Array.isArray(view['utterances']);
  switch (frame['type']) {
    case 'voicemail-started':
    case 'voicemail-ended':
      return isView ? (frame as unknown as VoicemailEvent) : undefined;
    case 'voicemail-deleted':
      return typeof frame['voicemailId'] === 'string'
        ? (frame as unknown as VoicemailInboxEvent)
        : undefined;
    case 'voicemail-heard':
      return typeof frame['voicemailId'] === 'string' &&
        typeof frame['heardAt'] === 'string' &&
        (frame['heardBy'] === null || typeof frame['heardBy'] === 'string')
        ? (frame as unknown as VoicemailInboxEvent)
        : undefined;
    case 'voicemail-partial':
      return typeof frame['voicemailId'] === 'string' && typeof frame['text'] === 'string'
        ? (frame as unknown as VoicemailEvent)
        : undefined;
    case 'voicemail-typed': {
      const t = frame['typed'] as Record<string, unknown> | undefined;
      return typeof frame['voicemailId'] === 'string' &&
        typeof t === 'object' &&
        t !== null &&
        typeof t['text'] === 'string' &&
        typeof t['at'] === 'string'
        ? (frame as unknown as VoicemailEvent)
        : undefined;
    }
    case 'voicemail-final': {
      const u = frame['utterance'] as Record<string, unknown> | undefined;
      return typeof frame['voicemailId'] === 'string' &&
        typeof u === 'object' &&
        u !== null &&
        typeof u['text'] === 'string'
        ? (frame as unknown as VoicemailEvent)
        : undefined;
    }
    default:
      return undefined;
  }
}
