import type { QueueState, WaitingEntry } from '../queues/index.js';
import { compareEntries } from '../queues/index.js';
import type { RedisLink } from './redis-link.js';
import { slotClaimKey } from './slot-claims.js';

/**
 * Queue membership in Redis, for a cluster of gateways (issue 16): every
 * gateway's waiting callers in one order, so a caller waiting on gateway A is
 * offered an agent freed on B, and positions are the cluster's.
 *
 * Keys (under the link's prefix), per queue `<q>`:
 * - `queue:<q>`: hash, callId → the entry as JSON, with `owner` (the gateway
 *   whose leg it is) and `declinedBy`;
 * - `queue-offered:<q>`: hash, callId → the agent it is being offered to;
 * - `queue-offers` (all queues): hash, agentId → `<q>\n<callId>`: an agent
 *   has one offer at a time across queues and gateways.
 *
 * Every write is one script, so two gateways cannot both add the last place,
 * offer one caller twice or one agent two callers. `claim` also refuses an
 * agent whose call slots (`agent-slots:<id>`, `slot-claims.ts`) are all held:
 * busy in a call or ringing on any gateway; it then says when the first of
 * them lapses (`slotsHeld`: `claim-lapses.ts` tells the queue then, as a
 * release would have). Every heartbeat one script
 * (`heartbeat()`: one read of each queue) removes the entries of gateways whose
 * lease lapsed (`presence.ts`: killed, or cut from Redis) and reconciles this
 * gateway's own with its live callers; the queues it changed go to `purged`
 * (the gateways are told, their callers move up). A gateway restarted under
 * the same instance id drops its own entries of before (`forgetOwn()`, at
 * start): their legs are gone.
 *
 * While Redis is down, joining fails as a full queue would and nothing is
 * offered: the gateway's own callers wait until it is back or they time out.
 */

/** KEYS: entries. ARGV: callId, entry JSON, max. */
const ADD = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/** Takes `callId`'s offer out (if any). KEYS: entries, offered, offers. ARGV: callId, queue. */
const DROP_OFFER = `
local function drop_offer(offered, offers, call, queue)
  local agent = redis.call('HGET', offered, call)
  if not agent then return false end
  redis.call('HDEL', offered, call)
  if redis.call('HGET', offers, agent) == queue .. '\\n' .. call then redis.call('HDEL', offers, agent) end
  return agent
end
`;

/** KEYS: entries, offered, offers. ARGV: callId, queue. */
const REMOVE = `${DROP_OFFER}
drop_offer(KEYS[2], KEYS[3], ARGV[1], ARGV[2])
return redis.call('HDEL', KEYS[1], ARGV[1])
`;

/**
 * KEYS: entries, offered, offers, the agent's slots. ARGV: callId, agentId, queue, agent's
 * maxCalls. Returns 1 when claimed, 0 when refused, and {0, ms} when refused because the
 * agent's slots are all held: ms until the first of them lapses (unless renewed or released).
 */
const CLAIM = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then return 0 end
if redis.call('HEXISTS', KEYS[3], ARGV[2]) == 1 then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local after = '(' .. string.format('%d', now)
local held = redis.call('ZCOUNT', KEYS[4], after, '+inf')
local max = tonumber(ARGV[4])
if held >= max then
  local first = redis.call('ZRANGEBYSCORE', KEYS[4], after, '+inf', 'WITHSCORES', 'LIMIT', held - max, 1)
  return {0, math.max(1, math.ceil(tonumber(first[2]) - now))}
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3] .. '\\n' .. ARGV[1])
return 1
`;

/** KEYS: entries, offered, offers. ARGV: callId, queue, until (epoch ms). */
const DECLINE = `${DROP_OFFER}
local agent = drop_offer(KEYS[2], KEYS[3], ARGV[1], ARGV[2])
if not agent then return 0 end
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if raw then
  local entry = cjson.decode(raw)
  if type(entry.declinedBy) ~= 'table' then entry.declinedBy = {} end
  entry.declinedBy[agent] = tonumber(ARGV[3])
  redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(entry))
