import { describe, expect, it } from 'vitest';
import type { VoicemailView } from '@parley/shared/protocol';
import { VoicemailBoard, parseVoicemailEvent } from './voicemail-board.js';

const view = (id: string, extra: Partial<VoicemailView> = {}): VoicemailView => ({
  id,
  callId: `call-${id}`,
  tenant: 't',
  queue: 'sales',
  agent: null,
  cause: 'no-answer',
  status: 'recording',
  sessionNumber: '+15550100',
  sessionId: 's',
  origin: '',
  page: null,
  publicClaims: {},
  createdAt: `2026-12-05T10:00:0${id}.000Z`,
  endedAt: null,
  durationMs: 0,
  endReason: null,
  transcript: null,
  utterances: [],
  transcriptError: null,
  takenBy: null,
  takenAt: null,
  heardAt: null,
  heardBy: null,
  hasRecording: true,
  ...extra,
});

describe('VoicemailBoard', () => {
  it('grows the live text: a partial replaces the previous one, a final is kept', () => {
    const board = new VoicemailBoard();
    board.apply({ type: 'voicemail-started', voicemail: view('1') });
    board.apply({ type: 'voicemail-partial', voicemailId: '1', utterance: 0, text: 'please' });
    board.apply({ type: 'voicemail-partial', voicemailId: '1', utterance: 0, text: 'please call' });
    expect(board.get('1')).toMatchObject({ finals: [], partial: 'please call' });
    board.apply({
      type: 'voicemail-final',
      voicemailId: '1',
      utterance: { utterance: 0, text: 'please call me', startMs: 0, endMs: 900 },
    });
    expect(board.get('1')).toMatchObject({ finals: ['please call me'], partial: '' });
    board.apply({ type: 'voicemail-ended', voicemail: view('1', { status: 'left' }) });
    expect(board.get('1')?.voicemail.status).toBe('left');
    // The ended view had no utterances yet: the text that came live stays.
    expect(board.get('1')?.finals).toEqual(['please call me']);
  });

  it('ignores frames of voicemails it does not know, lists newest first', () => {
    const board = new VoicemailBoard();
    expect(
      board.apply({ type: 'voicemail-partial', voicemailId: 'x', utterance: 0, text: 'a' }),
    ).toBe(false);
    board.load([view('1'), view('3'), view('2')]);
    expect(board.items.map((i) => i.voicemail.id)).toEqual(['3', '2', '1']);
  });

  it('keeps the typed lines the list gave when a frame comes; forgets a deleted voicemail', () => {
    const board = new VoicemailBoard();
    const typed = [{ at: '2026-12-05T10:00:05.000Z', text: 'call me at noon' }];
    board.load([view('1', { typed }), view('2')]);
    board.apply({ type: 'voicemail-ended', voicemail: view('1', { status: 'left' }) });
    expect(board.get('1')?.voicemail).toMatchObject({ status: 'left', typed });
    const more = { at: '2026-12-05T10:00:06.000Z', text: 'or tomorrow' };
    expect(
      parseVoicemailEvent(
        JSON.stringify({ type: 'voicemail-typed', voicemailId: '1', typed: more }),
      ),
    ).toMatchObject({ typed: more });
    board.apply({ type: 'voicemail-typed', voicemailId: '1', typed: more });
    expect(board.get('1')?.voicemail.typed).toEqual([...typed, more]);
    // An answer without typed lines (the take's, "mark heard"'s) keeps them too.
    board.load([view('1', { status: 'left', heardAt: '2026-12-05T10:01:00.000Z' })]);
    expect(board.get('1')?.voicemail).toMatchObject({ heardAt: '2026-12-05T10:01:00.000Z' });
    expect(board.get('1')?.voicemail.typed).toEqual([...typed, more]);
    board.remove('2');
    expect(board.items.map((i) => i.voicemail.id)).toEqual(['1']);
  });

  it('follows a voicemail marked heard or deleted on another desk (frames, no reload)', () => {
    const board = new VoicemailBoard();
    board.load([view('1', { status: 'left' }), view('2', { status: 'left' })]);
    const heard = parseVoicemailEvent(
      JSON.stringify({
        type: 'voicemail-heard',
        voicemailId: '1',
        heardAt: '2026-12-05T10:02:00.000Z',
        heardBy: 'bob',
      }),
    );
    expect(heard).toBeDefined();
    expect(board.apply(heard!)).toBe(true);
    expect(board.get('1')?.voicemail).toMatchObject({
      heardAt: '2026-12-05T10:02:00.000Z',
      heardBy: 'bob',
    });
    // The first mark stays: a later frame changes nothing.
    expect(
      board.apply({
        type: 'voicemail-heard',
        voicemailId: '1',
        heardAt: '2026-12-05T10:03:00.000Z',
        heardBy: 'carol',
      }),
    ).toBe(false);
    expect(board.get('1')?.voicemail.heardBy).toBe('bob');
    const deleted = parseVoicemailEvent('{"type":"voicemail-deleted","voicemailId":"2"}');
    expect(board.apply(deleted!)).toBe(true);
    expect(board.items.map((i) => i.voicemail.id)).toEqual(['1']);
    expect(board.apply({ type: 'voicemail-deleted', voicemailId: '2' })).toBe(false);
    expect(parseVoicemailEvent('{"type":"voicemail-heard","voicemailId":"1"}')).toBeUndefined();
    expect(parseVoicemailEvent('{"type":"voicemail-deleted"}')).toBeUndefined();
  });

  it('parses only well-formed voicemail frames', () => {
    expect(parseVoicemailEvent('{"type":"presence"}')).toBeUndefined();
    expect(parseVoicemailEvent('not json')).toBeUndefined();
    expect(parseVoicemailEvent(42)).toBeUndefined();
    expect(parseVoicemailEvent('{"type":"voicemail-partial","voicemailId":1}')).toBeUndefined();
    expect(
      parseVoicemailEvent(JSON.stringify({ type: 'voicemail-started', voicemail: view('1') })),
    ).toMatchObject({ type: 'voicemail-started' });
    expect(
      parseVoicemailEvent(
        '{"type":"voicemail-partial","voicemailId":"1","utterance":0,"text":"a"}',
      ),
    ).toMatchObject({ text: 'a' });
  });
});
