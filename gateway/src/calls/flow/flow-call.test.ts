import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { DecodedPrompts, MediaApps } from '../../media/apps/index.js';
import type { Transcriber } from '../../speech/index.js';
import { parseUri } from '../../sip/index.js';
import type { Call } from '../call.js';
import type { TargetDialer } from './dial-targets.js';
import { CallFlow } from './flow-call.js';

type Channel = 'browser' | 'sip' | 'phone';

/** What `CallFlow` reads of a call, and how it was ended. */
function fakeCall(channel: Channel, state: 'offered' | 'answered' = 'offered') {
  const ends: { outcome: string; endedBy: string; reason: string; status?: number }[] = [];
  const call = Object.assign(new EventEmitter(), {
    id: 'call-1',
    ending: false,
    record: {
      tenant: 'acme',
      channel,
      queue: channel === 'phone' ? null : 'sales',
      sessionNumber: '+15550100',
      sessionId: 'web-1',
      customerId: 'c-9',
    },
    callerView: {
      trunk:
        channel === 'phone'
          ? { called: '+14155550144', callerNumber: '+14155550177', trunk: 'carrier' }
          : undefined,
      publicClaims: { plan: 'gold' },
      privateClaims: { crm: 'x' },
    },
    caller: {
      state,
      webrtc: channel === 'browser',
      invite: { from: { uri: parseUri('sip:visitor@example.com') } },
    },
    end(how: { outcome: string; endedBy: string; reason: string; status?: number }) {
      call.ending = true;
      ends.push(how);
      call.emit('ended');
    },
    sendToVisitor: () => true,
  });
  const flow = new CallFlow(
    call as unknown as Call,
    {
      apps: {} as MediaApps,
      prompts: {} as DecodedPrompts,
      transcriber: {} as Transcriber,
      dialer: {} as TargetDialer,
    },
    null,
  );
  return { call, flow, ends };
}

describe('CallFlow', () => {
  it('gives the flow the call’s context: a phone caller by its numbers, a visitor by its session', () => {
    expect(fakeCall('phone').flow.context).toMatchObject({
      callId: 'call-1',
      tenant: 'acme',
      channel: 'phone',
      direction: 'inbound',
      from: '+14155550177',
      to: '+14155550144',
      sessionNumber: null,
      sessionId: null,
    });
    expect(fakeCall('sip').flow.context).toMatchObject({
      channel: 'sip',
      from: 'sip:visitor@example.com',
      to: 'sales',
      queue: 'sales',
      sessionNumber: '+15550100',
      sessionId: 'web-1',
      customerId: 'c-9',
      publicClaims: { plan: 'gold' },
      privateClaims: { crm: 'x' },
      value: null,
    });
    const browser = fakeCall('browser').flow;
    expect(browser.context.from).toBeNull();
    // Only a browser visitor has a data channel for queue statuses.
    expect(browser.sendToVisitor).toBeTypeOf('function');
    expect(fakeCall('sip').flow.sendToVisitor).toBeUndefined();
  });

  it('hangs up before the answer with a refusal: busy 486, rejected or completed 603, an error code its own status', async () => {
    const statuses: Record<string, unknown> = {};
    for (const reason of ['busy', 'rejected', 'completed', 'outside_business_hours', 'odd']) {
      const { flow, ends } = fakeCall('sip');
      await flow.hangup(reason);
      statuses[reason] = [ends[0]?.outcome, ends[0]?.status];
      expect(ends[0]).toMatchObject({ endedBy: 'gateway', reason });
    }
    expect(statuses).toEqual({
      busy: ['busy', 486],
      rejected: ['failed', 603],
      completed: ['failed', 603],
      // The error registry's SIP status and a Reason header (call.end's own).
      outside_business_hours: ['failed', undefined],
      odd: ['failed', 603],
    });
  });

  it('hangs up an answered call with a BYE (no status), once; the flow sees the call end', async () => {
    const { flow, ends } = fakeCall('phone', 'answered');
    expect(flow.answered).toBe(true);
    expect(flow.ended.aborted).toBe(false);
    await flow.hangup('completed');
    await flow.hangup('completed');
    expect(ends).toEqual([
      { outcome: 'answered', endedBy: 'gateway', reason: 'completed', status: undefined },
    ]);
    expect(flow.ended.aborted).toBe(true);
  });

  it('a call already ending is over for the flow at once; voicemail without the module is unavailable', async () => {
    const { call, flow } = fakeCall('sip');
    call.ending = true;
    const late = new CallFlow(
      call as unknown as Call,
      {
        apps: {} as MediaApps,
        prompts: {} as DecodedPrompts,
        transcriber: {} as Transcriber,
        dialer: {} as TargetDialer,
      },
      null,
    );
    expect(late.ended.aborted).toBe(true);
    expect(await flow.voicemail({ queue: 'sales', cause: 'closed' })).toEqual({
      status: 'unavailable',
    });
  });
});
