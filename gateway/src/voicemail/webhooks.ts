/**
 * Voicemail webhooks (docs/voicemail.md, "Webhooks"): each event of a
 * tenant's voicemails (started, partial and final text, ended with the
 * recording's URL) is POSTed to the tenant's `voicemail.webhook.url`.
 *
 * Kept until taken: an event is written to the outbox table
 * (`vm_webhook_outbox`) before anything is sent, and its row is deleted only
 * after a 2xx, so a receiver that is down, slow or failing, or a gateway that
 * stops, only delays it. SQLite writes it within `publish`; on PostgreSQL it
 * is journalled in SQLite within `publish` and inserted into the shared table
 * after (`postgres/journaled-outbox.ts`), so an event whose insert had not
 * committed when the process died is sent after the next start. Delivered
 * in order per receiver (a lane per tenant and URL:
 * its oldest row first, one at a time; a failing head waits, 1 s then twice
 * as long each time up to the tenant's maximum, and the rest of that lane
 * wait behind it). Lanes are independent: one tenant's failing receiver
 * never delays another's events. At least once: a delivery whose 2xx was lost
 * is sent again with the same `X-Parley-Delivery` id (a UUID per event), which
 * the receiver uses to drop duplicates.
 *
 * The outbox is a seam (`outbox.ts`): this gateway's SQLite file, or with
 * `storage.kind: postgres` one table for the cluster, whose lanes every
 * gateway looks at each `scanMs` (a lane is held by one gateway at a time,
 * `postgres/pg-outbox.ts`), so a dead gateway's events are sent by a live one.
 * A holder whose connection dies mid-send may still be sending when the next
 * deliverer sends the same head: the receiver drops the copy by its
 * `X-Parley-Delivery`; a lane's order is kept.
 */
import { randomUUID } from 'node:crypto';
import type { VoicemailEvent, VoicemailView } from '@parley/shared/protocol';
import { sign } from '../flows/sources/webhook.js';
import type { Logger } from '../observability/index.js';
import {
  laneKey,
  type OutboxEntry,
  type OutboxLane,
  type SendOutcome,
  type WebhookOutbox,
} from './outbox.js';

export interface WebhookTarget {
  readonly url: string;
  readonly secret?: string | undefined;
  readonly partials: boolean;
  readonly timeoutMs: number;
  /** This tenant's longest wait between retries (default: the gateway's `maxBackoffMs`). */
  readonly maxBackoffMs?: number | undefined;
}

export interface VoicemailWebhooksDeps {
  /** Where events wait: this gateway's SQLite file, or PostgreSQL shared by the cluster. */
  readonly outbox: WebhookOutbox;
  /** How often a shared outbox's lanes are looked at (a dead gateway's events are found then). */
  readonly scanMs?: number | undefined;
  /** The tenant's webhook, if it has one. */
  readonly target: (tenant: string) => WebhookTarget | undefined;
  /** The tenant of a voicemail (its partial and final frames name only the voicemail). */
  readonly tenantOf: (voicemailId: string) => string | undefined;
  /** Where the company downloads the recording (`GET /v1/voicemails/<id>/recording`, API key). */
  readonly recordingUrl: (voicemailId: string) => string;
  /** The longest wait between retries for a tenant whose webhook sets none. */
  readonly maxBackoffMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
}

/** One receiver's deliveries: sent one at a time, in order, whatever the other lanes do. */
interface Lane extends OutboxLane {
  timer: NodeJS.Timeout | undefined;
  sending: boolean;
  /** Pumped while a turn ran: that turn may have read the lane before the new entry landed. */
  again: boolean;
}

