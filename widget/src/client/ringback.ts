/**
 * The ringback tone, made with WebAudio (no audio file to fetch or allow in a
 * CSP): 440 + 480 Hz, 2 s on, 4 s off, the North American cadence most people
 * know from films and phones.
 */
export interface Tone {
  start(): void;
  stop(): void;
}

const FREQUENCIES = [440, 480];
const ON_SECONDS = 2;
const PERIOD_SECONDS = 6;
const LEVEL = 0.08;
/** A short ramp: a tone switched on in one sample clicks. */
const RAMP_SECONDS = 0.02;

export function createRingback(createContext: () => AudioContext = () => new AudioContext()): Tone {
  let context: AudioContext | undefined;
  let timer: ReturnType<typeof setInterval> | undefined;
  return {
    start() {
      if (context) return;
      try {
        context = createContext();
      } catch {
        return; // no WebAudio: the status text still says "Ringing"
      }
      const ctx = context;
      const gain = ctx.createGain();
      gain.gain.value = 0;
      gain.connect(ctx.destination);
      for (const frequency of FREQUENCIES) {
        const oscillator = ctx.createOscillator();
        oscillator.frequency.value = frequency;
        oscillator.connect(gain);
        oscillator.start();
      }
      const ring = (): void => {
        const t = ctx.currentTime;
        gain.gain.cancelScheduledValues(t);
        gain.gain.setValueAtTime(0, t);
        gain.gain.linearRampToValueAtTime(LEVEL, t + RAMP_SECONDS);
        gain.gain.setValueAtTime(LEVEL, t + ON_SECONDS);
        gain.gain.linearRampToValueAtTime(0, t + ON_SECONDS + RAMP_SECONDS);
      };
      // Created after awaits, the context may start suspended (autoplay policy);
      // the click that started the call allows resuming it.
      ctx.resume().then(ring, () => undefined);
      timer = setInterval(ring, PERIOD_SECONDS * 1000);
    },
    stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      const ctx = context;
      context = undefined;
      ctx?.close().catch(() => undefined);
    },
  };
}
