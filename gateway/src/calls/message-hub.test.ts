/**
 * The gateway's side of the data channel: every frame is rate limited, checked
 * against the shared schema and stored in a real SQLite database (messages
 * reference their call, so each test inserts a call row first) before it is
 * relayed. The Call is a stand-in with the surface the hub uses (its events
 * and `sendToVisitor`): a real one needs a SIP stack and media.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  MAX_MESSAGE_BYTES,
  MESSAGE_BURST,
  type GatewayNotice,
  type ParleyMessage,
  type StoredMessage,
} from '@parley/shared/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/index.js';
import {
  SqliteCallStore,
  SqliteMessageStore,
  openDatabase,
  type CallRecord,
  type SqliteDatabase,
} from '../storage/index.js';
import { testCallRecord } from '../storage/test-records.js';
import type { Call } from './call.js';
import type { CallEvents } from './call-types.js';
import { MessageHub, type MessageSubscriber } from './message-hub.js';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

/** What the hub needs of a call: its id, its events and a way to the visitor. */
class FakeCall extends EventEmitter<CallEvents> {
  readonly id = randomUUID();
  /** Frames sent to the visitor's data channel. */
  readonly toVisitor: string[] = [];
  channelOpen = true;

  sendToVisitor(text: string): boolean {
    if (!this.channelOpen) return false;
    this.toVisitor.push(text);
    return true;
  }

  fromVisitor(value: unknown): void {
    this.emit('visitorMessage', typeof value === 'string' ? value : JSON.stringify(value));
  }

  asCall(): Call {
    return this as unknown as Call;
  }
}

const callRecord = (id: string): CallRecord =>
  testCallRecord(id, { sessionId: 'web-session-1', createdAt: T0 });

class RecordingSubscriber implements MessageSubscriber {
  readonly frames: unknown[] = [];
  closed: { code: number; reason: string } | undefined;
  send(frame: string): void {
    this.frames.push(JSON.parse(frame));
  }
  close(code: number, reason: string): void {
    this.closed = { code, reason };
  }
}

const chat = (id: string, text = `text of ${id}`): ParleyMessage => ({
  type: 'chat',
  id,
  at: '2030-01-01T00:00:00Z',
  text,
});

let db: SqliteDatabase;
let calls: SqliteCallStore;
let store: SqliteMessageStore;
let clock: number;
let counted: { from: 'visitor' | 'agent'; ok: boolean }[];
let hub: MessageHub;

function newCall(): FakeCall {
  const call = new FakeCall();
  calls.insert(callRecord(call.id));
  hub.attach(call.asCall());
  return call;
}

/** The rows as stored, read back through a second store on the same database. */
function rows(callId: string): Promise<StoredMessage[]> {
  return new SqliteMessageStore(db).list(callId);
}

/** Lets the hub's reads of the history (SQLite: resolved at once) deliver. */
const settled = () => new Promise<void>((resolve) => setImmediate(resolve));

function notices(call: FakeCall): GatewayNotice[] {
  return call.toVisitor
    .map((f) => JSON.parse(f) as { type: string })
    .filter((v): v is GatewayNotice => v.type === 'notice');
}

beforeEach(() => {
  db = openDatabase(':memory:');
  calls = new SqliteCallStore(db);
  store = new SqliteMessageStore(db);
  clock = T0;
  counted = [];
  hub = new MessageHub({
    store,
    logger: createLogger('silent'),
    now: () => clock,
    onMessage: (from, ok) => counted.push({ from, ok }),
  });
});
afterEach(() => db.close());