export class VoicemailWebhooks {
  readonly #deps: VoicemailWebhooksDeps;
  readonly #outbox: WebhookOutbox;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #fetch: typeof fetch;
  readonly #abort = new AbortController();
  /** Per tenant and URL (`laneKey`). */
  readonly #lanes = new Map<string, Lane>();
  #scanTimer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(deps: VoicemailWebhooksDeps) {
    this.#deps = deps;
    this.#outbox = deps.outbox;
    this.#log = deps.logger.child({ module: 'voicemail-webhooks' });
    this.#now = deps.now ?? Date.now;
    this.#fetch = deps.fetch ?? fetch;
  }

  /**
   * Sends what the outbox holds (left by the last run too), each receiver's
   * lane on its own. A shared outbox is looked at again every `scanMs`: the
   * lanes other gateways raised events on, a dead one's among them.
   */
  start(): void {
    void this.scan();
    if (this.#outbox.shared && !this.#closed)
      this.#scanTimer = setInterval(() => void this.scan(), this.#deps.scanMs ?? 2000).unref();
  }

  /** One look at every lane of the outbox (the timer's; a test may call it). */
  async scan(): Promise<void> {
    try {
      for (const lane of await this.#outbox.lanes(this.#now())) this.#pump(this.#lane(lane));
    } catch (err) {
      this.#log.warn({ err }, 'voicemail webhook outbox not read: tried at the next look');
    }
  }

  /** Deliveries waiting in the outbox (every gateway's, when it is shared). */
  pending(): Promise<number> {
    return this.#outbox.pending();
  }

  /** Queues `event` for its tenant's webhook, if the tenant has one. */
  publish(event: VoicemailEvent): void {
    if (this.#closed) return;
    const tenant =
      'voicemail' in event ? event.voicemail.tenant : this.#deps.tenantOf(event.voicemailId);
    const target = tenant === undefined ? undefined : this.#deps.target(tenant);
    if (!target || tenant === undefined) return;
    if (event.type === 'voicemail-partial' && !target.partials) return;
    const now = this.#now();
    const body = JSON.stringify({
      ...this.#payload(event),
      tenant,
      at: new Date(now).toISOString(),
    });
    const lane = { tenant, url: target.url };
    // SQLite writes it before this returns; PostgreSQL in this lane's order.
    this.#outbox.add({ ...lane, delivery: randomUUID(), body, at: now }).then(
      () => this.#pump(this.#lane(lane)),
      (err: unknown) =>
        this.#log.error(
          { err, tenant, type: event.type },
          'voicemail webhook event not stored: lost',
        ),
    );
  }

  /** Stops sending (what is left stays in the outbox for the next start or another gateway); safe twice. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      clearInterval(this.#scanTimer);
      for (const lane of this.#lanes.values()) clearTimeout(lane.timer);
      this.#abort.abort();
    }
    await this.#outbox.close();
  }

  /** The webhook's JSON: the frame, with no private claims and, once ended, the recording's URL. */
  #payload(event: VoicemailEvent): Record<string, unknown> {
    if (event.type === 'voicemail-started' || event.type === 'voicemail-ended') {
      const { privateClaims: _private, ...voicemail } = event.voicemail as VoicemailView;
      return {
        type: event.type,
        voicemail,
        ...(event.type === 'voicemail-ended' && voicemail.hasRecording
          ? { recordingUrl: this.#deps.recordingUrl(voicemail.id) }
          : {}),
      };
    }
    return { ...event };
  }

  #lane(of: OutboxLane): Lane {
    const key = laneKey(of);
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = { tenant: of.tenant, url: of.url, timer: undefined, sending: false, again: false };
      this.#lanes.set(key, lane);
    }
    return lane;
  }

  #pump(lane: Lane): void {
    if (this.#closed) return;
    if (lane.sending) {
      lane.again = true;
      return;
    }
    clearTimeout(lane.timer);
    lane.timer = undefined;
    lane.sending = true;
    lane.again = false;
    this.#outbox
      .turn(lane, this.#now(), (head) => this.#deliver(head))
      .then(
        (turn) => {
          lane.sending = false;
          if (turn.kind === 'sent') this.#pump(lane);
          else if (turn.kind === 'wait') this.#later(lane, turn.at - this.#now());
          // An entry landed while the turn ran (it may have read the lane before): look again.
          else if (lane.again) this.#pump(lane);
          // Empty, or another gateway holds it (the next look finds it if it is left):
          // forgotten until its next event, so a tenant's old URL does not stay for ever.
          else this.#lanes.delete(laneKey(lane));
        },
        (err: unknown) => {
          lane.sending = false;
          this.#log.warn(
            { err, tenant: lane.tenant },
            'voicemail webhook outbox failed: tried again',
          );
          this.#later(lane, 1000);
        },
      );
  }

  #later(lane: Lane, ms: number): void {
    if (this.#closed) return;
    lane.timer = setTimeout(() => this.#pump(lane), Math.max(0, ms));
    lane.timer.unref();
  }

  async #deliver(row: OutboxEntry): Promise<SendOutcome> {
    const target = this.#deps.target(row.tenant);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'Parley',
      'x-parley-delivery': row.delivery,
      'x-parley-attempt': String(row.attempts + 1),
    };
    if (target?.secret !== undefined) headers['x-parley-signature'] = sign(target.secret, row.body);
    let failure: string | undefined;
    try {
      const signal = AbortSignal.any([
        this.#abort.signal,
        AbortSignal.timeout(target?.timeoutMs ?? 5000),
      ]);
      const response = await this.#fetch(row.url, {
        method: 'POST',
        headers,
        body: row.body,
        signal,
        redirect: 'error',
      });
      await response.body?.cancel();
      if (!response.ok) failure = `HTTP ${response.status}`;
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
    }
    if (failure === undefined) return { sent: true };
    if (this.#closed) return undefined;
    const backoff = Math.min(
      1000 * 2 ** row.attempts,
      target?.maxBackoffMs ?? this.#deps.maxBackoffMs,
    );
    this.#log.warn(
      {
        delivery: row.delivery,
        tenant: row.tenant,
        attempts: row.attempts + 1,
        failure,
        retryMs: backoff,
      },
      'voicemail webhook failed: retried',
    );
    return { sent: false, error: failure, retryAt: this.#now() + backoff };
  }
}
