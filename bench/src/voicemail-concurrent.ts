/**
 * Concurrent live voicemails per core (issue 11): N callers leave messages at
 * the same time, each speaking flite sentences in real time, while the
 * gateway records and transcribes every one of them and pushes the text to
 * the agent's desk. Per step: the CPU of the gateway process and of its
 * pocketsphinx decoder processes over the speaking window (both pinned to
 * CPU 0 when there are two: one core's worth), word spoken → on the desk
 * p50 / p95 (the issue's goal: p95 ≤ 1 s), words never shown, and the stored
 * voicemails with their transcripts.
 *
 * Callers (the tests' VoicemailCaller, PCMU paced by the wall clock), the
 * agent's phone (486 to the queue's ring, so voicemail answers) and the desk
 * socket run here, on CPU 1. Word times as in voicemail.ts: each sentence is
 * first transcribed here by the same recogniser to know where its words end.
 *
 *   node --import tsx bench/src/voicemail-concurrent.ts [--concurrent 1,2,4,6,8] [--sentences 3]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PortAllocator } from '@parley/testkit';
import { deskSocket } from '../../gateway/test/desk-socket.js';
import { VoicemailCaller } from '../../gateway/test/voicemail-caller.js';
import { API_KEY, REPO_ROOT, startBenchGateway } from './bench-gateway.js';
import { percentile } from './latency-stats.js';
import { gitCommit, machineLine } from './run-info.js';
import { readProcSample } from './proc-usage.js';
import { SENTENCES } from './speech/sentences.js';
import { align, words } from './speech/wer.js';
import { pinToSecondCpu, until as waitUntil } from './voicemail/harness.js';
import { AgentPhone } from './voicemail/agent-phone.js';
import { descendants } from './webrtc/measure.js';
import { wordEndsOf } from './voicemail/word-ends.js';

const { values } = parseArgs({
  options: {
    concurrent: { type: 'string', default: '1,2,4,6,8' },
    sentences: { type: 'string', default: '3' },
    quick: { type: 'boolean', default: false },
  },
});
const STEPS = (values.quick ? '1,2' : values.concurrent).split(',').map(Number);
const PER_CALLER = values.quick ? 1 : Number(values.sentences);
if (STEPS.some((n) => !Number.isInteger(n) || n < 1) || !(PER_CALLER >= 1))
  throw new Error('--concurrent takes counts (1,2,4), --sentences a count');
/** Silence between a caller's sentences (the recogniser ends an utterance on it). */
const GAP_MS = 1000;

const twoCpus = pinToSecondCpu();

