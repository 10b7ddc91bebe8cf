import type { DeskCallbackView } from '@parley/shared/protocol';
import { describe, expect, it } from 'vitest';
import { callbackPhaseText, callbackWhoText } from './callback-text.js';
import { LiveActivity } from './live-activity.js';

const view = (over: Partial<DeskCallbackView> = {}): DeskCallbackView => ({
  id: 'cb1',
  phase: 'calling',
  attempt: 1,
  outcome: null,
  code: null,
  destination: 'sales',
  listingId: null,
  advertiserName: 'Acme',
  page: '/plumbers',
  phone: '+14••••••123',
  key: null,
  keyAt: null,
  agentId: null,
  privateClaims: { name: 'Ada' },
  at: '2026-12-05T10:00:00.000Z',
  ...over,
});

describe('callback text', () => {
  it('says where the callback is', () => {
    expect(callbackPhaseText(view())).toBe('Calling the customer');
    expect(callbackPhaseText(view({ phase: 'ringing' }))).toBe("The customer's phone is ringing");
    expect(callbackPhaseText(view({ phase: 'prompting' }))).toBe(
      'The customer is hearing the prompt',
    );
    expect(callbackPhaseText(view({ phase: 'connecting', key: '1', agentId: 'agent1' }))).toBe(
      'Accepted (pressed 1): ringing agent1',
    );
    expect(callbackPhaseText(view({ phase: 'connected', key: '1', agentId: 'agent1' }))).toBe(
      'Connected to agent1',
    );
    expect(callbackPhaseText(view({ phase: 'ended', outcome: 'declined', key: '2' }))).toBe(
      'Ended: declined by the customer (pressed 2)',
    );
    expect(callbackPhaseText(view({ phase: 'ended', outcome: 'completed', key: '1' }))).toBe(
      'Ended: completed',
    );
    expect(callbackPhaseText(view({ phase: 'scheduled', outcome: 'busy' }))).toBe(
      'Will try again (the customer was busy)',
    );
    expect(callbackWhoText(view())).toBe('Ada · +14••••••123 · /plumbers');
  });

  it('LiveActivity keeps the latest phase of each callback, newest change last', () => {
    const live = new LiveActivity();
    live.callback(view({ id: 'a' }));
    live.callback(view({ id: 'b' }));
    live.callback(view({ id: 'a', phase: 'ringing', at: '2026-12-05T10:00:01.000Z' }));
    expect(live.callbacks.map((v) => `${v.id} ${v.phase}`)).toEqual(['b calling', 'a ringing']);
    expect(live.callback(view({ id: 'a', phase: 'calling' }))).toBe(false);
  });
});
