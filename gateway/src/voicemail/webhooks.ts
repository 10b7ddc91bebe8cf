/**
 * Voicemail webhooks (docs/voicemail.md, "Webhooks"): each event of a
 * tenant's voicemails (started, partial and final text, ended with the
 * recording's URL) is POSTed to the tenant's `voicemail.webhook.url`.
 *
 * Never lost: an event is written to the outbox table (`vm_webhook_outbox`)
 * before anything is sent, and its row is deleted only after a 2xx, so a
 * receiver that is down, slow or failing, or a gateway that stops, only
 * delays it. Delivered in order per receiver (a lane per tenant and URL:
 * its oldest row first, one at a time; a failing head waits, 1 s then twice
 * as long each time up to the tenant's maximum, and the rest of that lane
 * wait behind it). Lanes are independent: one tenant's failing receiver
 * never delays another's events. At least once: a delivery whose 2xx was lost
 * is sent again with the same `X-Parley-Delivery` id, which the receiver uses
 * to drop duplicates.
 */
import type { VoicemailEvent, VoicemailView } from '@parley/shared/protocol';
import { sign } from '../flows/sources/webhook.js';
import type { Logger } from '../observability/index.js';
import type { SqliteDatabase } from '../storage/index.js';

export interface WebhookTarget {
  readonly url: string;
  readonly secret?: string | undefined;
  readonly partials: boolean;
  readonly timeoutMs: number;
  /** This tenant's longest wait between retries (default: the gateway's `maxBackoffMs`). */
  readonly maxBackoffMs?: number | undefined;
}

export interface VoicemailWebhooksDeps {
  readonly db: SqliteDatabase;
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

interface OutboxRow {
  id: number;
  tenant: string;
  url: string;
  body: string;
  attempts: number;
  next_at: number;
}

/** One receiver's deliveries: sent one at a time, in order, whatever the other lanes do. */
interface Lane {
  readonly tenant: string;
  readonly url: string;
  timer: NodeJS.Timeout | undefined;
  sending: boolean;
}

export class VoicemailWebhooks {
  readonly #deps: VoicemailWebhooksDeps;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #fetch: typeof fetch;
  readonly #abort = new AbortController();
  /** Per tenant and URL (`tenant\nurl`). */
  readonly #lanes = new Map<string, Lane>();
  #closed = false;

  constructor(deps: VoicemailWebhooksDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ module: 'voicemail-webhooks' });
    this.#now = deps.now ?? Date.now;
    this.#fetch = deps.fetch ?? fetch;
  }

  /** Sends what the outbox holds (left by the last run too), each receiver's lane on its own. */
  start(): void {
    const lanes = this.#deps.db
      .prepare('SELECT DISTINCT tenant, url FROM vm_webhook_outbox')
      .all() as { tenant: string; url: string }[];
    for (const { tenant, url } of lanes) this.#pump(this.#lane(tenant, url));
  }

  /** Deliveries waiting in the outbox. */
  get pending(): number {
    const row = this.#deps.db.prepare('SELECT count(*) AS n FROM vm_webhook_outbox').get() as {
      n: number;
    };
    return row.n;
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
    this.#deps.db
      .prepare(
        'INSERT INTO vm_webhook_outbox (tenant, url, body, next_at, created_at) VALUES (?, ?, ?, ?, ?)',
      )
      .run(tenant, target.url, body, now, now);
    this.#pump(this.#lane(tenant, target.url));
  }

  /** Stops sending (what is left stays in the outbox for the next start); safe twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const lane of this.#lanes.values()) clearTimeout(lane.timer);
    this.#abort.abort();
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

  #lane(tenant: string, url: string): Lane {
    const key = `${tenant}\n${url}`;
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = { tenant, url, timer: undefined, sending: false };
      this.#lanes.set(key, lane);
    }
    return lane;
  }

  #pump(lane: Lane): void {
    if (this.#closed || lane.sending) return;
    clearTimeout(lane.timer);
    lane.timer = undefined;
    const head = this.#deps.db
      .prepare('SELECT * FROM vm_webhook_outbox WHERE tenant = ? AND url = ? ORDER BY id LIMIT 1')
      .get(lane.tenant, lane.url) as OutboxRow | undefined;
    if (!head) {
      // Empty: forgotten until its next event (a tenant's old URL does not stay for ever).
      this.#lanes.delete(`${lane.tenant}\n${lane.url}`);
      return;
    }
    const wait = head.next_at - this.#now();
    if (wait > 0) {
      lane.timer = setTimeout(() => this.#pump(lane), wait);
      lane.timer.unref();
      return;
    }
    lane.sending = true;
    void this.#deliver(head).finally(() => {
      lane.sending = false;
      this.#pump(lane);
    });
  }

  async #deliver(row: OutboxRow): Promise<void> {
    const target = this.#deps.target(row.tenant);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'user-agent': 'Parley',
      'x-parley-delivery': String(row.id),
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
    if (this.#closed && failure !== undefined) return;
    const db = this.#deps.db;
    if (failure === undefined) {
      db.prepare('DELETE FROM vm_webhook_outbox WHERE id = ?').run(row.id);
      return;
    }
    const backoff = Math.min(
      1000 * 2 ** row.attempts,
      target?.maxBackoffMs ?? this.#deps.maxBackoffMs,
    );
    db.prepare(
      'UPDATE vm_webhook_outbox SET attempts = attempts + 1, next_at = ?, last_error = ? WHERE id = ?',
    ).run(this.#now() + backoff, failure, row.id);
    this.#log.warn(
      {
        delivery: row.id,
        tenant: row.tenant,
        attempts: row.attempts + 1,
        failure,
        retryMs: backoff,
      },
      'voicemail webhook failed: retried',
    );
  }
}
