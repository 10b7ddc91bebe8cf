import { describe, expect, it } from 'vitest';
import { openDatabase } from '../storage/index.js';
import { SqliteVoicemailStore, VOICEMAIL_SCHEMA, type NewVoicemail } from './store.js';

const base: NewVoicemail = {
  id: 'vm-1',
  callId: 'call-1',
  tenant: 'acme',
  queue: 'sales',
  agent: null,
  cause: 'no-answer',
  sessionNumber: '+15550101',
  sessionId: 'sess-1',
  origin: 'https://shop.acme.test',
  page: '/pricing',
  publicClaims: { iss: 'acme', sub: 'sess-1' },
  privateClaims: { customerId: 'c-9' },
  recordingPath: '/tmp/vm-1.wav',
  createdAt: 1000,
};

describe('SqliteVoicemailStore', () => {
  it('stores a message, its utterances in order, and its end once', () => {
    const store = new SqliteVoicemailStore(openDatabase(':memory:', [VOICEMAIL_SCHEMA]));
    store.insert(base);
    store.addUtterance('vm-1', { utterance: 0, text: 'hello there', startMs: 100, endMs: 900 });
    store.addUtterance('vm-1', { utterance: 1, text: 'call me back', startMs: 1500, endMs: 2500 });
    store.finish('vm-1', { status: 'left', endedAt: 5000, durationMs: 4000, endReason: 'silence' });
    // A second end (the caller's BYE racing the silence) changes nothing.
    store.finish('vm-1', { status: 'failed', endedAt: 6000, durationMs: 1, endReason: 'error' });
    const got = store.get('vm-1');
    expect(got).toMatchObject({
      status: 'left',
      endedAt: 5000,
      durationMs: 4000,
      endReason: 'silence',
      transcript: 'hello there call me back',
      privateClaims: { customerId: 'c-9' },
      page: '/pricing',
    });
    expect(got?.utterances.map((u) => u.utterance)).toEqual([0, 1]);
  });

  it('lists by tenant and queue, newest first; closes recordings a crash interrupted', () => {
    const store = new SqliteVoicemailStore(openDatabase(':memory:', [VOICEMAIL_SCHEMA]));
    store.insert(base);
    store.insert({ ...base, id: 'vm-2', createdAt: 2000 });
    store.insert({ ...base, id: 'vm-3', tenant: 'globex', createdAt: 3000 });
    store.insert({ ...base, id: 'vm-4', queue: 'support', createdAt: 4000 });
    expect(store.list({ tenant: 'acme', queue: 'sales', limit: 10 }).map((r) => r.id)).toEqual([
      'vm-2',
      'vm-1',
    ]);
    expect(store.list({ limit: 2 }).map((r) => r.id)).toEqual(['vm-4', 'vm-3']);
    store.transcriptFailed('vm-2', 'transcriber_failed: decoder gone');
    expect(store.closeInterrupted(9000)).toBe(4);
    expect(store.get('vm-2')).toMatchObject({
      status: 'left',
      endReason: 'interrupted',
      transcriptError: 'transcriber_failed: decoder gone',
    });
  });
});
