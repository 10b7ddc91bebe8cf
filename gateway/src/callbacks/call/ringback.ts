/**
 * What the customer hears while the advertiser's phone rings: ringback in
 * the North American cadence (ITU-T E.180: 440 + 480 Hz, 2 s on, 4 s off),
 * made here rather than relayed, because the advertiser's leg may be an
 * agent's phone that sends no early media at all.
 */
import type { PcmSource } from '../../media/apps/index.js';

const RATE = 8000;
/** -16 dBFS each: the two together stay well clear of clipping after G.711. */
const AMPLITUDE = 32767 * 10 ** (-16 / 20);

function cadence(): Int16Array {
  const on = 2 * RATE;
  const samples = new Int16Array(6 * RATE);
  const ramp = 40; // 5 ms: no click at the edges
  for (let i = 0; i < on; i += 1) {
    const envelope = Math.min(1, i / ramp, (on - 1 - i) / ramp);
    const t = i / RATE;
    samples[i] = Math.round(
      AMPLITUDE * envelope * (Math.sin(2 * Math.PI * 440 * t) + Math.sin(2 * Math.PI * 480 * t)),
    );
  }
  return samples;
}

let period: Int16Array | undefined;

/** One period (6 s) of ringback; play it with `loop: true`. */
export function ringback(): PcmSource {
  period ??= cadence();
  const samples = period;
  return {
    name: 'ringback',
    sampleRate: RATE,
    async *chunks() {
      // Half a second per chunk: the player reads ahead about a second.
      for (let i = 0; i < samples.length; i += RATE / 2) yield samples.subarray(i, i + RATE / 2);
    },
  };
}
