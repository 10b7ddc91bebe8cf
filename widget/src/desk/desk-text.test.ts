import { describe, expect, it } from 'vitest';
import type { StoredMessage } from '@parley/shared/protocol';
import { DeskApiError } from './desk-api-error.js';
import {
  agentStateText,
  callerName,
  customerRows,
  describeMessage,
  formatScore,
  latestPage,
  outcomeText,
  pageRows,
  phoneStatusText,
  previousCallText,
  ringAnnouncement,
  signInErrorText,
  talkMs,
  valueRows,
  wrapUpRemainingMs,
} from './desk-text.js';
import { agent, context } from './testing/fakes.js';

const NOW = Date.parse('2025-01-01T10:00:00.000Z');

describe('agent state', () => {
  it('says the state plainly, with the wrap-up countdown', () => {
    expect(agentStateText(agent(), NOW)).toBe('Available');
    expect(agentStateText(agent({ state: 'busy' }), NOW)).toBe('On a call');
    expect(agentStateText(agent({ state: 'offline', registered: false }), NOW)).toBe(
      'Offline: no phone registered',
    );
    const wrapUp = agent({ state: 'wrap-up', wrapUpUntil: '2025-01-01T10:00:25.000Z' });
    expect(wrapUpRemainingMs(wrapUp, NOW)).toBe(25_000);
    expect(agentStateText(wrapUp, NOW)).toBe('Wrap-up, 0:25 left');
    expect(agentStateText(wrapUp, NOW + 24_500)).toBe('Wrap-up, 0:01 left');
    expect(agentStateText(wrapUp, NOW + 60_000)).toBe('Wrap-up, 0:00 left');
    expect(wrapUpRemainingMs(agent(), NOW)).toBeUndefined();
  });

  it('describes the softphone', () => {
    expect(phoneStatusText(false, { status: 'off' })).toMatch(/SIP phone/);
    expect(phoneStatusText(true, { status: 'registered' })).toMatch(/ring in this browser/);
    expect(
      phoneStatusText(true, { status: 'failed', reason: 'the gateway refused the password (401)' }),
    ).toBe('Not registered: the gateway refused the password (401).');
  });
});

describe('sign-in errors', () => {
  const error = (status: number, code: string, retry?: string) =>
    DeskApiError.fromResponse(status, { error: { code, message: code } }, retry ?? null);

  it('tells wrong credentials, rate limits and an unreachable gateway apart', () => {
    expect(signInErrorText(error(401, 'unauthorized'))).toBe('Wrong username or password.');
    expect(signInErrorText(error(429, 'rate_limited', '30'))).toBe(
      'Too many sign-in attempts. Please try again in 30 seconds.',
    );
    expect(signInErrorText(error(429, 'rate_limited'))).toMatch(/wait a moment/);
    expect(signInErrorText(DeskApiError.network(new TypeError('fetch failed')))).toMatch(
      /cannot be reached/,
    );
  });
});

