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
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { PortAllocator } from '@parley/testkit';
import { createLogger } from '../../gateway/src/observability/index.js';
import { parseMessage, type SipRequest } from '../../gateway/src/sip/message/index.js';
import { PocketsphinxTranscriber } from '../../gateway/src/speech/index.js';
import { spoken } from '../../gateway/test/speech-audio.js';
import { VoicemailCaller } from '../../gateway/test/voicemail-caller.js';
import { API_KEY, REPO_ROOT, startBenchGateway } from './bench-gateway.js';
import { percentile } from './latency-stats.js';
import { which } from './sipp-pinning.js';
import { SENTENCES } from './speech/sentences.js';
import { align, words } from './speech/wer.js';

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
const MODEL = '/usr/share/pocketsphinx/model/en-us';
const AGENT_MARK = 0x55; // the agent phone's payload byte, so the caller knows its packets

const twoCpus = cpus().length >= 2 && which('taskset') !== undefined;
if (twoCpus) execFileSync('taskset', ['-pc', '1', String(process.pid)]);

/** Where each word of `text` ends in flite's audio (ms), for the words the recogniser got right. */
async function wordEnds(
  transcriber: PocketsphinxTranscriber,
  text: string,
): Promise<{ word: string; endMs: number }[]> {
  // Half a second of silence first, as the caller's line has before it speaks: without it
  // pocketsphinx misses the first words. Times are given from the sentence's start.
  const LEAD_MS = 500;
  const audio = await spoken(text, { rate: 8000, leadMs: LEAD_MS, trailMs: 800 });
  const stream = transcriber.open();
  const found: { word: string; endMs: number }[] = [];
  stream.on('final', (final) =>
    found.push(
      ...final.words.map((w) => ({ word: words(w.word)[0] ?? '', endMs: w.endMs - LEAD_MS })),
    ),
  );
  const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
  const piece = transcriber.sampleRate / 10;
  for (let i = 0; i < audio.samples.length; i += piece)
    stream.write(audio.samples.subarray(i, i + piece));
  stream.end();
  await closed;
  const reference = words(text);
  const matches = align(
    reference,
    found.map((f) => f.word),
  ).matches;
  return reference.flatMap((word, i) => {
    const m = matches[i];
    const at = m === undefined ? undefined : found[m];
    return at ? [{ word, endMs: at.endMs }] : [];
  });
}

/**
 * The agent's phone: busy (486) until `answering`, then answers an INVITE
 * with PCMU at once and sends RTP every 20 ms; notes when the INVITE came,
 * when it answered and the first packet that reached it.
 */
class AgentPhone {
  readonly sip: Socket;
  readonly rtp: Socket;
  answering = false;
  inviteAt = 0;
  answeredAt = 0;
  firstPacketAt = 0;
  #timer: NodeJS.Timeout | undefined;

  private constructor(sip: Socket, rtp: Socket) {
    this.sip = sip;
    this.rtp = rtp;
    sip.on('message', (data, from) => this.#onSip(data, from.port, from.address));
    rtp.on('message', () => {
      if (this.answeredAt && !this.firstPacketAt) this.firstPacketAt = performance.now();
    });
  }

  static async open(): Promise<AgentPhone> {
    const bind = async (): Promise<Socket> => {
      const socket = createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
      return socket;
    };
    return new AgentPhone(await bind(), await bind());
  }

  get address(): string {
    return `127.0.0.1:${this.sip.address().port}`;
  }

  reset(): void {
    this.answering = false;
    this.inviteAt = this.answeredAt = this.firstPacketAt = 0;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  close(): void {
    this.reset();
    this.sip.close();
    this.rtp.close();
  }

  #onSip(data: Buffer, port: number, host: string): void {
    let message;
    try {
      message = parseMessage(data);
    } catch {
      return;
    }
    if (message.type !== 'request') return;
    const reply = (status: string, extra: string[] = [], body = ''): void => {
      const text = response(message, status, this.address, extra, body);
      this.sip.send(Buffer.from(text), port, host);
    };
    if (message.method === 'INVITE') {
      if (!this.answering) return reply('486 Busy Here');
      if (this.inviteAt) return; // a retransmission: the 200 is on its way
      this.inviteAt = performance.now();
      const offer = message.body.toString();
      const mediaHost = /^c=IN IP4 (\S+)/m.exec(offer)?.[1] ?? '127.0.0.1';
      const mediaPort = Number(/^m=audio (\d+)/m.exec(offer)?.[1]);
      const sdp = [
        'v=0',
        'o=agent 1 1 IN IP4 127.0.0.1',
        's=-',
        'c=IN IP4 127.0.0.1',
        't=0 0',
        `m=audio ${this.rtp.address().port} RTP/AVP 0`,
        'a=rtpmap:0 PCMU/8000',
        'a=ptime:20',
        'a=sendrecv',
        '',
      ].join('\r\n');
      reply('200 OK', ['Content-Type: application/sdp'], sdp);
      this.answeredAt = performance.now();
      let seq = 0;
      this.#timer = setInterval(() => {
        const header = Buffer.alloc(12);
        header[0] = 0x80;
        header.writeUInt16BE(seq & 0xffff, 2);
        header.writeUInt32BE((seq * 160) >>> 0, 4);
        header.writeUInt32BE(0x0a6e7001, 8);
        seq += 1;
        this.rtp.send(Buffer.concat([header, Buffer.alloc(160, AGENT_MARK)]), mediaPort, mediaHost);
      }, 20);
    } else if (message.method === 'BYE' || message.method === 'CANCEL') reply('200 OK');
  }
}

