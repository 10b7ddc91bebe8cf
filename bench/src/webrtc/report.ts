/**
 * The WebRTC bench's report: the markdown section for docs/benchmarks.md
 * (call setup in Chromium, concurrent calls per system, widget bytes, errors)
 * from what the phases measured.
 */
import { REPO_ROOT } from '../bench-gateway.js';
import { gatewayEntryArgs } from '../gateway-build.js';
import { comparison } from './compare.js';
import type { ConcurrencyResult } from './concurrent-types.js';
import { loadAverage, mb, ms, type Machine, type Summary } from './measure.js';
import type { WidgetBytes } from './widget-bytes.js';
import type { WidgetSetupResult } from './widget-setup.js';

export interface WebrtcRun {
  readonly host: Machine;
  readonly quick: boolean;
  readonly inNetns: boolean;
  readonly opt: {
    readonly calls: number;
    readonly answerDelayMs: number;
    readonly pollMs: number;
    readonly gatewayCpu: number;
    readonly sampleRate: number;
    readonly ramp: number;
    readonly holdSeconds: number;
  };
  readonly setup: WidgetSetupResult | undefined;
  readonly concurrent: readonly ConcurrencyResult[];
  readonly bytes: WidgetBytes | undefined;
  readonly errors: readonly string[];
}

