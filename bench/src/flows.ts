/**
 * The flow runner's own cost (issue 10, item 4): what it adds per verb on top
 * of the media and speech behind it, and from a key press to the next verb.
 * The call is an in-memory port whose prompts end at once (the media and TTS
 * costs are the media-apps and speech benchmarks'), so what is measured is
 * the runner: verb dispatch, the events, the record.
 *
 *   node --import tsx bench/src/flows.ts [--runs 300] [--keys 3000]
 */
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { FlowEvent } from '../../shared/src/protocol/index.js';
import {
  FLOW_SCHEMA,
  FlowCatalog,
  FlowRunner,
  PromptLoader,
  SqliteFlowEventStore,
  parseVerbs,
  type Audio,
  type Digit,
  type FlowCall,
  type FlowEventSink,
  type Verb,
} from '../../gateway/src/flows/index.js';
import { configSource } from '../../gateway/src/flows/sources/source.js';
import { fakeContext } from '../../gateway/src/flows/testing/fake-call.js';
import { createLogger } from '../../gateway/src/observability/index.js';
import { openDatabase } from '../../gateway/src/storage/index.js';
import { percentile, summarize } from './latency-stats.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '300' },
    keys: { type: 'string', default: '3000' },
  },
});
const RUNS = Number(values.runs);
const KEYS = Number(values.keys);

const AUDIO: Audio = { kind: 'pcm', samples: new Int16Array(160), sampleRate: 8000 };

/** A call whose media costs nothing: prompts end at once, keys come when the bench presses them. */
class InstantCall implements FlowCall {
  readonly context = fakeContext();
  readonly #ended = new AbortController();
  readonly #digits = new Set<(d: Digit) => void>();
  answered = false;
  onPlay: (() => void) | undefined;
  get ended(): AbortSignal {
    return this.#ended.signal;
  }
  answer(): Promise<void> {
    this.answered = true;
    return Promise.resolve();
  }
  play(): Promise<void> {
    this.onPlay?.();
    return Promise.resolve();
  }
  onDigit(listener: (d: Digit) => void): () => void {
    this.#digits.add(listener);
    return () => this.#digits.delete(listener);
  }
  press(d: Digit): void {
    for (const l of this.#digits) l(d);
  }
  startRecording(): never {
    throw new Error('not in this bench');
  }
  startTranscription(): never {
    throw new Error('not in this bench');
  }
  dial(): Promise<never> {
    return Promise.reject(new Error('not in this bench'));
  }
  hangup(): Promise<void> {
    this.#ended.abort();
    return Promise.resolve();
  }
}

const verbs = (list: unknown[]): Verb[] => {
  const parsed = parseVerbs(list);
  if (!parsed.ok) throw new Error(parsed.detail);
  return parsed.verbs;
};

function runner(flows: Record<string, Verb[]>, sink: FlowEventSink): FlowRunner {
  return new FlowRunner({
    catalog: new FlowCatalog(Object.entries(flows).map(([n, v]) => configSource(n, v))),
    speech: { synthesize: () => Promise.resolve(AUDIO) }, // a TTS cache hit
    prompts: new PromptLoader({
      dirs: [],
      urls: [],
      fetchTimeoutMs: 1000,
      maxBytes: 1e6,
      cacheSeconds: 60,
    }),
    recordingsDir: tmpdir(),
    sink,
    logger: createLogger('silent'),
  });
}

// 100 verbs: say, pause 0, an interruptible say and a gather that gets the key that stopped it.
const hundred = verbs(
  Array.from({ length: 25 }, () => [
    { verb: 'say', text: 'Welcome to Acme.' },
    { verb: 'pause', length: 0 },
    { verb: 'say', text: 'Press 1.', interruptible: true },
    { verb: 'gather', numDigits: 1, timeout: 60 },
  ]).flat(),
);

async function perVerb(
  sink: FlowEventSink,
): Promise<{ usPerVerb: number; cpuUsPerVerb: number; eventsPerVerb: number }> {
  const r = runner({ main: hundred }, sink);
  let events = 0;
  let verbsRun = 0;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < RUNS; i += 1) {
    const call = new InstantCall();
    // Each gather finds its key: pressed when its prompt (the interruptible say) plays.
    call.onPlay = () => queueMicrotask(() => call.press('1'));
    const outcome = await r.run(call, 'main');
    events += outcome.events;
    verbsRun += hundred.length;
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    usPerVerb: (ms * 1000) / verbsRun,
    // CPU time: what the runner costs, whatever else the machine is doing.
    cpuUsPerVerb: (cpu.user + cpu.system) / verbsRun,
    eventsPerVerb: events / verbsRun,
  };
}

async function keyToNextVerb(): Promise<ReturnType<typeof summarize> & { p95Ms: number }> {
  const samples: number[] = [];
  const call = new InstantCall();
  let pressedAt = 0;
  const waitingForKey = (): void => {
    pressedAt = performance.now();
    call.press('5');
  };
  const sink: FlowEventSink = {
    event(e: FlowEvent) {
      // The gather is waiting once its start has run: press on the next turn.
      if (e.type === 'verb.start' && e.verb === 'gather') setImmediate(waitingForKey);
    },
  };
  const r = runner(
    {
      menu: verbs([
        { verb: 'gather', numDigits: 1, timeout: 60 },
        { verb: 'say', text: 'You pressed a key.' },
        { verb: 'redirect', flow: 'menu' },
      ]),
    },
    sink,
  );
  call.onPlay = () => {
    samples.push(performance.now() - pressedAt);
    if (samples.length >= KEYS) call.hangup();
  };
  await r.run(call, 'menu');
  return {
    ...summarize(samples),
    p95Ms: percentile(
      [...samples].sort((a, b) => a - b),
      95,
    ),
  };
}

const dir = mkdtempSync(join(tmpdir(), 'parley-bench-flows-'));
const store = new SqliteFlowEventStore(openDatabase(join(dir, 'bench.sqlite'), [FLOW_SCHEMA]));
const noop: FlowEventSink = { event: () => undefined };

await perVerb(noop); // warm-up
const bare = await perVerb(noop);
const stored = await perVerb(store);
const key = await keyToNextVerb();
const f = (v: number) => v.toFixed(1);
process.stdout.write(
  `load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} on ${cpus().length} CPUs\n` +
    `flow runner (${RUNS} runs of 100 verbs: say, pause 0, interruptible say, gather)\n` +
    `  per verb, events to a no-op sink:     ${f(bare.cpuUsPerVerb)} µs CPU, ${f(bare.usPerVerb)} µs wall (${bare.eventsPerVerb.toFixed(2)} events per verb)\n` +
    `  per verb, events stored in SQLite:    ${f(stored.cpuUsPerVerb)} µs CPU, ${f(stored.usPerVerb)} µs wall\n` +
    `key press → next verb's audio starts (${KEYS} keys): p50 ${(key.p50Ms * 1000).toFixed(0)} µs, p95 ${(key.p95Ms * 1000).toFixed(0)} µs, p99 ${(key.p99Ms * 1000).toFixed(0)} µs, max ${(key.maxMs * 1000).toFixed(0)} µs\n`,
);
