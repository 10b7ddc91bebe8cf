/**
 * The write path on a real SQLite database: an insert the database refuses
 * (a trigger raising, as a full disk or a constraint would) says so instead
 * of being logged behind the call; an end that fails is tried again and
 * lands (the row does not stay `recording`), and after the last try says it
 * did not. The end's failures are injected in front of the real store.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../observability/index.js';
import { openDatabase } from '../storage/index.js';
import { SqliteVoicemailStore } from './sqlite-store.js';
import { base } from './store-contract.js';
import { VOICEMAIL_SCHEMA, type VoicemailEnd, type VoicemailStore } from './store.js';
import { VoicemailWrites } from './writes.js';

const logger = createLogger('silent');
const END: VoicemailEnd = { status: 'left', endedAt: 5000, durationMs: 4000, endReason: 'silence' };

/** The real store, whose `finish` throws its first `failures` times. */
function failingEnds(store: VoicemailStore, failures: number): VoicemailStore & { tries: number } {
  const wrapped = Object.create(store) as VoicemailStore & { tries: number };
  wrapped.tries = 0;
  wrapped.finish = async (id, end) => {
    wrapped.tries += 1;
    if (wrapped.tries <= failures) throw new Error('connection terminated unexpectedly');
    return store.finish(id, end);
  };
  return wrapped;
}

describe('VoicemailWrites', () => {
  it('says false when the database refuses the row', async () => {
    const db = openDatabase(':memory:', [VOICEMAIL_SCHEMA]);
    db.exec(`CREATE TRIGGER refuse BEFORE INSERT ON vm_voicemails
      BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`);
    const store = new SqliteVoicemailStore(db, 'gw-a');
    const writes = new VoicemailWrites({ store, logger });
    expect(await writes.insert(base)).toBe(false);
    expect(await store.get(base.id)).toBeUndefined();
    db.exec('DROP TRIGGER refuse');
    expect(await writes.insert(base)).toBe(true);
    expect(await store.get(base.id)).toMatchObject({ status: 'recording' });
  });

  it('tries a failed end again until it lands', async () => {
    const real = new SqliteVoicemailStore(openDatabase(':memory:', [VOICEMAIL_SCHEMA]), 'gw-a');
    await real.insert(base);
    const store = failingEnds(real, 2);
    const writes = new VoicemailWrites({ store, logger, retryMs: [1, 1, 1] });
    expect(await writes.finish(base.id, END)).toBe('ended');
    expect(store.tries).toBe(3);
    expect(await real.get(base.id)).toMatchObject({ status: 'left', endReason: 'silence' });
  });

  it('gives up after its last try: the row stays recording, for the interrupted path', async () => {
    const real = new SqliteVoicemailStore(openDatabase(':memory:', [VOICEMAIL_SCHEMA]), 'gw-a');
    await real.insert(base);
    const store = failingEnds(real, 10);
    const writes = new VoicemailWrites({ store, logger, retryMs: [1, 1] });
    expect(await writes.finish(base.id, END)).toBe('failed');
    expect(store.tries).toBe(3);
    expect((await real.open('gw-a')).map((r) => r.id)).toEqual([base.id]);
  });

  it('keeps an end that never landed and stores it later, published once', async () => {
    const real = new SqliteVoicemailStore(openDatabase(':memory:', [VOICEMAIL_SCHEMA]), 'gw-a');
    await real.insert(base);
    const store = failingEnds(real, 4); // the three tries, then the first late pass
    const writes = new VoicemailWrites({ store, logger, retryMs: [1, 1], lateMs: 3_600_000 });
    expect(await writes.finish(base.id, END)).toBe('failed');
    let published = 0;
    writes.later(base.id, END, () => Promise.resolve(void (published += 1)));
    await writes.retryLate(); // the database still refuses
    expect(writes.lateCount).toBe(1);
    expect(published).toBe(0);
    await writes.retryLate(); // it answers: stored and published
    expect(await real.get(base.id)).toMatchObject({ status: 'left', endReason: 'silence' });
    expect(published).toBe(1);
    expect(writes.lateCount).toBe(0);
    await writes.retryLate();
    expect(published).toBe(1);
    writes.close();
  });

  it('does not publish a late end when someone else ended the row meanwhile', async () => {
    const real = new SqliteVoicemailStore(openDatabase(':memory:', [VOICEMAIL_SCHEMA]), 'gw-a');
    await real.insert(base);
    const writes = new VoicemailWrites({ store: real, logger, lateMs: 3_600_000 });
    let published = 0;
    writes.later(base.id, END, () => Promise.resolve(void (published += 1)));
    // A survivor took this gateway for lost and ended the row first.
    await real.finish(base.id, { ...END, endReason: 'gateway_lost' });
    await writes.retryLate();
    expect(published).toBe(0);
    expect(writes.lateCount).toBe(0);
    expect(await real.get(base.id)).toMatchObject({ endReason: 'gateway_lost' });
    writes.close();
  });
});
