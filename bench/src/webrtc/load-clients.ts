/**
 * The visitors of the concurrency benchmark, as a child process (pin it with
 * `taskset -c 1`): many calls in one Node process (to Parley: SipWsCall; to
 * Janus: JanusCall), driven by JSON lines on stdin, answering with JSON lines
 * on stdout.
 *
 *   → {"op":"call","id":7,"token":"…"}       ← {"ev":"call","id":7,"ok":true,"status":200,…}
 *   → {"op":"stats"}                          ← {"ev":"stats","calls":[{"id":7,"up":true,"inboundPackets":…}]}
 *   → {"op":"hangup"}                         ← {"ev":"hangup","calls":N,"confirmed":M}
 *   → {"op":"quit"}
 *
 * Settings come as one JSON argument: { target, client, wsUrl, origin, queue,
 * domain, calleeUri, sampleRate, toneHz, maxSetups }. With `client: "ndc"`
 * (libdatachannel) every call sends one pre-encoded PCMU packet per 20 ms tick
 * of one timer; with `"wrtc"` (libwebrtc) every call gets its own
 * RTCAudioSource, fed a 10 ms frame of the tone each 10 ms. Ticks missed by a
 * late timer are caught up, at most five at a time.
 */
import { createInterface } from 'node:readline';
import { JanusCall } from './janus-call.js';
import { NdcMediaPeer, WrtcMediaPeer, type MediaPeer } from './media-peer.js';
import { SipWsCall, type BenchCall, type CallSetup } from './sip-ws-call.js';
import { loadWrtc, type Wrtc, type WrtcAudioSource } from './wrtc.js';

interface Settings {
  /** The server: Parley (SIP over WebSocket) or Janus (its SIP plugin). */
  readonly target: 'parley' | 'janus';
  /** The WebRTC stack of the visitors. */
  readonly client: 'ndc' | 'wrtc';
  /** Janus only: the agent's SIP URI. */
  readonly calleeUri?: string;
  readonly wsUrl: string;
  readonly origin: string;
  readonly queue: string;
  readonly domain: string;
  readonly sampleRate: number;
  readonly toneHz: number;
  /** Setups in flight at once. */
  readonly maxSetups: number;
}

type Command =
  { op: 'call'; id: number; token: string } | { op: 'stats' } | { op: 'hangup' } | { op: 'quit' };

const settings = JSON.parse(process.argv[2] ?? '{}') as Settings;
const wrtc: Wrtc | undefined = settings.client === 'wrtc' ? loadWrtc() : undefined;
const emit = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(event)}\n`);
};

// wrtc: one 10 ms frame of the tone; a whole number of periods when toneHz divides 100·k, so frames join up.
const frameSamples = settings.sampleRate / 100;
const frame = new Int16Array(frameSamples);
for (let i = 0; i < frameSamples; i += 1)
  frame[i] = Math.round(
    0.3 * 32767 * Math.sin((2 * Math.PI * settings.toneHz * i) / settings.sampleRate),
  );

interface Visitor {
  readonly call: BenchCall;
  readonly peer: MediaPeer;
  readonly source: WrtcAudioSource | undefined;
}
const calls = new Map<number, Visitor>();
const tickMs = settings.client === 'ndc' ? 20 : 10;
const feedStart = performance.now();
let ticksFed = 0;
const feeder = setInterval(() => {
  const due = Math.floor((performance.now() - feedStart) / tickMs);
  const n = Math.min(5, due - ticksFed);
  ticksFed = due;
  for (const { call, peer, source } of calls.values()) {
    if (call.ended !== undefined) continue;
    for (let k = 0; k < n; k += 1) {
      if (peer instanceof NdcMediaPeer) {
        if (call.up) peer.tick();
      } else {
        source?.onData({
          samples: frame,
          sampleRate: settings.sampleRate,
          bitsPerSample: 16,
          channelCount: 1,
          numberOfFrames: frameSamples,
        });
      }
    }
  }
}, tickMs);

const queue: { id: number; token: string }[] = [];
let inFlight = 0;
function pump(): void {
  while (inFlight < settings.maxSetups && queue.length > 0) {
    const next = queue.shift();
    if (!next) break;
    inFlight += 1;
    void place(next.id, next.token).finally(() => {
      inFlight -= 1;
      pump();
    });
  }
}

async function place(id: number, token: string): Promise<void> {
  let source: WrtcAudioSource | undefined;
  let peer: MediaPeer;
  if (wrtc) {
    source = new wrtc.nonstandard.RTCAudioSource();
    peer = new WrtcMediaPeer(wrtc, source);
  } else {
    // Janus's SIP plugin refuses an offer with a data channel (448): its visitors have none.
    peer = new NdcMediaPeer({ dataChannel: settings.target !== 'janus' });
  }
  const call: BenchCall =
    settings.target === 'janus'
      ? new JanusCall({ peer, wsUrl: settings.wsUrl, calleeUri: settings.calleeUri ?? '' })
      : new SipWsCall({
          peer,
          wsUrl: settings.wsUrl,
          origin: settings.origin,
          token,
          queue: settings.queue,
          domain: settings.domain,
        });
  calls.set(id, { call, peer, source });
  const started = performance.now();
  let setup: CallSetup;
  try {
    setup = await call.start();
  } catch (error) {
    setup = {
      ok: false,
      callId: '',
      status: 0,
      reason: (error as Error).message,
      gatherMs: 0,
      wsMs: 0,
      inviteMs: 0,
    };
  }
  // A refused call is closed at once; its setup figures stay in the report.
  if (!setup.ok) call.close();
  emit({ ev: 'call', id, ...setup, totalMs: performance.now() - started });
}

async function stats(): Promise<void> {
  const out = await Promise.all(
    [...calls.entries()].map(async ([id, { call }]) => ({
      id,
      up: call.up,
      ended: call.ended,
      ...(await call.counters().catch(() => ({}))),
    })),
  );
  emit({ ev: 'stats', calls: out });
}

async function hangupAll(): Promise<void> {
  const list = [...calls.values()];
  const up = list.filter(({ call }) => call.up).length;
  const results = await Promise.all(list.map(({ call }) => call.hangup().catch(() => false)));
  calls.clear();
  emit({ ev: 'hangup', calls: up, confirmed: results.filter(Boolean).length });
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  if (!line.trim()) return;
  const command = JSON.parse(line) as Command;
  switch (command.op) {
    case 'call':
      queue.push({ id: command.id, token: command.token });
      pump();
      break;
    case 'stats':
      void stats();
      break;
    case 'hangup':
      void hangupAll();
      break;
    case 'quit':
      clearInterval(feeder);
      for (const { call } of calls.values()) call.close();
      // libwebrtc's threads can keep the process alive (and have crashed on exit when torn down from JS): leave at once.
      setTimeout(() => process.exit(0), 200);
      break;
  }
});
lines.on('close', () => process.exit(0));
emit({ ev: 'ready', pid: process.pid });
