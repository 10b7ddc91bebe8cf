/**
 * Live voicemail (issue 11): a word spoken by the caller → the partial text
 * showing it on the agent's desk (the desk's events WebSocket, as the desk
 * page gets it), and "Take the call" → audio both ways.
 *
 * The gateway runs as its own process (bench-gateway.ts), pinned to CPU 0
 * when there are two; the caller (our SIP client sending a flite sentence as
 * PCMU in real time, the tests' VoicemailCaller), the agent's phone (a raw
 * UDP SIP phone: busy for the queue's ring, so voicemail answers, then it
 * answers the take-over INVITE at once and sends RTP) and the desk socket
 * run here. Each run: call → greeting → sentence → wait for its final text →
 * the sentence again, and a second into it (mid-utterance) take → first
 * packet each way → hang up.
 *
 * Word times: each sentence is first transcribed here, fast, by the same
 * recogniser (pocketsphinx, narrowband audio as G.711 carries it) to know
 * where each word ends in the audio; a word's delay is from the moment the
 * caller sent the audio up to that word's end to the first desk frame whose
 * text (finals so far + partial) holds it.
 *
 *   node --import tsx bench/src/voicemail.ts [--runs 12] [--quick] [--nice=-10]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PortAllocator } from '@parley/testkit';
import { deskSocket } from '../../gateway/test/desk-socket.js';
import { VoicemailCaller } from '../../gateway/test/voicemail-caller.js';
import { API_KEY, REPO_ROOT, startBenchGateway } from './bench-gateway.js';
import { percentile } from './latency-stats.js';
import { gitCommit, machineLine } from './run-info.js';
import { SENTENCES } from './speech/sentences.js';
import { align, words } from './speech/wer.js';
import { AGENT_MARK, AgentPhone } from './voicemail/agent-phone.js';
import { pinToSecondCpu, until as waitUntil } from './voicemail/harness.js';
import { wordEndsOf } from './voicemail/word-ends.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '12' },
    quick: { type: 'boolean', default: false },
    nice: { type: 'string' },
  },
});
/** `--nice N`: the gateway and its decoders (and this process) at that priority, to approximate cores of their own on a shared machine. */
const NICE = values.nice === undefined ? undefined : Number(values.nice);
if (NICE !== undefined) setPriority(process.pid, NICE);
const RUNS = values.quick ? 3 : Number(values.runs);

const twoCpus = pinToSecondCpu();