describe('the call context', () => {
  it('names the caller and announces the ring', () => {
    expect(callerName(context('c1'))).toBe('Ada Lovelace');
    expect(callerName(context('c1', { privateClaims: { customerId: 'C-9' } }))).toBe('C-9');
    expect(callerName(context('c1', { privateClaims: {} }))).toBe('+15550100');
    expect(ringAnnouncement(context('c1'))).toBe(
      'Incoming call on sales from Ada Lovelace, +15550100.',
    );
  });

  it('lists the private claims, well-known ones first and labelled', () => {
    const rows = customerRows(
      context('c1', {
        privateClaims: {
          orderNumber: 'A-17',
          tier: 'gold',
          name: 'Ada',
          cart: { items: 2 },
          phone: '+1555',
        },
      }),
    );
    expect(rows).toEqual([
      { label: 'Name', value: 'Ada' },
      { label: 'Tier', value: 'gold' },
      { label: 'Phone', value: '+1555' },
      { label: 'Order number', value: 'A-17' },
      { label: 'Cart', value: '{"items":2}' },
    ]);
  });

  it('shows the site and the latest page', () => {
    const page = {
      type: 'navigation' as const,
      id: 'n',
      at: 'x',
      url: 'https://shop.acme.test/cart',
      title: 'Cart',
    };
    expect(pageRows(context('c1'), page)).toEqual([
      { label: 'Site', value: 'https://shop.acme.test' },
      { label: 'On page', value: 'Cart (https://shop.acme.test/cart)' },
      { label: 'Queue', value: 'sales' },
    ]);
  });

  it('shows the value, the scores behind it and marks a provider fallback', () => {
    const rows = valueRows(context('c1').routing!);
    expect(rows).toEqual([
      { label: 'Value', value: '42.5 (high)' },
      { label: 'Benefit', value: '50 (12 ms)', warning: false },
      { label: 'Burden', value: '7.5 (default used: timeout)', warning: true },
      { label: 'History', value: '3 calls (2 answered), 14 min, 1 repeat contact in 30 days' },
      { label: 'Terms', value: 'benefit 50, burden -7.5' },
      { label: 'Algorithm', value: 'weighted@1', warning: false },
      { label: 'Candidates', value: '1. agent1 (gold, idle 0:01)' },
    ]);
    const failed = valueRows({
      ...context('c1').routing!,
      algorithm: { name: 'custom', version: '2', error: 'threw' },
    });
    expect(failed.find((r) => r.label === 'Algorithm')).toEqual({
      label: 'Algorithm',
      value: 'custom@2 (failed: threw)',
      warning: true,
    });
    expect(formatScore(1 / 3)).toBe('0.33');
  });

  describe('the candidates of the routing decision', () => {
    const routing = {
      ...context('c1').routing!,
      candidates: [
        { agentId: 'senior1', agentTier: 'senior', rank: 0, idleMs: 125_000 },
        { agentId: 'junior1', agentTier: 'junior', rank: 1, idleMs: 40_000 },
        { agentId: 'pbx', agentTier: null, rank: 1, idleMs: 0, recentHandleSeconds: null },
      ],
    };
    const candidates = (
      decision: typeof routing,
      answeredBy?: string,
    ): { label: string; value: string; warning?: boolean } | undefined =>
      valueRows(decision, { answeredBy }).find((r) => r.label.startsWith('Candidates'));

    it('lists who was considered, in ringing order, with tier and idle time', () => {
      expect(candidates(routing)).toEqual({
        label: 'Candidates',
        value: '1. senior1 (senior, idle 2:05), 2. junior1 (junior, idle 0:40), 3. pbx (idle 0:00)',
      });
    });

    it('marks who answered', () => {
      expect(candidates(routing, 'junior1')?.value).toBe(
        '1. senior1 (senior, idle 2:05), 2. junior1 (junior, idle 0:40, answered), 3. pbx (idle 0:00)',
      );
    });

    it('names an agent who answered without being on the list (free only later)', () => {
      expect(
        candidates({ ...routing, candidates: routing.candidates.slice(0, 1) }, 'late1'),
      ).toEqual({
        label: 'Candidates',
        value: '1. senior1 (senior, idle 2:05); answered by late1',
      });
    });

    it('says when the value band had no agent, as a warning', () => {
      expect(candidates({ ...routing, tier: 'vip', candidates: [] })).toEqual({
        label: 'Candidates',
        value: 'No agent available for the vip band',
        warning: true,
      });
    });

    it('says when several ring at once', () => {
      expect(candidates({ ...routing, strategy: 'simultaneous' }, 'senior1')).toEqual({
        label: 'Candidates (several ring at once)',
        value:
          '1. senior1 (senior, idle 2:05, answered), 2. junior1 (junior, idle 0:40), 3. pbx (idle 0:00)',
      });
    });

    it('leaves the row out for a decision from a gateway that sent no candidate list', () => {
      const old = { ...routing, candidates: undefined as unknown as typeof routing.candidates };
      expect(candidates(old)).toBeUndefined();
      expect(valueRows(old).at(-1)?.label).toBe('Algorithm');
    });
  });

  it('describes previous calls and outcomes', () => {
    expect(previousCallText(context('c1').previousCalls[0]!)).toBe('Answered with agent2, 1:35');
    expect(outcomeText('no_answer')).toBe('Not answered');
    expect(outcomeText('answered', 'normal_clearing')).toBe('Answered (normal clearing)');
    expect(outcomeText(null)).toBe('In progress');
    expect(talkMs({ answeredAt: '2025-01-01T10:00:00Z', endedAt: '2025-01-01T10:01:05Z' })).toBe(
      65_000,
    );
    expect(talkMs({ answeredAt: null, endedAt: '2025-01-01T10:01:05Z' })).toBeUndefined();
  });
});

describe('messages', () => {
  const stored = (
    seq: number,
    from: 'visitor' | 'agent',
    message: StoredMessage['message'],
  ): StoredMessage => ({
    seq,
    from,
    receivedAt: 'x',
    message,
  });

  it('turns each message type into a chat log line', () => {
    expect(
      describeMessage(stored(1, 'visitor', { type: 'chat', id: 'a', at: 'x', text: 'hi' })),
    ).toEqual({
      from: 'visitor',
      text: 'hi',
    });
    expect(
      describeMessage(
        stored(2, 'visitor', {
          type: 'form',
          id: 'b',
          at: 'x',
          form: 'order',
          fields: { no: '17' },
        }),
      ),
    ).toEqual({ from: 'event', text: 'Form "order": no: 17' });
    expect(
      describeMessage(
        stored(3, 'visitor', { type: 'custom', id: 'c', at: 'x', name: 'cart', data: [1] }),
      ),
    ).toEqual({ from: 'event', text: 'cart: [1]' });
  });

  it('finds the latest page among the visitor’s navigation messages', () => {
    const nav = (seq: number, url: string) =>
      stored(seq, 'visitor', { type: 'navigation', id: `n${seq}`, at: 'x', url });
    expect(
      latestPage([
        nav(4, '/b'),
        nav(2, '/a'),
        stored(5, 'agent', { type: 'navigation', id: 'z', at: 'x', url: '/agent' }),
      ]),
    ).toMatchObject({
      url: '/b',
    });
    expect(latestPage([])).toBeUndefined();
  });
});
