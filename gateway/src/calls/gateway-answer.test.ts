import { describe, expect, it } from 'vitest';
import type { CallRecordKeeper } from './call-record.js';
import { GatewayAnswer } from './gateway-answer.js';
import type { InboundLeg } from './inbound-leg.js';
import { silent } from './test-peers.js';

/** The caller's leg as GatewayAnswer sees it: its state and the provisional answers it was sent. */
function callerLeg() {
  const sent: number[] = [];
  const leg = {
    state: 'ringing' as string,
    ended: false,
    // The codec the caller's leg is held to (so no offer need be read).
    fixedCodec: {
      codec: { name: 'PCMU', clockRate: 8000, channels: 1, payloadType: 0 },
      telephoneEvent: undefined,
    },
    answerWith: (_codec: unknown, how: string) => {
      leg.state = how === 'answer' ? 'answered' : 'early';
      return Promise.resolve(true);
    },
    earlyMedia: (status: number) => sent.push(status),
    answer: () => {
      leg.state = 'answered';
    },
  };
  return { leg, sent };
}

const keeper = { legsAnswered: () => undefined, save: () => undefined };

/** A GatewayAnswer over a fake caller's leg, and the provisional answers that leg was sent. */
function answered() {
  const { leg, sent } = callerLeg();
  const answer = new GatewayAnswer(
    leg as unknown as InboundLeg,
    keeper as unknown as CallRecordKeeper,
    () => undefined,
    silent,
  );
  return { answer, sent };
}

describe('GatewayAnswer (answered early in a 180 with SDP)', () => {
  it('bridges the early media of a second agent after the first failed: 183 once, ringback kept', async () => {
    const { answer, sent } = answered();
    expect(await answer.answer({ codec: 'PCMU', early: true, ringing: true })).toBe(true);
    expect(answer.ringback).toBe(true);
    answer.agentEarlyMedia(); // the first agent's carrier tone
    expect(sent).toEqual([183]);
    // That agent failed; the next one's early media must still be bridged.
    expect(answer.ringback).toBe(true);
    answer.agentEarlyMedia();
    expect(sent).toEqual([183]);
  });

  it('bridges no agent’s early media once the gateway’s own media was heard', async () => {
    const { answer, sent } = answered();
    await answer.answer({ codec: 'PCMU', early: true, ringing: true });
    await answer.answer({ codec: 'PCMU', early: true }); // queue music starts
    expect(sent).toEqual([183]);
    expect(answer.ringback).toBe(false);
    answer.agentEarlyMedia();
    expect(sent).toEqual([183]);
  });
});
