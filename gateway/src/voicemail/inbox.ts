/**
 * What the API and the desk do to stored voicemails (issue 11, item 4): mark
 * one heard, delete one (its WAV, then its row, as retention does), and show
 * what the caller typed with it. Both routers (`http.ts`, `desk-routes.ts`)
 * check who may see the voicemail first; this checks its state.
 */
import { rm } from 'node:fs/promises';
import { ParleyError } from '@parley/shared/errors';
import type { VoicemailTyped, VoicemailView } from '@parley/shared/protocol';
import type { Logger } from '../observability/index.js';
import type { MessageStore } from '../storage/index.js';
import type { VoicemailRecord, VoicemailStore } from './store.js';
import { voicemailView } from './view.js';

export interface VoicemailInboxDeps {
  readonly store: VoicemailStore;
  /** The calls' data-channel messages (what a browser caller typed). */
  readonly messages: MessageStore;
  readonly logger: Logger;
  readonly now?: () => number;
}

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
   * kept. `conflict` while it is still being recorded.
   */
  markHeard(record: VoicemailRecord, by: string | null): VoicemailRecord {
    if (record.status === 'recording' || !this.#deps.store.markHeard(record.id, this.#now(), by))
      throw stillRecording();
    const marked = this.#deps.store.get(record.id);
    if (!marked) throw new ParleyError('not_found', 'no such voicemail');
    return marked;
  }

  /**
   * Deletes `record`: the WAV first, then the row (its transcript with it),
   * so a failure between the two leaves a row without a file (retention's
   * order), never a file no row names. `conflict` while it is still being
   * recorded: the recorder is writing that file.
   */
  async delete(record: VoicemailRecord): Promise<void> {
    if (record.status === 'recording') throw stillRecording();
    if (record.recordingPath !== null) {
      try {
        await rm(record.recordingPath, { force: true });
      } catch (error) {
        this.#log.error({ err: error, voicemailId: record.id }, 'voicemail file not deleted');
        throw new ParleyError('internal', 'the recording could not be deleted', { cause: error });
      }
    }
    this.#deps.store.delete(record.id);
    this.#log.info({ voicemailId: record.id, tenant: record.tenant }, 'voicemail deleted');
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