function response(
  request: SipRequest,
  status: string,
  contact: string,
  extra: string[],
  body: string,
): string {
  const to = request.headers.get('to') ?? '';
  return [
    `SIP/2.0 ${status}`,
    ...request.headers.getLines('via').map((v) => `Via: ${v}`),
    `From: ${request.headers.get('from')}`,
    `To: ${/;tag=/.test(to) ? to : `${to};tag=agent-${Date.now()}`}`,
    `Call-ID: ${request.callId}`,
    `CSeq: ${request.headers.get('cseq')}`,
    `Contact: <sip:a0@${contact}>`,
    ...extra,
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

async function until(check: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const work = await mkdtemp(join(tmpdir(), 'parley-bench-vm-'));
const logger = createLogger('silent');
const reference = new PocketsphinxTranscriber({
  hmm: `${MODEL}/en-us`,
  dict: `${MODEL}/cmudict-en-us.dict`,
  lm: `${MODEL}/en-us.lm.bin`,
  processes: 1,
  maxStreams: 4,
  idleDecoders: 1,
  partialIntervalMs: 100,
  endSilenceMs: 500,
  maxUtteranceSeconds: 30,
  secondPass: true,
  startTimeoutMs: 60_000,
  endTimeoutMs: 60_000,
  logger,
});
const sentences = Array.from({ length: RUNS }, (_, i) => SENTENCES[i % SENTENCES.length]!);
const ends = new Map<string, { word: string; endMs: number }[]>();
for (const text of new Set(sentences)) ends.set(text, await wordEnds(reference, text));
await reference.close();

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

const login = await fetch(`${gw.httpUrl}/desk/api/login`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ username: 'a0', password: 'bench-secret-0' }),
});
if (!login.ok) throw new Error(`desk login: HTTP ${login.status}`);
const cookie = login.headers.get('set-cookie')?.split(';')[0] ?? '';
const desk = new WebSocket(`${gw.httpUrl.replace('http', 'ws')}/desk/api/events`, {
  headers: { cookie },
});
await new Promise((resolve, reject) => desk.once('open', resolve).once('error', reject));
type DeskFrame = { type: string; [key: string]: unknown };
let onFrame: (frame: DeskFrame, at: number) => void = () => undefined;
desk.on('message', (data) => onFrame(JSON.parse(String(data)) as DeskFrame, performance.now()));

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

desk.close();
await gw.stop();
phone.close();
media.release();
await rm(work, { recursive: true, force: true });

const row = (name: string, values: number[]): string => {
  const sorted = [...values].sort((a, b) => a - b);
  const f = (p: number): string => percentile(sorted, p).toFixed(0);
  return `| ${name} | ${sorted.length} | ${f(50)} ms | ${f(95)} ms | ${(sorted.at(-1) ?? NaN).toFixed(0)} ms |`;
};
const commit = ((): string => {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT })
      .toString()
      .trim();
  } catch {
    return 'unknown';
  }
})();
console.log(
  `### Live voicemail (${started}, commit ${commit}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(
      ' ',
    )}, gateway ${twoCpus ? 'on CPU 0, peers on CPU 1' : 'not pinned'}${NICE !== undefined ? `, nice ${NICE}` : ''}, ${RUNS} messages)`,
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
