/**
 * A voicemail whose row the database refuses (a trigger on the gateway's own
 * SQLite file raising, as a full disk would) ends at once, honestly: the real
 * SIP caller, answered by voicemail, gets the gateway's BYE with
 * `Reason: …voicemail_not_stored` instead of talking into a recording no row
 * names; the WAV is removed (nothing left in the recordings directory), the
 * live stream says `voicemail-ended` `failed`, and the API lists nothing.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VoicemailEvent } from '@parley/shared/protocol';
import { stopAll } from '@parley/testkit';
import { openDatabase } from '../src/storage/index.js';
import { VOICEMAIL_SCHEMA } from '../src/voicemail/index.js';
import { startTestGateway, type TestGateway } from './harness.js';
import { VoicemailCaller } from './voicemail-caller.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-vm-not-stored-'));
const recordings = join(dir, 'recordings');
let gw: TestGateway;

beforeAll(async () => {
  const path = join(dir, 'parley.sqlite');
  gw = await startTestGateway({
    config: { storage: { path, recordingsDir: recordings } },
    // agent1 never signs in: voicemail answers at once.
    queueExtra: {
      voicemail: {
        greeting: { say: 'Please leave a message.' },
        silenceSeconds: 0,
        maxSeconds: 60,
        transcribe: false,
      },
    },
  });
  // The gateway's own file, through a second connection: every new voicemail row is refused.
  const db = openDatabase(path, [VOICEMAIL_SCHEMA]);
  db.exec(`CREATE TRIGGER refuse_voicemails BEFORE INSERT ON vm_voicemails
    BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`);
  db.close();
}, 60_000);
afterAll(async () => {
  await gw?.close();
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

describe('a voicemail whose row cannot be stored', () => {
  it('ends the call voicemail_not_stored and leaves no WAV', { timeout: 60_000 }, async () => {
    const events: VoicemailEvent[] = [];
    const off = gw.gateway.voicemails.live.onEvent((event) => events.push(event));
    const caller = await VoicemailCaller.open();
    try {
      await caller.call(gw.udp, await gw.token({ subject: 'web-sess-not-stored' }));
      caller.say(await VoicemailCaller.tone(440, 5));
      const bye = await caller.byeFromGateway(gw.udp);
      expect(bye.headers.get('reason')).toBe('SIP;cause=500;text="voicemail_not_stored"');
      // It had started (the desks saw it live), and they are told it ended, failed.
      expect(events.map((e) => e.type)).toEqual(['voicemail-started', 'voicemail-ended']);
      const ended = events[1];
      expect(ended?.type === 'voicemail-ended' && ended.voicemail).toMatchObject({
        status: 'failed',
        endReason: 'voicemail_not_stored',
      });
      // No WAV that no row names.
      const tenantDir = join(recordings, 'acme');
      expect(existsSync(tenantDir) ? readdirSync(tenantDir) : []).toEqual([]);
      const listed = await gw.api<{ voicemails: unknown[] }>('/v1/voicemails');
      expect(listed.body.voicemails).toEqual([]);
    } finally {
      off();
      caller.close();
    }
  });
});