const until = (check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> =>
  waitUntil(check, what, timeoutMs);

const work = await mkdtemp(join(tmpdir(), 'parley-bench-vm-'));
const sentences = Array.from({ length: RUNS }, (_, i) => SENTENCES[i % SENTENCES.length]!);
const ends = await wordEndsOf(new Set(sentences));

const ports = new PortAllocator();
const media = await ports.allocate(64, { protocols: ['udp'], even: true });
const phone = await AgentPhone.open();
const gw = await startBenchGateway({
  dir: work,
  ports,
  agentContact: phone.address,
  agents: 1,
  maxCallsPerAgent: 1,
  media,
  ...(twoCpus ? { cpu: 0 } : {}),
  ...(NICE !== undefined ? { nice: NICE } : {}),
  queueExtra: {
    maxAttempts: 1,
    voicemail: {
      greeting: { say: 'Please leave a message.' },
      // The take ends each message: silence must not end it first.
      silenceSeconds: 0,
      maxSeconds: 120,
    },
  },
});

const desk = await deskSocket(gw.httpUrl, 'a0', 'bench-secret-0');
type DeskFrame = { type: string; [key: string]: unknown };
let onFrame: (frame: DeskFrame, at: number) => void = () => undefined;
desk.ws.on('message', (data) => onFrame(JSON.parse(String(data)) as DeskFrame, performance.now()));

const wordMs: number[] = [];
const onlyFinal: number[] = [];
const inviteMs: number[] = [];
const toAgentMs: number[] = [];
const toCallerMs: number[] = [];
const takeMs: number[] = [];
let missed = 0;
const started = new Date().toISOString();

for (const [run, text] of sentences.entries()) {
  phone.reset();
  const caller = await VoicemailCaller.open();
  const speech = await VoicemailCaller.speech(text);
  const wordsOf = ends.get(text) ?? [];
  let voicemailId = '';
  const finals: string[] = [];
  let partial = '';
  let finalSeen = false;
  const seen = new Map<number, { at: number; byPartial: boolean }>();
  onFrame = (frame, at) => {
    if (frame.type === 'voicemail-started') {
      voicemailId = String((frame['voicemail'] as { id: string }).id);
      return;
    }
    if (frame.type === 'voicemail-partial' && frame['voicemailId'] === voicemailId)
      partial = String(frame['text']);
    else if (frame.type === 'voicemail-final' && frame['voicemailId'] === voicemailId) {
      finals.push(String((frame['utterance'] as { text: string }).text));
      partial = '';
      finalSeen = true;
    } else return;
    const shown = words([...finals, partial].join(' '));
    align(words(text), shown).matches.forEach((m, i) => {
      if (m !== undefined && !seen.has(i))
        seen.set(i, { at, byPartial: frame.type === 'voicemail-partial' });
    });
  };
  let agentFirstAt = 0;
  caller.onHeard = (payload, at) => {
    if (!agentFirstAt && phone.answeredAt && payload[0] === AGENT_MARK) agentFirstAt = at;
  };
  try {
    const { tokens } = await gw.issueTokens(1);
    await caller.call(gw.sip, tokens[0]!);
    await until(() => voicemailId !== '', 'voicemail-started at the desk');
    caller.say(speech);
    await until(() => caller.queued === 0 && finalSeen, 'the sentence and its final text');
    const t0 = caller.spokenFrom;
    const reference = words(text);
    for (const { word, endMs } of wordsOf) {
      const index = reference.indexOf(word);
      const shown = seen.get(index);
      if (!shown) {
        missed += 1;
        continue;
      }
      wordMs.push(Math.max(0, shown.at - (t0 + endMs)));
      if (!shown.byPartial) onlyFinal.push(1);
    }
    // The take comes mid-utterance, as it would while the caller speaks: the sentence again,
    // the agent presses "Take the call" a second into it.
    const before = caller.spokenFrom;
    caller.say(speech);
    await until(() => caller.spokenFrom > before, 'the second sentence started');
    await until(() => performance.now() - caller.spokenFrom >= 1000, 'a second of it');
    phone.answering = true;
    const takeAt = performance.now();
    const taken = await fetch(`${gw.httpUrl}/v1/voicemails/${voicemailId}/take`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ agentId: 'a0' }),
    });
    if (!taken.ok) throw new Error(`take: HTTP ${taken.status} ${await taken.text()}`);
    await until(() => phone.firstPacketAt > 0 && agentFirstAt > 0, 'audio both ways');
    inviteMs.push(phone.inviteAt - takeAt);
    toAgentMs.push(phone.firstPacketAt - phone.answeredAt);
    toCallerMs.push(agentFirstAt - phone.answeredAt);
    takeMs.push(Math.max(phone.firstPacketAt, agentFirstAt) - takeAt);
    caller.hangUp(gw.sip);
    console.error(`run ${run + 1}/${RUNS}: ${text}`);
  } finally {
    caller.close();
    // The gateway's BYE to the phone and the end of the call record.
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

desk.ws.close();
await gw.stop();
phone.close();
media.release();
await rm(work, { recursive: true, force: true });

const row = (name: string, values: number[]): string => {
  const sorted = [...values].sort((a, b) => a - b);
  const f = (p: number): string => percentile(sorted, p).toFixed(0);
  return `| ${name} | ${sorted.length} | ${f(50)} ms | ${f(95)} ms | ${(sorted.at(-1) ?? NaN).toFixed(0)} ms |`;
};
const commit = gitCommit(REPO_ROOT);
console.log(
  `### Live voicemail (${started}, commit ${commit}, ${machineLine()}, gateway ${twoCpus ? 'on CPU 0, peers on CPU 1' : 'not pinned'}${NICE !== undefined ? `, nice ${NICE}` : ''}, ${RUNS} messages)`,
);
console.log('');
console.log('| measure | samples | p50 | p95 | max |');
console.log('|---|---|---|---|---|');
console.log(row('word spoken → on the desk (partial or final)', wordMs));
console.log(row('take (POST) → INVITE at the agent’s phone', inviteMs));
console.log(row('agent’s 200 OK → first caller packet at the agent', toAgentMs));
console.log(row('agent’s 200 OK → first agent packet at the caller', toCallerMs));
console.log(row('take (POST) → audio both ways (agent answers at once)', takeMs));
console.log('');
console.log(
  `Words first shown by a final rather than a partial: ${onlyFinal.length} of ${wordMs.length}; words the reference recognised but the desk never showed: ${missed}.`,
);
