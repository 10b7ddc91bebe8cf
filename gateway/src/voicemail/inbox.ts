/**
 * What the API and the desk do to stored voicemails (issue 11, item 4): mark
 * one heard, delete one (its WAV, then its row, as retention does:
 * `removeVoicemail`), and show what the caller typed with it. Both routers
 * (`http.ts`, `desk-routes.ts`) check who may see the voicemail first; this
 * checks its state, and tells every desk of its box what changed
 * (`voicemail-heard`, `voicemail-deleted`: on every gateway, through the
 * desk relay), so an inbox open elsewhere follows without a reload.
 */
import { ParleyError } from '@parley/shared/errors';
import type { VoicemailInboxEvent, VoicemailTyped, VoicemailView } from '@parley/shared/protocol';
import type { Logger } from '../observability/index.js';
import type { MessageStore } from '../storage/index.js';
import { removeVoicemail } from './retention.js';
import type { VoicemailRecord, VoicemailStore } from './store.js';
import { voicemailView } from './view.js';

/** Whose box a voicemail is in: the queue's agents, or the one agent. */
export type VoicemailBoxOf = Pick<VoicemailRecord, 'queue' | 'agent'>;

export interface VoicemailInboxDeps {
  readonly store: VoicemailStore;
  /** The calls' data-channel messages (what a browser caller typed). */
  readonly messages: Pick<MessageStore, 'list'>;
  /** Sends a frame to every desk of the box (wire.ts: the desk hub, which relays it to the other gateways). */
  readonly notify?: (box: VoicemailBoxOf, event: VoicemailInboxEvent) => void;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** How a delete went: done here, or asked of the gateway that holds the WAV. */
export type DeleteResult = 'deleted' | 'requested';

export class VoicemailInbox {
  readonly #deps: VoicemailInboxDeps;
  readonly #log: Logger;
  readonly #now: () => number;

  constructor(deps: VoicemailInboxDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ module: 'voicemail-inbox' });
    this.#now = deps.now ?? Date.now;
  }

  /**
   * Marks `record` heard by `by` (an agent's id, or null): the first mark is
   * kept. `conflict` while it is still being recorded, `not_found` once gone.
   */
  async markHeard(record: VoicemailRecord, by: string | null): Promise<VoicemailRecord> {
    if (record.status === 'recording') throw stillRecording();
    const result = await this.#deps.store.markHeard(record.id, this.#now(), by);
    if (result === 'recording') throw stillRecording();
    const marked = result === 'marked' ? await this.#deps.store.get(record.id) : undefined;
    if (!marked) throw gone();
    if (marked.heardAt !== null && record.heardAt === null)
      this.#deps.notify?.(marked, {
        type: 'voicemail-heard',
        voicemailId: marked.id,
        heardAt: new Date(marked.heardAt).toISOString(),
        heardBy: marked.heardBy,
      });
    return marked;
  }

  /**
   * Deletes `record`: the WAV first, then the row (its transcript with it),
   * so a failure between the two leaves a row without a file (retention's
   * order), never a file no row names. A WAV on another gateway (a shared
   * index): the row is marked, hidden at once, and that gateway deletes file
   * and row at its next sweep (`requested`); a retired one's is deleted by
   * another's sweep, which leaves a tombstone for the file (`tombstones.ts`). `conflict` while it is still
   * being recorded (the recorder is writing that file), `not_found` once gone.
   */
  async delete(record: VoicemailRecord): Promise<DeleteResult> {
    if (record.status === 'recording') throw stillRecording();
    const { store } = this.#deps;
    let result: DeleteResult;
    if (record.gateway !== store.gateway) {
      if (!(await store.requestDelete(record.id, this.#now()))) throw gone();
      result = 'requested';
    } else {
      let removed: boolean;
      try {
        removed = await removeVoicemail(store, record);
      } catch (error) {
        this.#log.error({ err: error, voicemailId: record.id }, 'voicemail not deleted');
        throw new ParleyError('internal', 'the recording could not be deleted', { cause: error });
      }
      if (!removed) throw gone();
      result = 'deleted';
    }
    this.#log.info(
      { voicemailId: record.id, tenant: record.tenant, gateway: record.gateway, result },
      'voicemail deleted',
    );
    this.#deps.notify?.(record, { type: 'voicemail-deleted', voicemailId: record.id });
    return result;
  }

  /** Views with what each caller typed during its call (`typed`), in the list's order. */
  async withTyped(views: readonly VoicemailView[]): Promise<VoicemailView[]> {
    return Promise.all(views.map(async (view) => ({ ...view, typed: await this.typed(view) })));
  }

  /** The `chat` lines the visitor sent on the voicemail's call. */
  async typed(view: Pick<VoicemailView, 'id' | 'callId'>): Promise<VoicemailTyped[]> {
    try {
      const messages = await this.#deps.messages.list(view.callId);
      return messages.flatMap((m) =>
        m.from === 'visitor' && m.message.type === 'chat'
          ? [{ at: m.receivedAt, text: m.message.text }]
          : [],
      );
    } catch (error) {
      // The voicemail is still shown; only its typed lines are missing, and the log says why.
      this.#log.error({ err: error, voicemailId: view.id }, 'typed lines not read');
      return [];
    }
  }

  /** One voicemail as the API shows it, with its typed lines. */
  async view(record: VoicemailRecord, privateClaims: boolean): Promise<VoicemailView> {
    const view = voicemailView(record, privateClaims);
    return { ...view, typed: await this.typed(view) };
  }
}

const stillRecording = () =>
  new ParleyError('conflict', 'this voicemail is still being recorded', { expose: true });

/** Deleted meanwhile (by another request, a desk, retention). */
const gone = () => new ParleyError('not_found', 'no such voicemail');

/**
 * A voicemail's recording asked of a gateway that does not hold it (the
 * index is shared, the WAV stays where it was recorded): `elsewhere` (421),
 * naming the gateway.
 */
export function recordingElsewhere(record: Pick<VoicemailRecord, 'gateway'>): ParleyError {
  return new ParleyError(
    'elsewhere',
    `this voicemail's recording is on gateway ${record.gateway}: ask that gateway`,
    { expose: true },
  );
}