const until = (check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> =>
  waitUntil(check, what, timeoutMs);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** CPU seconds so far of the gateway itself and of its child processes (the decoders). */
function cpuOf(pid: number): { gateway: number; children: number } {
  const own = readProcSample(pid)?.cpuSeconds ?? 0;
  let children = 0;
  for (const child of descendants(pid)) children += readProcSample(child)?.cpuSeconds ?? 0;
  return { gateway: own, children };
}

const work = await mkdtemp(join(tmpdir(), 'parley-bench-vm-n-'));
const ends = await wordEndsOf(new Set(SENTENCES));
const speech = new Map<string, Buffer>();
for (const text of SENTENCES) speech.set(text, await VoicemailCaller.speech(text));

const maxCallers = Math.max(...STEPS);
const ports = new PortAllocator();
const media = await ports.allocate(Math.max(64, maxCallers * 8), {
  protocols: ['udp'],
  even: true,
});
const phone = await AgentPhone.open();
const gw = await startBenchGateway({
  dir: work,
  ports,
  agentContact: phone.address,
  agents: 1,
  maxCallsPerAgent: maxCallers,
  media,
  ...(twoCpus ? { cpu: 0 } : {}),
  // Every step's decoders loaded once and kept (creating one costs ~250 ms of CPU): the steps
  // measure messages, not decoder start-up (a warm-up step below loads them).
  configExtra: { speech: { pocketsphinx: { idleDecoders: maxCallers } } },
  queueExtra: {
    maxAttempts: 1,
    voicemail: {
      greeting: { say: 'Please leave a message.' },
      silenceSeconds: 0,
      maxSeconds: 600,
    },
  },
});

/** One message being left: its desk text as it grows. */
interface Message {
  id: string;
  readonly finals: string[];
  partial: string;
  /** Reference word index → when the desk first showed it. */
  readonly seen: Map<number, number>;
  reference: string[];
}
const messages = new Map<string, Message>();
let started: ((id: string) => void) | undefined;

const desk = await deskSocket(gw.httpUrl, 'a0', 'bench-secret-0');
desk.ws.on('message', (data) => {
  const at = performance.now();
  const frame = JSON.parse(String(data)) as { type: string; [key: string]: unknown };
  if (frame.type === 'voicemail-started') {
    started?.(String((frame['voicemail'] as { id: string }).id));
    return;
  }
  const message = messages.get(String(frame['voicemailId']));
  if (!message) return;
  if (frame.type === 'voicemail-partial') message.partial = String(frame['text']);
  else if (frame.type === 'voicemail-final') {
    message.finals.push(String((frame['utterance'] as { text: string }).text));
    message.partial = '';
  } else return;
  const shown = words([...message.finals, message.partial].join(' '));
  align(message.reference, shown).matches.forEach((m, i) => {
    if (m !== undefined && !message.seen.has(i)) message.seen.set(i, at);
  });
});

interface StepResult {
  readonly callers: number;
  readonly seconds: number;
  readonly gatewayCpu: number;
  readonly decoderCpu: number;
  readonly wordMs: number[];
  readonly missed: number;
  readonly stored: number;
  readonly transcribed: number;
}

async function step(n: number, first: number, sentences = PER_CALLER): Promise<StepResult> {
  messages.clear();
  const callers: VoicemailCaller[] = [];
  const mine: Message[] = [];
  /** Each caller's sentences, in order. */
  const textsOf: string[][] = [];
  const { tokens } = await gw.issueTokens(n);
  try {
    // One after the other, so each voicemail-started is this caller's.
    for (const [i, token] of tokens.entries()) {
      const caller = await VoicemailCaller.open();
      callers.push(caller);
      const id = new Promise<string>((resolve) => (started = resolve));
      await caller.call(gw.sip, token);
      const texts = Array.from(
        { length: sentences },
        (_, k) => SENTENCES[(first + i * sentences + k) % SENTENCES.length]!,
      );
      const message: Message = {
        id: await id,
        finals: [],
        partial: '',
        seen: new Map(),
        reference: words(texts.join(' ')),
      };
      messages.set(message.id, message);
      mine.push(message);
      textsOf.push(texts);
    }
    started = undefined;
    // The greetings and beeps are over for everyone (the last one's lasts about 3 s).
    await sleep(4000);

    const spoken: { message: Message; index: number; at: number }[] = [];
    const from = performance.now();
    const cpuFrom = cpuOf(gw.pid);
    await Promise.all(
      callers.map(async (caller, i) => {
        const message = mine[i]!;
        let offset = 0;
        for (const text of textsOf[i] ?? []) {
          const before = caller.spokenFrom;
          caller.say(speech.get(text)!);
          await until(() => caller.spokenFrom > before, 'a sentence started');
          const t0 = caller.spokenFrom;
          const reference = words(text);
          for (const { word, endMs } of ends.get(text) ?? []) {
            const index = reference.indexOf(word);
            if (index >= 0) spoken.push({ message, index: offset + index, at: t0 + endMs });
          }
          offset += reference.length;
          await until(() => caller.queued === 0, 'a sentence sent');
          await sleep(GAP_MS);
        }
      }),
    );
    const to = performance.now();
    const cpuTo = cpuOf(gw.pid);
    // The last words' text (the recogniser's final after the last pause).
    await until(
      () => spoken.every((w) => w.message.seen.has(w.index)) || performance.now() - to > 15_000,
      'the last words on the desk',
      20_000,
    );
    const wordMs: number[] = [];
    let missed = 0;
    for (const w of spoken) {
      const shownAt = w.message.seen.get(w.index);
      if (shownAt === undefined) missed += 1;
      else wordMs.push(Math.max(0, shownAt - w.at));
    }
    for (const caller of callers) caller.hangUp(gw.sip);
    // The records: ended, and each with its transcript (the recogniser's flush).
    let stored = 0;
    let transcribed = 0;
    const deadline = performance.now() + 30_000;
    while (performance.now() < deadline) {
      const states = await Promise.all(
        mine.map(async (m) => {
          const res = await fetch(`${gw.httpUrl}/v1/voicemails/${m.id}`, {
            headers: { authorization: `Bearer ${API_KEY}` },
          });
          if (!res.ok) return { ended: false, transcript: false };
          const view = (await res.json()) as { status: string; transcript: string | null };
          return { ended: view.status !== 'recording', transcript: Boolean(view.transcript) };
        }),
      );
      stored = states.filter((s) => s.ended).length;
      transcribed = states.filter((s) => s.transcript).length;
      if (stored === n && transcribed === n) break;
      await sleep(250);
    }
    return {
      callers: n,
      seconds: (to - from) / 1000,
      gatewayCpu: cpuTo.gateway - cpuFrom.gateway,
      decoderCpu: cpuTo.children - cpuFrom.children,
      wordMs,
      missed,
      stored,
      transcribed,
    };
  } finally {
    started = undefined;
    for (const caller of callers) caller.close();
  }
}

const when = new Date().toISOString();
const results: StepResult[] = [];
// Warm-up, not reported: as many messages as the largest step, one sentence each.
await step(maxCallers, 0, 1);
await sleep(2000);
let first = 0;
for (const n of STEPS) {
  const result = await step(n, first);
  first += n * PER_CALLER;
  results.push(result);
  console.error(
    `${n} at once: gateway ${((result.gatewayCpu / result.seconds) * 100).toFixed(1)} %, decoders ${((result.decoderCpu / result.seconds) * 100).toFixed(1)} %, ${result.wordMs.length} words, ${result.missed} missed`,
  );
  // The calls' BYEs and the records' ends before the next step.
  await sleep(2000);
}

desk.ws.close();
await gw.stop();
phone.close();
media.release();
await rm(work, { recursive: true, force: true });

const commit = gitCommit(REPO_ROOT);
console.log(
  `### Concurrent live voicemails (${when}, commit ${commit}, ${machineLine()}, gateway and decoders ${twoCpus ? 'on CPU 0, callers on CPU 1' : 'not pinned'}, ${PER_CALLER} sentences per caller)`,
);
console.log('');
console.log(
  '| voicemails at once | speaking window | gateway CPU | decoders CPU | per voicemail | word → desk p50 | p95 | max | words not shown | ended / transcribed |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of results) {
  const sorted = [...r.wordMs].sort((a, b) => a - b);
  const pct = (cpu: number): string => `${((cpu / r.seconds) * 100).toFixed(1)} %`;
  const ms = (v: number | undefined): string => (v === undefined ? '-' : `${v.toFixed(0)} ms`);
  console.log(
    `| ${r.callers} | ${r.seconds.toFixed(1)} s | ${pct(r.gatewayCpu)} | ${pct(r.decoderCpu)} | ${pct((r.gatewayCpu + r.decoderCpu) / r.callers)} | ${ms(sorted.length ? percentile(sorted, 50) : undefined)} | ${ms(sorted.length ? percentile(sorted, 95) : undefined)} | ${ms(sorted.at(-1))} | ${r.missed} of ${r.missed + r.wordMs.length} | ${r.stored} / ${r.transcribed} of ${r.callers} |`,
  );
}
