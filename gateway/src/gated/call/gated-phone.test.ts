/**
 * The phone caller's side of a gated DID call on the flows' fake call (the
 * real call against sipp and baresip: gateway/test/gated-trunk*.test.ts):
 * which prompts it hears, which keys it is asked for, what the Gate decides.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Call } from '../../calls/index.js';
import type { Audio, Digit, SpeechSynthesizer } from '../../flows/index.js';
import { FakeCall } from '../../flows/testing/fake-call.js';
import { createLogger } from '../../observability/index.js';
import type { CallEnd } from '../../calls/call-record.js';
import { TENANT, createGatedWorld, gatedConfig, type GatedWorld } from '../testing/world.js';
import { GatedPhoneCall } from './gated-phone.js';

let world: GatedWorld;
beforeEach(async () => {
  world = await createGatedWorld({ [TENANT]: gatedConfig({ pin: { delayMs: 0 } }) });
  world.restart();
});
afterEach(() => world.close());

/** Speech that records what was said (the audio names the text). */
function speech(said: string[]): SpeechSynthesizer {
  return {
    synthesize(text): Promise<Audio> {
      said.push(text);
      return Promise.resolve({ kind: 'wav', data: new Uint8Array(0), name: text });
    },
  };
}

function phoneCall(from: string | null) {
  const port = new FakeCall({ context: { tenant: TENANT, from } });
  const ends: Partial<CallEnd>[] = [];
  const call = {
    id: port.context.callId,
    tenant: TENANT,
    get ending() {
      return ends.length > 0;
    },
    end: (end: Partial<CallEnd>) => ends.push(end),
  } as unknown as Call;
  const said: string[] = [];
  const phone = new GatedPhoneCall(
    {
      gate: world.gate,
      attempts: () => 3,
      logger: createLogger('silent'),
      keyTimeoutMs: { first: 50, next: 50 },
    },
    call,
    port,
    speech(said),
  );
  return { port, phone, said, ends };
}

describe('GatedPhoneCall', () => {
  it('asks which resident when the account may call several, and authorises the one keyed', async () => {
    world.device('cell-1');
    world.device('cell-2');
    await world.resident('r-1', { number: '1001', devices: ['cell-1'], pin: '1111' });
    await world.resident('r-2', { number: '1002', devices: ['cell-2'], pin: '2222' });
    await world.account('a-1', { phone: '+14155550123', approve: ['r-1', 'r-2'] });
    const { port, phone, said } = phoneCall('+14155550123');
    port.on('play', (play) => {
      if (play.audio.kind === 'wav' && play.audio.name.includes('number of the person'))
        port.press('1002#');
    });
    const decision = await phone.authorize();
    expect(decision?.allowed).toBe(true);
    expect(decision?.residentId).toBe('r-2');
    expect(said[0]).toBe(world.gate.prompt(TENANT, 'chooseResident'));
    expect(said.at(-1)).toBe(world.gate.prompt(TENANT, 'pleaseWait'));
  });

  it('a line that is one resident’s (the gate verb names them): the caller is not asked to choose', async () => {
    world.device('cell-1');
    world.device('cell-2');
    await world.resident('r-1', { number: '1001', devices: ['cell-1'], pin: '1111' });
    await world.resident('r-2', { number: '1002', devices: ['cell-2'], pin: '2222' });
    await world.account('a-3', { phone: '+14155550124', approve: ['r-1', 'r-2'] });
    const { phone, said } = phoneCall('+14155550124');
    const decision = await phone.authorize({ resident: '1002' });
    expect(decision?.allowed).toBe(true);
    expect(decision?.residentId).toBe('r-2');
    expect(said).toEqual([world.gate.prompt(TENANT, 'pleaseWait')]);
  });

  it('a caller who keys nothing hears the account prompt, then not-available, and the call ends', async () => {
    const { phone, said, ends } = phoneCall(null);
    // No key: the gather gives up after its first-key timeout (shortened here).
    expect(await phone.authorize()).toBeUndefined();
    expect(said).toEqual([
      world.gate.prompt(TENANT, 'enterAccountNumber'),
      world.gate.prompt(TENANT, 'notAvailable'),
    ]);
    expect(ends).toEqual([
      { outcome: 'failed', endedBy: 'gateway', reason: 'callee_not_available' },
    ]);
  });

  it('keys typed before the gate (during the flow’s greeting) are read first: no account prompt', async () => {
    world.device('cell-1');
    await world.resident('r-1', { devices: ['cell-1'], pin: '1111' });
    await world.account('a-2', { number: '7051', pin: '2580', approve: ['r-1'] });
    const { phone, said } = phoneCall('+14155550999');
    const decision = await phone.authorize({ typedAhead: [...'7051#2580#'] as Digit[] });
    expect(decision?.allowed).toBe(true);
    expect(decision?.accountId).toBe('a-2');
    expect(said).toEqual([world.gate.prompt(TENANT, 'pleaseWait')]);
  });

  it('types ahead: the account number and PIN keyed during the first prompt are read without asking again', async () => {
    world.device('cell-1');
    await world.resident('r-1', { devices: ['cell-1'], pin: '1111' });
    await world.account('a-2', { number: '7051', pin: '2580', approve: ['r-1'] });
    const { port, phone, said } = phoneCall('+14155550999');
    port.once('play', () => port.press('7051#2580#'));
    const decision = await phone.authorize();
    expect(decision?.allowed).toBe(true);
    expect(said).toEqual([
      world.gate.prompt(TENANT, 'enterAccountNumber'),
      world.gate.prompt(TENANT, 'pleaseWait'),
    ]);
  });
});
