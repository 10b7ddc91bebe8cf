/**
 * What a browser caller typed, as voicemail follows it (`followTyped`): from
 * a real MessageHub on a real SQLite message store, only the `chat` lines the
 * hub accepted (a malformed frame, another message type and a line over the
 * rate limit are not published), those stored before the subscription
 * first, each once.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { MESSAGE_BURST, type VoicemailTyped } from '@parley/shared/protocol';
import { MessageHub, type Call } from '../calls/index.js';
import { createLogger } from '../observability/index.js';
import { SqliteCallStore, SqliteMessageStore, openDatabase } from '../storage/index.js';
import { testCallRecord } from '../storage/test-records.js';
import { followTyped } from './visitor-notice.js';

const NOW = Date.UTC(2026, 11, 6, 2);

describe('followTyped', () => {
  it('publishes only the chat lines the hub accepted, the earlier ones first', async () => {
    const db = openDatabase(':memory:');
    new SqliteCallStore(db).insert(testCallRecord('call-1', { createdAt: NOW }));
    const store = new SqliteMessageStore(db);
    const hub = new MessageHub({ store, logger: createLogger('silent'), now: () => NOW });
    // The part of a call the hub uses: its id, its visitor's frames, its end, a way back.
    const refused: string[] = [];
    const call = Object.assign(new EventEmitter(), {
      id: 'call-1',
      sendToVisitor: (frame: string) => refused.push(frame) > 0,
    }) as unknown as Call;
    hub.attach(call);
    const at = new Date(NOW).toISOString();
    const chat = (id: string, text: string) => JSON.stringify({ type: 'chat', id, at, text });
    const visitor = (frame: string) =>
      (call as unknown as EventEmitter).emit('visitorMessage', frame);

    visitor(chat('m0', 'typed before the beep'));
    const lines: VoicemailTyped[] = [];
    const unsubscribe = followTyped(hub, 'call-1', (line) => lines.push(line));
    visitor(chat('m1', 'call me back at noon'));
    visitor(JSON.stringify({ type: 'navigation', id: 'n1', at, url: 'https://shop.example/cart' }));
    visitor('{"type":"chat","text":');
    // The rest of the burst (each frame above took a token), then one over the rate limit:
    // refused by the hub, never published.
    const rest = MESSAGE_BURST - 4;
    for (let i = 0; i < rest; i += 1) visitor(chat(`f${i}`, `line ${i}`));
    visitor(chat('over', 'one too many'));
    await new Promise((resolve) => setImmediate(resolve));

    expect(lines.map((l) => l.text)).toEqual([
      'typed before the beep',
      'call me back at noon',
      ...Array.from({ length: rest }, (_, i) => `line ${i}`),
    ]);
    expect(lines[0]).toEqual({ at, text: 'typed before the beep' });
    expect(refused.some((f) => f.includes('rate limited'))).toBe(true);
    unsubscribe();
    db.close();
  });
});