/** The report's lines. */
export function report({
  host,
  quick,
  inNetns,
  opt,
  setup,
  concurrent,
  bytes,
  errors,
}: WebrtcRun): string[] {
  const date = host.date.slice(0, 10);
  const out: string[] = [];
  const row = (cells: readonly (string | number)[]): string => `| ${cells.join(' | ')} |`;
  const sumRow = (label: string, s: Summary): string =>
    row([label, s.n, ms(s.p50), ms(s.p95), ms(s.max)]);

  out.push(
    '## WebRTC: call setup, concurrent calls per core (Parley on mediasoup and on its relay engine, and Janus), widget bytes — `./scripts/in-netns.sh node --import tsx bench/src/webrtc.ts`',
    '',
  );
  out.push(
    `${date}, ${host.cpu}, ${host.cores} CPUs (nproc), ${host.memGiB} GiB, Node ${host.node.replace(/^v/, '')}, load average ${host.loadAverage} at the start and ${loadAverage()} at the end (a shared machine: expect ±20 %)${quick ? '; **--quick run**' : ''}${inNetns ? '; in the private network namespace of scripts/in-netns.sh' : ''}.`,
    '',
  );

  if (setup) {
    out.push('### Call setup in Chromium (real widget, demo company page, baresip agent)', '');
    out.push(
      `Debian's Chromium (headless, fake 700 Hz microphone) opens the demo company page in a fresh context for every call (first-time visitor: the lazy call stack, a token from the company's endpoint, the microphone, the WebSocket and the INVITE all happen after the click). The agent is baresip (Opus and PCMU, answer mode manual), told to answer ${opt.answerDelayMs} ms after it rings. The gateway runs ${setup.gateway}. One warm-up call first, not counted; then ${opt.calls} calls one at a time.`,
      '',
    );
    out.push(row(['measure', 'calls', 'p50 ms', 'p95 ms', 'max ms']), '|---|---|---|---|---|');
    out.push(sumRow('click → agent ringing (CALL_INCOMING)', setup.clickToRinging));
    out.push(
      sumRow(
        `agent answers → first inbound RTP at the page (getStats poll)`,
        setup.acceptToFirstAudio,
      ),
    );
    if (setup.acceptToUnmute.n > 0)
      out.push(
        sumRow(
          'agent answers → remote track unmute in the page (cross-check)',
          setup.acceptToUnmute,
        ),
      );
    out.push('');
    if (Object.keys(setup.breakdown).length) {
      out.push(
        'Where the time goes (page events stamped with Date.now() by an init script; steps in order):',
        '',
      );
      out.push(row(['step', 'calls', 'p50 ms', 'p95 ms', 'max ms']), '|---|---|---|---|---|');
      for (const [k, s] of Object.entries(setup.breakdown)) out.push(sumRow(k, s));
      out.push('');
    }
    const codecs = [...new Set(setup.calls.map((c) => c.codec ?? '?'))].join(', ');
    out.push(
      `- Resolution of "first audio": the audio receiver's getStats() (inbound-rtp packetsReceived) polled from the bench with page.evaluate every ${opt.pollMs} ms; the polls actually came every ${ms(setup.pollPeriodMs)} ms on average (evaluate + getStats round trip), so the poll figure is late by up to that. "Answer" is when the bench sends \`accept\` over baresip's control socket; the unmute figure compares the page's Date.now() with the bench's (same clock, 1 ms).`,
      `- Codec of the calls: ${codecs}.${setup.warmUp ? ` Warm-up call (cold gateway and browser): click → ringing ${ms(setup.warmUp.clickToRingingMs)} ms, answer → audio ${ms(setup.warmUp.acceptToFirstAudioMs)} ms.` : ''}`,
    );
    if (setup.failures.length)
      out.push(`- Failed calls: ${setup.failures.length} (${setup.failures.join('; ')}).`);
    out.push('');
  }

  if (concurrent.length > 1) out.push(...comparison(concurrent));
  for (const c of concurrent) {
    out.push(`### Concurrent bridged calls on one core: ${c.system}`, '');
    const what =
      c.system === 'janus'
        ? `Janus (Debian's janus ${'1.1'}, its SIP plugin, ICE-lite, WebSocket transport; \`taskset -c ${opt.gatewayCpu} janus …\`)`
        : `The gateway as its own process (\`taskset -c ${opt.gatewayCpu} node ${(c.gatewayNodeArgs ?? []).map((a) => `${a} `).join('')}${gatewayEntryArgs(c.gatewayRuntime === 'tsx' ? 'tsx' : 'dist', REPO_ROOT).join(' ')} --config …\`: ${c.gatewayRuntime === 'tsx' ? 'its sources through tsx' : 'the compiled build'}, log level warn, SQLite on disk), media engine ${c.system === 'parley-mediasoup' ? 'mediasoup (its worker a child process on the same CPU, counted with it)' : 'relay (werift)'}`;
    const clients =
      c.client === 'wrtc'
        ? `@roamhq/wrtc (libwebrtc: an RTCAudioSource fed a 1 kHz tone in 10 ms frames at ${opt.sampleRate / 1000} kHz)`
        : 'libdatachannel (node-datachannel: a pre-encoded 1 kHz PCMU packet every 20 ms, no audio engine)';
    out.push(
      `${what}, alone on ${c.gatewayPinned.split(' (')[0]}. Visitors: Node WebRTC clients (${clients}, a \`parley\` data channel), each on its own WebSocket${c.system === 'janus' ? '' : ' with a fresh call token'}, in one child process; agents: one sipp UAS (\`uas-answer-pcmu-echo\`, RTP echo)${c.system === 'janus' ? '' : ` behind ${c.agents} static agent contacts × ${c.maxCallsPerAgent} calls`}. Clients, sipp and the bench share ${c.clientsPinned.split(' (')[0]}. Calls are placed at ${opt.ramp}/s up to each step, then held ${opt.holdSeconds} s while the system's utime+stime (/proc/<pid>/stat, with its children) and RSS are read every second. Audio path of every call: client → server (SRTP) → plain RTP → sipp echo → server → client; "audio" counts the calls whose inbound packets grew during the hold. Per-call figures are above idle (idle: ${c.idle.cpuPercent.toFixed(1)} % CPU, ${mb(c.idle.rssBytes)} MB RSS, after one warm-up call). Before the run, CPU ${opt.gatewayCpu} was ${c.gatewayCoreBusyBeforePercent.toFixed(0)} % busy with other work; the "on its core" column shows what other tasks, interrupts and the hypervisor took from it during each hold.`,
      '',
    );
    out.push(
      row([
        'calls (step)',
        'up',
        'failed setups',
        'INVITE→200 p50 / p95 ms, client',
        'INVITE→200 p50 / p95 ms, gateway record',
        '200→DTLS connected p50 / p95 ms, client',
        '200→first audio p50 / p95 ms, client',
        'gateway CPU % of one core',
        'peak 1 s %',
        'on its core: other tasks / irq / steal %',
        'RSS MB',
        'CPU % per call',
        'RSS MB per call',
        'audio flowing',
        'RTP in / out per call, pkt/s',
        'load clients / sipp CPU %, their core busy %',
        'UDP drops: gateway / others',
      ]),
      '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    );
    for (const s of c.steps) {
      const fails = s.failed
        ? `${s.failed} (${Object.entries(s.failures)
            .map(([k, v]) => `${v}× ${k}`)
            .join(', ')})`
        : '0';
      out.push(
        row([
          s.target,
          s.up,
          fails,
          `${ms(s.inviteMs.p50)} / ${ms(s.inviteMs.p95)}`,
          s.gatewaySide
            ? `${ms(s.gatewaySide.setupMs.p50)} / ${ms(s.gatewaySide.setupMs.p95)}`
            : '–',
          `${ms(s.dtlsMs.p50)} / ${ms(s.dtlsMs.p95)}`,
          `${ms(s.firstAudioMs.p50)} / ${ms(s.firstAudioMs.p95)}`,
          s.gatewayCpuPercent.toFixed(1),
          s.gatewayPeakCpuPercent.toFixed(0),
          [
            s.othersOnGatewayCorePercent,
            s.interruptsOnGatewayCorePercent,
            s.stealOnGatewayCorePercent,
          ]
            .map((x) => (Number.isFinite(x) ? x.toFixed(0) : '–'))
            .join(' / '),
          mb(s.rssBytes),
          s.cpuPercentPerCall.toFixed(2),
          (s.rssBytesPerCall / 2 ** 20).toFixed(2),
          `${s.audioFlowing}/${s.up}${s.droppedDuringHold ? ` (${s.droppedDuringHold} dropped)` : ''}`,
          `${s.inboundPacketsPerSecond.toFixed(1)} / ${s.outboundPacketsPerSecond.toFixed(1)}`,
          `${s.clientsCpuPercent.toFixed(0)} / ${s.sippCpuPercent.toFixed(0)}, ${s.clientCoreBusyPercent.toFixed(0)}${s.loadGeneratorSaturated ? ' (saturated)' : ''}`,
          `${s.udpDropsGateway} / ${s.udpDropsOthers}`,
        ]),
      );
    }
    out.push('');
    const codecs = [...new Set(c.steps.flatMap((s) => Object.keys(s.codecs)))].join(', ');
    out.push(
      `- Codec: ${codecs} (sipp answers PCMU only; the gateway does not transcode, so the browser leg is PCMU too).`,
      `- Teardown: ${c.teardown.hungUp} calls hung up with BYE (${c.teardown.byeConfirmed} confirmed with 200); the gateway was at ${
        Object.entries(c.teardown.gaugesAfter)
          .filter(([k]) => /calls_active|media_routers|sip_dialogs/.test(k))
          .map(([k, v]) => `${k.replace('parley_', '')} ${v}`)
          .join(', ') || '?'
      } ${c.teardown.seconds.toFixed(1)} s later, RSS ${mb(c.teardown.rssAfterBytes)} MB.`,
      `- Memory the calls left behind: the V8 heap in use after a full GC (HeapProfiler.collectGarbage through the inspector) was ${mb(c.idle.liveHeapBytes)} MB after the warm-up call and ${mb(c.teardown.liveHeapBytes)} MB once every call had ended (${((c.teardown.liveHeapBytes - c.idle.liveHeapBytes) / 2 ** 10).toFixed(0)} KB more), ${mb(c.teardown.liveHeapLaterBytes)} MB 40 s later, after every SIP timer (${((c.teardown.liveHeapLaterBytes - c.idle.liveHeapBytes) / 2 ** 10).toFixed(0)} KB more than idle). RSS does not fall back with it: V8 and glibc keep the pages they grew into for the next calls.`,
    );
    for (const s of c.steps) {
      const g = s.gatewaySide;
      if (!g) continue;
      out.push(
        `- Step ${s.target} at the gateway (its call records, p50 / p95 ms): admission (token, routing, media) ${ms(g.admitMs.p50)} / ${ms(g.admitMs.p95)}, INVITE to the agent → 180 ${ms(g.agentRingMs.p50)} / ${ms(g.agentRingMs.p95)}, 180 → 200 to the visitor (the browser's answer) ${ms(g.answerMs.p50)} / ${ms(g.answerMs.p95)}, of which 180 → the agent's 200 (the agent's) ${ms(g.agentAnswerMs.p50)} / ${ms(g.agentAnswerMs.p95)} and the agent's 200 → 200 to the visitor (the gateway's) ${ms(g.bridgeMs.p50)} / ${ms(g.bridgeMs.p95)}; the gateway's own share of INVITE → 200 (admission + its answer) ${ms(g.ownMs.p50)} / ${ms(g.ownMs.p95)}; RTP over the calls' lifetime (mediasoup: as of the last read of its counters, every 5 s): ${g.packets.fromVisitors} from the visitors, ${g.packets.toAgent} to the agent, ${g.packets.fromAgent} echoed back, ${g.packets.toVisitors} to the visitors${
          Object.keys(g.failures).length
            ? `; failed calls: ${Object.entries(g.failures)
                .map(([k, v]) => `${v}× ${k}`)
                .join('; ')}`
            : ''
        }${g.unknown ? `; ${g.unknown} calls unknown to the gateway` : ''}.`,
      );
    }
    if (c.stoppedEarly) out.push(`- Stopped early: ${c.stoppedEarly}.`);
    if (c.cpuProfile) {
      out.push(
        `- Where the gateway's CPU went over the whole run (\`node --cpu-prof\`, ${c.cpuProfile.busySeconds.toFixed(1)} s busy; self time): ${c.cpuProfile.areas
          .slice(0, 8)
          .map((a) => `${a.name} ${a.percent.toFixed(1)} %`)
          .join(', ')}. Top functions: ${c.cpuProfile.functions
          .slice(0, 8)
          .map((f) => `\`${f.name}\` ${f.percent.toFixed(1)} %`)
          .join(', ')}.`,
      );
    }
    if (c.gatewayWarnings.length)
      out.push(
        `- The gateway logged ${c.gatewayWarnings.length} warning/error lines; first: \`${c.gatewayWarnings[0]?.slice(0, 200)}\`.`,
      );
    out.push('');
  }

  if (bytes) {
    out.push('### Widget bytes', '');
    out.push(
      `widget/dist as built (${bytes.builtAt.slice(0, 16).replace('T', ' ')} UTC); gzip level 9, brotli quality 11.`,
      '',
    );
    out.push(row(['file', 'loaded', 'min kB', 'gzip kB', 'brotli kB']), '|---|---|---|---|---|');
    for (const f of bytes.files)
      out.push(
        row([
          f.file.replace(/-[A-Za-z0-9_-]{8}\.js$/, '-<hash>.js'),
          f.role,
          (f.minBytes / 1000).toFixed(1),
          (f.gzipBytes / 1000).toFixed(1),
          (f.brotliBytes / 1000).toFixed(1),
        ]),
      );
    out.push('');
  }
  if (errors.length) out.push('### Errors', '', ...errors.map((e) => `- ${e.split('\n')[0]}`), '');
  return out;
}