end
return 1
`;

/**
 * The heartbeat, one script for every queue (one HGETALL each): removes the entries
 * whose owner's lease (`<lease prefix><owner>`) is gone, and this gateway's own entries
 * that are not among its live callers (a `remove` whose answer was lost; at start, all of
 * them: their legs died with the process before). KEYS: offers, then each queue's entries
 * and offered. ARGV: lease prefix, this gateway's owner, then per queue: its name, the
 * number of this gateway's live callers in it, their callIds. Returns per queue: how many
 * it removed, then the live callIds it did not find (swept while this gateway was cut off).
 */
const HEARTBEAT = `${DROP_OFFER}
local offers, prefix, me = KEYS[1], ARGV[1], ARGV[2]
local alive = {}
local out = {}
local a = 3
for q = 1, (#KEYS - 1) / 2 do
  local entries, offered, queue = KEYS[2 * q], KEYS[2 * q + 1], ARGV[a]
  local first, last = a + 2, a + 1 + tonumber(ARGV[a + 1])
  a = last + 1
  local live = {}
  for i = first, last do live[ARGV[i]] = true end
  local seen = {}
  local removed = 0
  local all = redis.call('HGETALL', entries)
  for i = 1, #all, 2 do
    local ok, entry = pcall(cjson.decode, all[i + 1])
    local owner = ok and type(entry) == 'table' and entry.owner or nil
    local keep = false
    if owner == me then
      keep = live[all[i]] == true
      seen[all[i]] = keep
    elseif type(owner) == 'string' then
      if alive[owner] == nil then alive[owner] = redis.call('EXISTS', prefix .. owner) == 1 end
      keep = alive[owner]
    end
    if not keep then
      drop_offer(offered, offers, all[i], queue)
      redis.call('HDEL', entries, all[i])
      removed = removed + 1
    end
  end
  local answer = {tostring(removed)}
  for i = first, last do
    if not seen[ARGV[i]] then answer[#answer + 1] = ARGV[i] end
  end
  out[q] = answer
end
return out
`;

interface Mine {
  readonly entry: WaitingEntry;
  readonly max: number;
}

interface StoredEntry extends WaitingEntry {
  /** The owner's instance id, URI-encoded as in its lease key. */
  readonly owner: string;
}

export interface RedisQueueStateOptions {
  /** This gateway's instance id (its entries' owner). */
  readonly instanceId: string;
  /** The queues to sweep (the config's). */
  readonly queues: readonly string[];
  /** An agent's `maxCalls` (its slots in `agent-slots`). */
  readonly maxCalls: (agentId: string) => number;
  readonly heartbeatSeconds: number;
  /** A heartbeat removed a lost gateway's callers from `queue` (or put this one's back). */
  readonly purged?: ((queue: string) => void) | undefined;
  /**
   * A claim in `queue` was refused because the agent's call slots are all held (on any
   * gateway); the first of them lapses in `ms` unless renewed or released.
   */
  readonly slotsHeld?: ((queue: string, ms: number) => void) | undefined;
}

export class RedisQueueState implements QueueState {
  readonly #redis: RedisLink;
  readonly #options: RedisQueueStateOptions;
  readonly #owner: string;
  readonly #timer: NodeJS.Timeout;
  #beating: Promise<string[]> | undefined;
  /**
   * This gateway's callers as it last added them (callId → entry and the queue's max),
   * until it removes them: what each heartbeat reconciles Redis with.
   */
  readonly #mine = new Map<string, Mine>();
  /** Adds sent and not answered yet. */
  readonly #adding = new Map<string, Mine>();

  constructor(redis: RedisLink, options: RedisQueueStateOptions) {
    this.#redis = redis;
    this.#options = options;
    this.#owner = encodeURIComponent(options.instanceId);
    this.#timer = setInterval(() => void this.#heartbeatAndTell(), options.heartbeatSeconds * 1000);
    this.#timer.unref();
  }

  async add(entry: WaitingEntry, max: number): Promise<boolean> {
    this.#adding.set(entry.callId, { entry, max });
    const added = await this.#add(entry, max).finally(() => this.#adding.delete(entry.callId));
    if (added) this.#mine.set(entry.callId, { entry, max });
    return added;
  }

  #add(entry: WaitingEntry, max: number): Promise<boolean> {
    const stored: StoredEntry = { ...entry, owner: this.#owner };
    return this.#redis.run(
      'queue_add',
      async (r) =>
        (await r.eval(
          ADD,
          1,
          this.#entries(entry.queue),
          entry.callId,
          JSON.stringify(stored),
          max,
        )) === 1,
      false,
    );
  }

  remove(queue: string, callId: string): Promise<boolean> {
    this.#mine.delete(callId);
    return this.#redis.run(
      'queue_remove',
      async (r) => (await r.eval(REMOVE, 3, ...this.#keys(queue), callId, queue)) === 1,
      false,
    );
  }

  waiting(queue: string): Promise<readonly WaitingEntry[]> {
    return this.#redis.run(
      'queue_waiting',
      async (r) => {
        // One transaction: an offer claimed between two reads would show its caller as waiting.
        const results = await r
          .multi()
          .hgetall(this.#entries(queue))
          .hkeys(this.#offered(queue))
          .exec();
        const [entries, offered] = (results ?? []).map(([error, value]) => {
          if (error) throw error;
          return value;
        }) as [Record<string, string>, string[]];
        const out = new Set(offered);
        return Object.entries(entries)
          .filter(([callId]) => !out.has(callId))
          .flatMap(([, json]) => parseEntry(json))
          .sort(compareEntries);
      },
      [],
    );
  }

  size(queue: string): Promise<number> {
    return this.#redis.run('queue_size', (r) => r.hlen(this.#entries(queue)), 0);
  }

  claim(queue: string, callId: string, agentId: string): Promise<boolean> {
    return this.#redis.run(
      'queue_claim',
      async (r) => {
        const answer = (await r.eval(
          CLAIM,
          4,
          ...this.#keys(queue),
          slotClaimKey(this.#redis, 'agent-slots', agentId),
          callId,
          agentId,
          queue,
          this.#options.maxCalls(agentId),
        )) as number | [number, number];
        if (Array.isArray(answer)) this.#options.slotsHeld?.(queue, answer[1]);
        return answer === 1;
      },
      false,
    );
  }

  async decline(queue: string, callId: string, until: number): Promise<void> {
    await this.#redis.run(
      'queue_decline',
      (r) => r.eval(DECLINE, 3, ...this.#keys(queue), callId, queue, Math.round(until)),
      null,
    );
  }

  offers(): Promise<ReadonlyMap<string, string>> {
    return this.#redis.run(
      'queue_offers',
      async (r) => {
        const all = await r.hgetall(this.#redis.key('queue-offers'));
        return new Map(
          Object.entries(all).map(([agent, value]) => [
            agent,
            value.slice(value.indexOf('\n') + 1),
          ]),
        );
      },
      new Map<string, string>(),
    );
  }

  /**
   * One heartbeat (one script, one read per queue): removes the callers of gateways whose
   * lease lapsed, and makes Redis hold exactly this gateway's live callers: an entry whose
   * `remove` was lost (a Redis blip as the caller left) is dropped, and a live caller swept
   * meanwhile (this gateway was cut from Redis past its lease, and the others took it for
   * dead) is put back in its place (its `joinedAt` kept). Run every heartbeat, one at a
   * time; resolves with the queues it changed.
   */
  heartbeat(): Promise<string[]> {
    this.#beating ??= this.#heartbeat(true).finally(() => (this.#beating = undefined));
    return this.#beating;
  }

  /** At start: removes this instance's callers left from before a restart (and lost gateways'). */
  forgetOwn(): Promise<string[]> {
    return this.#heartbeat(false);
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async #heartbeat(keepMine: boolean): Promise<string[]> {
    const queues = this.#options.queues;
    if (!this.#redis.up || queues.length === 0) return [];
    // Adds in flight count as live: the script may run after their HSET.
    const live = keepMine ? [...this.#mine.values(), ...this.#adding.values()] : [];
    const args: (string | number)[] = [this.#redis.key('gateway', ''), this.#owner];
    for (const queue of queues) {
      const ids = live.filter((m) => m.entry.queue === queue).map((m) => m.entry.callId);
      args.push(queue, ids.length, ...ids);
    }
    const keys = [
      this.#redis.key('queue-offers'),
      ...queues.flatMap((q) => this.#keys(q).slice(0, 2)),
    ];
    const answers = await this.#redis.run(
      'queue_heartbeat',
      async (r) => (await r.eval(HEARTBEAT, keys.length, ...keys, ...args)) as string[][],
      null,
    );
    if (answers === null) return [];
    const changed: string[] = [];
    for (const [i, queue] of queues.entries()) {
      const [removed, ...missing] = answers[i] ?? ['0'];
      let touched = Number(removed) > 0;
      for (const callId of missing) {
        // Put back only a caller still here whose add had answered (an add in flight puts itself).
        const mine = this.#mine.get(callId);
        if (mine && (await this.#add(mine.entry, mine.max))) touched = true;
      }
      if (touched) changed.push(queue);
    }
    return changed;
  }

  async #heartbeatAndTell(): Promise<void> {
    for (const queue of await this.heartbeat()) this.#options.purged?.(queue);
  }

  #keys(queue: string): [string, string, string] {
    return [this.#entries(queue), this.#offered(queue), this.#redis.key('queue-offers')];
  }

  #entries(queue: string): string {
    return this.#redis.key('queue', encodeURIComponent(queue));
  }

  #offered(queue: string): string {
    return this.#redis.key('queue-offered', encodeURIComponent(queue));
  }
}

/** An entry as stored (without its owner); none when unreadable. */
function parseEntry(json: string): WaitingEntry[] {
  try {
    const stored = JSON.parse(json) as Record<string, unknown>;
    delete stored['owner'];
    return [stored as unknown as WaitingEntry];
  } catch {
    return [];
  }
}
