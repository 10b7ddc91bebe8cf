/**
 * Audio the gateway makes itself: the beep before a recording and the
 * built-in hold music (a tone, so that a test can find it at its frequency
 * in what the caller heard). 8 kHz, 16-bit, the rate every leg's codec takes.
 */
import type { Audio } from '../ports.js';

const RATE = 8000;
/** -12 dBFS: clearly audible, far from clipping after G.711. */
const AMPLITUDE = Math.round(32767 * 10 ** (-12 / 20));

function tone(frequencyHz: number, onMs: number, offMs: number): Int16Array {
  const on = Math.round((RATE * onMs) / 1000);
  const samples = new Int16Array(on + Math.round((RATE * offMs) / 1000));
  // 5 ms ramps: a tone switched on at full level clicks.
  const ramp = Math.min(40, Math.floor(on / 2));
  for (let i = 0; i < on; i += 1) {
    const envelope = Math.min(1, i / ramp, (on - 1 - i) / ramp);
    samples[i] = Math.round(
      AMPLITUDE * envelope * Math.sin((2 * Math.PI * frequencyHz * i) / RATE),
    );
  }
  return samples;
}

/** TwiML's beep: 1 kHz for 250 ms. */
export const BEEP: Audio = { kind: 'pcm', samples: tone(1000, 250, 0), sampleRate: RATE };

/** One period of the built-in hold music: the tone for 2 s, then 1 s of silence. */
export function holdTone(frequencyHz: number): Audio {
  return { kind: 'pcm', samples: tone(frequencyHz, 2000, 1000), sampleRate: RATE };
}