describe('MessageHub: messages that pass', () => {
  it('stores chat, form, navigation and custom messages in order with seq, and relays them', async () => {
    const call = newCall();
    const agent = new RecordingSubscriber();
    hub.subscribe(call.id, agent);
    const sent: ParleyMessage[] = [
      chat('m1', 'Hello, I have a question about my order'),
      {
        type: 'form',
        id: 'm2',
        at: '2030-01-01T00:00:01Z',
        form: 'order',
        fields: { order: '42', email: 'ada@example.test' },
      },
      {
        type: 'navigation',
        id: 'm3',
        at: '2030-01-01T00:00:02Z',
        url: 'https://shop.acme.test/cart',
        title: 'Cart',
      },
      {
        type: 'custom',
        id: 'm4',
        at: '2030-01-01T00:00:03Z',
        name: 'cart',
        data: { items: [{ sku: 'A-1', qty: 2 }], total: 39.9 },
      },
    ];
    for (const [i, message] of sent.entries()) {
      clock = T0 + i * 1000;
      call.fromVisitor(message);
    }

    const stored = await rows(call.id);
    expect(stored).toEqual(
      sent.map((message, i) => ({
        seq: i + 1,
        from: 'visitor',
        receivedAt: new Date(T0 + i * 1000).toISOString(),
        message,
      })),
    );
    // The agent side got each one as stored, the visitor nothing back.
    await settled();
    expect(agent.frames).toEqual(stored);
    expect(call.toVisitor).toEqual([]);
    expect(counted).toEqual(sent.map(() => ({ from: 'visitor', ok: true })));
  });

  it('numbers both sides in one sequence and sends agent messages to the visitor', async () => {
    const call = newCall();
    call.fromVisitor(chat('v1'));
    const result = hub.fromAgent(call.asCall(), JSON.stringify(chat('a1', 'How can I help?')));
    call.fromVisitor(chat('v2'));

    expect(result).toMatchObject({ ok: true, delivered: true, stored: { seq: 2, from: 'agent' } });
    expect(call.toVisitor.map((f) => JSON.parse(f) as unknown)).toEqual([
      chat('a1', 'How can I help?'),
    ]);
    expect((await rows(call.id)).map((m) => [m.seq, m.from, m.message.id])).toEqual([
      [1, 'visitor', 'v1'],
      [2, 'agent', 'a1'],
      [3, 'visitor', 'v2'],
    ]);
  });

  it('stores an agent message the visitor cannot get yet, as undelivered', async () => {
    const call = newCall();
    call.channelOpen = false;
    const result = hub.fromAgent(call.asCall(), JSON.stringify(chat('a1')));
    expect(result).toMatchObject({ ok: true, delivered: false, stored: { seq: 1 } });
    expect(await rows(call.id)).toHaveLength(1);
  });

  it('keeps each call its own sequence', async () => {
    const first = newCall();
    const second = newCall();
    first.fromVisitor(chat('a'));
    second.fromVisitor(chat('b'));
    first.fromVisitor(chat('c'));
    expect((await rows(first.id)).map((m) => [m.seq, m.message.id])).toEqual([
      [1, 'a'],
      [2, 'c'],
    ]);
    expect((await rows(second.id)).map((m) => [m.seq, m.message.id])).toEqual([[1, 'b']]);
  });

  it('gives a new subscriber the history first, then new messages', async () => {
    const call = newCall();
    call.fromVisitor(chat('before'));
    const agent = new RecordingSubscriber();
    const unsubscribe = hub.subscribe(call.id, agent);
    call.fromVisitor(chat('after'));
    unsubscribe();
    call.fromVisitor(chat('unheard'));
    await settled();
    expect(agent.frames.map((f) => (f as StoredMessage).message.id)).toEqual(['before', 'after']);
    expect(await hub.history(call.id)).toHaveLength(3);
  });

  it('tells subscribers the call ended and closes them', async () => {
    const call = newCall();
    const agent = new RecordingSubscriber();
    hub.subscribe(call.id, agent);
    call.emit('ended', { ...callRecord(call.id), state: 'ended', reason: 'visitor_gone' });
    await settled();
    expect(agent.frames).toEqual([{ type: 'notice', code: 'call_ended', reason: 'visitor_gone' }]);
    await settled();
    expect(agent.closed).toEqual({ code: 1000, reason: 'call ended' });
  });
});

describe('MessageHub: messages that are refused', () => {
  const refusals: [string, unknown, string][] = [
    [
      'an unknown type',
      { type: 'notice', id: 'x1', at: 'now', code: 'call_ended' },
      'unknown type',
    ],
    ['a chat without text', { type: 'chat', id: 'x1', at: 'now' }, 'chat needs text'],
    [
      'a chat with text too long',
      { type: 'chat', id: 'x1', at: 'now', text: 'x'.repeat(2001) },
      'chat needs text',
    ],
    [
      'a form with a non-string field',
      { type: 'form', id: 'x1', at: 'now', form: 'order', fields: { qty: 2 } },
      'form needs a name and string fields',
    ],
    [
      'a navigation without url',
      { type: 'navigation', id: 'x1', at: 'now' },
      'navigation needs a url',
    ],
    [
      'a custom without name',
      { type: 'custom', id: 'x1', at: 'now', data: 1 },
      'custom needs a name',
    ],
  ];

  it.each(refusals)(
    'refuses %s, stores nothing and tells the visitor which message',
    async (_, frame, reason) => {
      const call = newCall();
      const agent = new RecordingSubscriber();
      hub.subscribe(call.id, agent);
      call.fromVisitor(frame);
      expect(notices(call)).toEqual([
        { type: 'notice', code: 'message_rejected', ref: 'x1', reason },
      ]);
      expect(await rows(call.id)).toEqual([]);
      await settled();
      expect(agent.frames).toEqual([]);
      expect(counted).toEqual([{ from: 'visitor', ok: false }]);
    },
  );

  it('refuses a frame over the size limit, not JSON, or without id', async () => {
    const call = newCall();
    const oversize = JSON.stringify({
      type: 'custom',
      id: 'big',
      at: 'now',
      name: 'cart',
      data: 'x'.repeat(MAX_MESSAGE_BYTES),
    });
    call.fromVisitor(oversize);
    call.fromVisitor('{not json');
    call.fromVisitor({ type: 'chat', at: 'now', text: 'no id' });
    expect(notices(call)).toEqual([
      { type: 'notice', code: 'message_rejected', reason: 'too large' },
      { type: 'notice', code: 'message_rejected', reason: 'not JSON' },
      { type: 'notice', code: 'message_rejected', reason: 'id and at are required' },
    ]);
    expect(await rows(call.id)).toEqual([]);
  });

  it('counts the size limit in UTF-8 bytes, not characters', async () => {
    const call = newCall();
    const frame = (text: string) => JSON.stringify({ type: 'chat', id: 'u', at: 'now', text });
    const overhead = frame('').length;
    // 1,400 × "€" is 1,400 characters (under the 2,000 text limit) but 4,200 bytes.
    call.fromVisitor(frame('€'.repeat(1400)));
    expect(notices(call)).toEqual([
      { type: 'notice', code: 'message_rejected', reason: 'too large' },
    ]);
    call.fromVisitor(frame('€'.repeat(Math.floor((MAX_MESSAGE_BYTES - overhead) / 3))));
    expect(await rows(call.id)).toHaveLength(1);
  });

  it('answers a refused agent frame with the reason and the ref, and sends the visitor nothing', async () => {
    const call = newCall();
    const result = hub.fromAgent(
      call.asCall(),
      JSON.stringify({ type: 'chat', id: 'a9', at: 'now', text: '' }),
    );
    expect(result).toEqual({ ok: false, reason: 'chat needs text', ref: 'a9' });
    expect(call.toVisitor).toEqual([]);
    expect(await rows(call.id)).toEqual([]);
  });
});

describe('MessageHub: rate limit', () => {
  it(`lets a burst of ${MESSAGE_BURST} through, then one per 100 ms`, async () => {
    const call = newCall();
    for (let i = 1; i <= MESSAGE_BURST; i += 1) call.fromVisitor(chat(`m${i}`));
    call.fromVisitor(chat('one-too-many'));
    expect(notices(call)).toEqual([
      { type: 'notice', code: 'message_rejected', reason: 'rate limited' },
    ]);
    expect(await rows(call.id)).toHaveLength(MESSAGE_BURST);

    clock += 50; // half a token at 10 per second
    call.fromVisitor(chat('still-too-soon'));
    expect(await rows(call.id)).toHaveLength(MESSAGE_BURST);
    clock += 100;
    call.fromVisitor(chat('after-refill'));
    const stored = await rows(call.id);
    expect(stored).toHaveLength(MESSAGE_BURST + 1);
    expect(stored.at(-1)).toMatchObject({
      seq: MESSAGE_BURST + 1,
      message: { id: 'after-refill' },
    });
    expect(counted.filter((c) => !c.ok)).toHaveLength(2);
  });

  it('counts refused frames too: garbage cannot be sent faster than messages', async () => {
    const call = newCall();
    for (let i = 0; i < MESSAGE_BURST; i += 1) call.fromVisitor('garbage');
    call.fromVisitor(chat('valid-but-late'));
    expect(notices(call).at(-1)).toEqual({
      type: 'notice',
      code: 'message_rejected',
      reason: 'rate limited',
    });
    expect(await rows(call.id)).toEqual([]);
  });

  it('limits each side of each call separately', async () => {
    const call = newCall();
    const other = newCall();
    for (let i = 0; i < MESSAGE_BURST; i += 1) call.fromVisitor(chat(`v${i}`));
    call.fromVisitor(chat('v-over'));
    expect(hub.fromAgent(call.asCall(), JSON.stringify(chat('agent-ok')))).toMatchObject({
      ok: true,
    });
    other.fromVisitor(chat('other-ok'));
    expect(await rows(other.id)).toHaveLength(1);
    for (let i = 1; i < MESSAGE_BURST; i += 1)
      hub.fromAgent(call.asCall(), JSON.stringify(chat(`a${i}`)));
    expect(hub.fromAgent(call.asCall(), JSON.stringify(chat('a-over')))).toEqual({
      ok: false,
      reason: 'rate limited',
    });
  });
});
