/**
 * The B2BUA on one core: sipp (a fresh call token in every INVITE) → gateway
 * → sipp UAS answering for every agent.
 *
 * - setup rate: signalling-only short calls, the offered rate stepped up until
 *   calls fail or INVITE→200 p99 passes --max-p99-ms; the highest clean step;
 * - latency added: INVITE→200 as sipp measures it (rtd), p50/p99/max, through
 *   the gateway and straight to the UAS, at a moderate rate;
 * - held calls: --concurrent calls held open, signalling only and with RTP both
 *   ways through the relay (the UAS echoes), gateway CPU and RSS in the steady state.
 *
 * The gateway runs as its own process (`node --import tsx gateway/src/main.ts`)
 * pinned with taskset to --gateway-cpu; every sipp to --sipp-cpu. Progress goes
 * to stderr, a Markdown section for docs/benchmarks.md to stdout, the JSON to
 * bench/results/b2bua-<date>.json.
 *
 * INVITE→200 also comes from the wire (tshark on lo) in the latency phase:
 * sipp's own figure moves in 4 ms steps. `--cpu-prof` runs the gateway with
 * `node --cpu-prof` and reports where its CPU went.
 *
 *   pnpm bench b2bua [--quick] [--rates 50,100,200] [--step-seconds 10] [--phases latency,concurrent,rate,idle] [--idle-seconds 60]
 *                    [--cpu-prof] [--no-wire] [--keep] [--timeout 900]
 */
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { execFileSync } from 'node:child_process';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  PortAllocator,
  bundledScenario,
  runSipp,
  spawnManaged,
  startSipp,
  stopAll,
  type PortBlock,
  type ScenarioFile,
  type SippInstance,
  type SippResult,
} from '@parley/testkit';
import {
  QUEUE,
  REPO_ROOT,
  heapSnapshotArgs,
  startBenchGateway,
  takeHeapSnapshot,
  type BenchGateway,
} from './bench-gateway.js';
import { summarizeCpuProfile } from './cpu-profile.js';
import { summarize } from './latency-stats.js';
import { ProcSampler, udpDrops, type UsageWindow } from './proc-usage.js';
import { startSipCapture } from './sip-capture.js';
import { pinSipp, which } from './sipp-pinning.js';
import { describeRun, markdown } from './b2bua/report.js';
import type {
  B2buaOptions,
  FailureSummary,
  GatewaySnapshot,
  HeldResult,
  IdleResult,
  LatencyResult,
  Machine,
  RateResult,
  Results,
  RunResult,
} from './b2bua/results.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rates: { type: 'string' },
    'step-seconds': { type: 'string' },
    'call-ms': { type: 'string' },
    'latency-rate': { type: 'string' },
    'latency-seconds': { type: 'string' },
    concurrent: { type: 'string' },
    'hold-seconds': { type: 'string' },
    agents: { type: 'string' },
    'gateway-cpu': { type: 'string', default: '0' },
    'sipp-cpu': { type: 'string', default: '1' },
    'max-p99-ms': { type: 'string', default: '1000' },
    retries: { type: 'string' },
    'noisy-wait': { type: 'string' },
    phases: { type: 'string', default: 'latency,concurrent,rate,idle' },
    timeout: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'cpu-prof': { type: 'boolean', default: false },
    'no-wire': { type: 'boolean', default: false },
    'idle-seconds': { type: 'string' },
    'heap-snapshot': { type: 'boolean', default: false },
  },
});

const QUICK = values.quick === true;
const num = (text: string | undefined, fallback: number): number => {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new Error(`not a number: ${text}`);
  return n;
};
const OPT: B2buaOptions = {
  rates: (values.rates ?? (QUICK ? '50,100' : '50,100,150,200,300,400'))
    .split(',')
    .map((r) => num(r, 0)),
  stepSeconds: num(values['step-seconds'], QUICK ? 3 : 10),
  callMs: num(values['call-ms'], QUICK ? 500 : 1000),
  latencyRate: num(values['latency-rate'], 50),
  latencySeconds: num(values['latency-seconds'], QUICK ? 3 : 10),
  concurrent: num(values.concurrent, 50),
  holdSeconds: num(values['hold-seconds'], QUICK ? 6 : 20),
  agents: num(values.agents, 100),
  gatewayCpu: num(values['gateway-cpu'], 0),
  sippCpu: num(values['sipp-cpu'], 1),
  maxP99Ms: num(values['max-p99-ms'], 1000),
  /** A failing step is run again (this many times) when the gateway waited for its CPU more than noisyWaitPercent. */
  retries: num(values.retries, 1),
  noisyWaitPercent: num(values['noisy-wait'], 10),
  phases: new Set((values.phases ?? '').split(',').map((p) => p.trim())),
  timeoutSeconds: num(values.timeout, QUICK ? 240 : 900),
  /** After the load: how long to watch the idle gateway give back what the calls held. */
  idleSeconds: num(values['idle-seconds'], QUICK ? 10 : 60),
};
const MAX_CALLS_PER_AGENT = 10;
const NORTP: ScenarioFile = { file: join(REPO_ROOT, 'bench/scenarios/uac-bearer-nortp.xml') };

const progress = (line: string): void =>
  void process.stderr.write(`[b2bua ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (n: number, digits = 1): number =>
  Number.isFinite(n) ? Number(n.toFixed(digits)) : n;
const mb = (bytes: number): number => round(bytes / 1024 / 1024, 1);

// ---------------------------------------------------------------- state

const machine: Machine = {
  nproc: availableParallelism(),
  model:
    /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ??
    'unknown',
  node: process.version,
  date: new Date().toISOString(),
  loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
  git: gitState(),
};

/** The commit measured, and whether gateway/ or shared/ had uncommitted changes. */
function gitState(): string {
  try {
    const git = (...args: string[]) =>
      execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    const dirty = git('status', '--porcelain', '--', 'gateway', 'shared')
      .split('\n')
      .filter(Boolean).length;
    return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ` + ${dirty} uncommitted files in gateway/ or shared/` : ''}`;
  } catch {
    return 'unknown';
  }
}
const tmp = mkdtempSync(join(tmpdir(), 'parley-bench-b2bua-'));
const resultsDir = join(REPO_ROOT, 'bench/results');
const stamp = machine.date.slice(0, 19).replace(/:/g, '-');
const profileDir = join(resultsDir, `b2bua-${stamp}-cpuprofile`);
const snapshotDir = join(resultsDir, `b2bua-${stamp}-heap`);
const ports = new PortAllocator();
const sqlite3 = which('sqlite3');
let gateway: BenchGateway | undefined;
let sampler: ProcSampler | undefined;
let uas: SippInstance | undefined;
let mediaBlock: PortBlock | undefined;
let phaseWarnings: Record<string, number> = {};
let gatewaySpawnedAt = 0;
let stopping = false;
let gatewayDied: string | undefined;
let profileSkipSeconds = 0;
const gatewayErrors: string[] = [];

function onGatewayLine(line: string): void {
  let entry: { level?: number; msg?: string; reason?: string } | undefined;
  try {
    entry = JSON.parse(line) as typeof entry;
  } catch {
    entry = undefined;
  }
  if (entry?.level !== undefined && entry.level < 40) return;
  const key =
    entry?.msg !== undefined
      ? `${entry.msg}${entry.reason ? ` (${entry.reason})` : ''}`
      : line.slice(0, 160);
  phaseWarnings[key] = (phaseWarnings[key] ?? 0) + 1;
  if (gatewayErrors.length < 50) gatewayErrors.push(line.slice(0, 2000));
}

/** Counts the responses sipp aborted calls on, from its -trace_err file. */
function summarizeFailures(label: string, result: SippResult): FailureSummary {
  const responses: Record<string, number> = {};
  const chunks = result.errors.split("received '").slice(1);
  for (const chunk of chunks) {
    const message = chunk.split("'.")[0] ?? chunk;
    const status = /^SIP\/2\.0 (\d{3}[^\r\n]*)/.exec(message)?.[1]?.trim();
    if (!status) continue;
    const reason = /^Reason:\s*([^\r\n]*)/im.exec(message)?.[1]?.trim();
    const key = reason ? `${status} — Reason: ${reason}` : status;
    responses[key] = (responses[key] ?? 0) + 1;
  }
  const s = result.stats;
  const counters = Object.fromEntries(
    Object.entries({
      failedUnexpectedMessage: s.failedUnexpectedMessage,
      failedTimeoutOnRecv: s.failedTimeoutOnRecv,
      failedTimeoutOnSend: s.failedTimeoutOnSend,
      failedMaxUdpRetrans: s.failedMaxUdpRetrans,
      failedCallRejected: s.failedCallRejected,
      failedCannotSendMessage: s.failedCannotSendMessage,
      outOfCallMessages: s.outOfCallMessages,
      deadCallMessages: s.deadCallMessages,
    }).filter(([, v]) => v > 0),
  );
  let errorsFile: string | undefined;
  if (result.errors.length > 0) {
    mkdirSync(resultsDir, { recursive: true });
    errorsFile = join(resultsDir, `b2bua-${stamp}-${label}-sipp-errors.log`);
    writeFileSync(errorsFile, result.errors.slice(0, 2_000_000));
  }
  const failedCallIds = [
    ...new Set(
      [
        ...result.errors.matchAll(
          /Call-I[dD]:? '?([^\s',]+@[^\s',]+)'?,? (?:receive timeout|while expecting)/g,
        ),
      ].map((m) => m[1] ?? ''),
    ),
  ].filter(Boolean);
  const gatewayRecords = callRecords(failedCallIds.slice(0, 12));
  return {
    responses,
    counters,
    excerpt: result.errors.slice(0, 1500),
    ...(gatewayRecords ? { gatewayRecords } : {}),
    ...(errorsFile ? { errorsFile: errorsFile.slice(REPO_ROOT.length) } : {}),
  };
}

/** The gateway's records of these visitor Call-IDs, read with the sqlite3 CLI (read-only) when it is there. */
function callRecords(visitorCallIds: readonly string[]): Record<string, unknown>[] | undefined {
  if (visitorCallIds.length === 0 || !sqlite3) return undefined;
  const list = visitorCallIds.map((id) => `'${id.replace(/'/g, "''")}'`).join(',');
  const sql =
    'SELECT visitor_call_id, created_at, state, outcome, reason, ended_by, sip_status, agent_id, ' +
    'ringing_at - created_at AS ringing_after_ms, answered_at - created_at AS answered_after_ms, ' +
    'ended_at - created_at AS ended_after_ms, attempts ' +
    `FROM calls WHERE visitor_call_id IN (${list}) ORDER BY created_at`;
  try {
    const out = execFileSync(sqlite3, ['-readonly', '-json', join(tmp, 'parley.sqlite'), sql], {
      encoding: 'utf8',
      timeout: 10_000,
    });
    const rows = (out.trim() ? JSON.parse(out) : []) as Record<string, unknown>[];
    return rows.map((row) => {
      const { created_at: created, attempts: text, ...rest } = row;
      let attempts: unknown = text;
      try {
        // Agent legs: when each started and ended, in ms after the visitor's INVITE.
        attempts = (JSON.parse(String(text)) as Record<string, unknown>[]).map(
          ({ startedAt, endedAt, ...a }) => ({
            ...a,
            startedAfterMs: Number(startedAt) - Number(created),
            ...(endedAt ? { endedAfterMs: Number(endedAt) - Number(created) } : {}),
          }),
        );
      } catch {
        // Leave the text as it is.
      }
      return { ...rest, attempts };
    });
  } catch (error) {
    return [{ error: (error as Error).message.slice(0, 300) }];
  }
}

async function snapshot(startedAt: number): Promise<GatewaySnapshot | undefined> {
  if (!gateway) return undefined;
  try {
    const text = await (await fetch(`${gateway.httpUrl}/metrics`)).text();
    const read = (pattern: RegExp): number => {
      let total = 0;
      for (const match of text.matchAll(pattern)) total += Number(match[1]);
      return total;
    };
    return {
      atSeconds: Math.round((performance.now() - startedAt) / 1000),
      heapUsedBytes: read(/^parley_nodejs_heap_size_used_bytes\s+([0-9.e+]+)/gm),
      rssBytes: read(/^parley_process_resident_memory_bytes\s+([0-9.e+]+)/gm),
      calls: read(/^parley_calls_active\s+([0-9.e+]+)/gm),
      transactions: read(/^parley_sip_transactions\{[^}]*\}\s+([0-9.e+]+)/gm),
      dialogs: read(/^parley_sip_dialogs\s+([0-9.e+]+)/gm),
      mediaRouters: read(/^parley_media_routers\s+([0-9.e+]+)/gm),
    };
  } catch {
    return undefined;
  }
}

/**
 * After the load: the gateway, left alone, must give back what the calls held
 * (transactions after their RFC 3261 timers, dialogs, media routers) and its
 * heap must fall back; a leak shows as objects or heap that stay.
 */
async function idlePhase(): Promise<IdleResult> {
  const startedAt = performance.now();
  const snapshots: GatewaySnapshot[] = [];
  for (;;) {
    const s = await snapshot(startedAt);
    if (s) snapshots.push(s);
    const elapsed = (performance.now() - startedAt) / 1000;
    if (elapsed >= OPT.idleSeconds) break;
    await new Promise((r) => setTimeout(r, Math.min(10_000, (OPT.idleSeconds - elapsed) * 1000)));
  }
  if (values['heap-snapshot'] && gateway) {
    // The snapshot's full GC tells live objects from garbage a lazy GC has not collected yet.
    const file = await takeHeapSnapshot(gateway, snapshotDir);
    const after = await snapshot(startedAt);
    if (after) snapshots.push({ ...after, afterFullGc: true });
    progress(file ? `heap snapshot ${file}` : `no heap snapshot in ${snapshotDir}`);
  }
  const last = snapshots.at(-1);
  if (last)
    progress(
      `idle ${last.atSeconds} s after the load: heap ${mb(last.heapUsedBytes)} MB (from ${mb(snapshots[0]?.heapUsedBytes ?? 0)}), ` +
        `${last.transactions} transactions, ${last.dialogs} dialogs, ${last.mediaRouters} media routers, ${last.calls} calls`,
    );
  return { seconds: OPT.idleSeconds, snapshots };
}

async function heapUsed(): Promise<number | undefined> {
  if (!gateway) return undefined;
  try {
    const text = await (await fetch(`${gateway.httpUrl}/metrics`)).text();
    const value = /^parley_nodejs_heap_size_used_bytes\s+([0-9.e+]+)/m.exec(text)?.[1];
    return value === undefined ? undefined : Number(value);
  } catch {
    return undefined;
  }
}

/** Waits until the gateway holds no call (at most `ms`); returns how many it still holds. */
async function settle(ms = 10_000): Promise<number | undefined> {
  if (!gateway) return undefined;
  const deadline = Date.now() + ms;
  for (;;) {
    const health = await gateway.get<{ calls?: number }>('/healthz').catch(() => undefined);
    const calls = health?.calls;
    if (calls === 0 || calls === undefined || Date.now() > deadline) return calls;
    await sleep(200);
  }
}

interface VisitorRun {
  readonly label: string;
  readonly via: 'gateway' | 'direct';
  readonly media: 'none' | 'rtp';
  readonly rate: number;
  readonly calls: number;
  readonly callMs: number;
  /** Called with the run's start (performance.now()) while sipp runs. */
  readonly during?: (startedAt: number) => Promise<void>;
  /** Time the INVITEs on the wire at this UDP port. */
  readonly capturePort?: number;
}

async function visitors(run: VisitorRun): Promise<RunResult> {
  if (!uas) throw new Error('no UAS');
  const remote = run.via === 'gateway' ? gateway?.sip : uas.address;
  if (!remote) throw new Error('no gateway');
  if (!gateway) throw new Error('no gateway');
  const { tokens, firstSession } = await gateway.issueTokens(run.calls);
  const scenario = run.media === 'rtp' ? await bundledScenario('uac-bearer-pcmu') : NORTP;
  const runSeconds = run.calls / run.rate + run.callMs / 1000;
  phaseWarnings = {};
  const gatewayPort = Number(gateway.sip.split(':')[1]);
  const drops0 = { gateway: udpDrops(gatewayPort), uas: udpDrops(uas.localPort) };
  const capture =
    run.capturePort !== undefined ? await startSipCapture(run.capturePort, OPT.sippCpu) : undefined;
  const startedAt = performance.now();
  const sipp = runSipp({
    scenario,
    remote,
    service: QUEUE,
    rate: run.rate,
    calls: run.calls,
    // Well above rate × call length: a slow gateway must not throttle sipp's offered rate.
    concurrency: Math.max(
      run.calls <= 200 ? run.calls : 200,
      Math.ceil(run.rate * (run.callMs / 1000 + 10)),
    ),
    ...(run.media === 'none' ? { mediaPortCount: 8 } : {}),
    callDurationMs: run.callMs,
    injection: { rows: tokens.map((t) => [t]) },
    traceMessages: false,
    recvTimeoutMs: 10_000,
    timeoutMs: Math.ceil(runSeconds * 1000) + 60_000,
    name: `sipp-uac:${run.label}`,
  });
  const [result] = await Promise.all([sipp, run.during?.(startedAt)]);
  if (gatewayDied) throw new Error(gatewayDied);
  const endedAt = performance.now();
  sampler?.sample();
  const drops = {
    gateway: udpDrops(gatewayPort) - drops0.gateway,
    uas: udpDrops(uas.localPort) - drops0.uas,
  };
  // sipp's Call-ID starts with the call number, the row of the injection file it used.
  const wire = await capture?.stop(
    run.via === 'gateway'
      ? {
          inbound: (callId) => {
            const n = Number.parseInt(callId, 10);
            return Number.isFinite(n) ? String(firstSession + n - 1) : undefined;
          },
          outbound: (headers) => /X-Parley-Session:\s*bench-visitor-(\d+)/i.exec(headers)?.[1],
        }
      : undefined,
  );
  const leftoverCalls = run.via === 'gateway' ? await settle() : undefined;
  const heapUsedAfterBytes = run.via === 'gateway' ? await heapUsed() : undefined;
  const usage = run.via === 'gateway' ? sampler?.window(startedAt, endedAt + 1) : undefined;
  const rtt = result.rtt.filter((s) => s.rtd === 1).map((s) => s.responseTimeMs);
  const first = result.rtt[0]?.atMs;
  const last = result.rtt[result.rtt.length - 1]?.atMs;
  const achievedRate =
    first !== undefined && last !== undefined && last > first
      ? (rtt.length - 1) / ((last - first) / 1000)
      : Number.NaN;
  const s = result.stats;
  const clean = s.failed === 0 && s.successful === run.calls;
  return {
    label: run.label,
    via: run.via,
    media: run.media,
    rate: run.rate,
    calls: run.calls,
    callMs: run.callMs,
    successful: s.successful,
    failed: s.failed,
    retransmissions: s.retransmissions,
    exitCode: result.exitCode,
    achievedRate: round(achievedRate),
    latency: summarize(rtt),
    ...(wire ? { wire } : {}),
    gateway: usage,
    cpuMsPerCall:
      usage && s.successful > 0 ? round((usage.cpuSeconds * 1000) / s.successful, 2) : undefined,
    leftoverCalls,
    udpDrops: drops,
    heapUsedAfterBytes,
    gatewayWarnings: phaseWarnings,
    ...(clean ? {} : { failures: summarizeFailures(run.label, result) }),
  };
}

// ---------------------------------------------------------------- phases

async function latencyPhase(): Promise<LatencyResult> {
  const calls = Math.max(1, Math.round(OPT.latencyRate * OPT.latencySeconds));
  const base = { media: 'none', rate: OPT.latencyRate, calls, callMs: OPT.callMs } as const;
  const wire = !values['no-wire'] && which('tshark') !== undefined;
  if (!values['no-wire'] && !wire)
    progress('tshark not found: INVITE→200 from sipp only (4 ms steps)');
  const gatewayPort = Number(gateway?.sip.split(':')[1]);
  const direct = await visitors({
    ...base,
    label: 'latency-direct',
    via: 'direct',
    ...(wire && uas ? { capturePort: uas.localPort } : {}),
  });
  progress(describeRun(direct));
  await settle();
  const viaGateway = await visitors({
    ...base,
    label: 'latency-gateway',
    via: 'gateway',
    ...(wire ? { capturePort: gatewayPort } : {}),
  });
  progress(describeRun(viaGateway));
  const dw = direct.wire?.inbound;
  const gw = viaGateway.wire;
  return {
    direct,
    gateway: viaGateway,
    addedP50Ms: round(viaGateway.latency.p50Ms - direct.latency.p50Ms, 2),
    addedP99Ms: round(viaGateway.latency.p99Ms - direct.latency.p99Ms, 2),
    ...(dw && gw
      ? {
          wire: {
            addedP50Ms: round(gw.inbound.p50Ms - dw.p50Ms, 2),
            addedP99Ms: round(gw.inbound.p99Ms - dw.p99Ms, 2),
            /** Visitor leg minus agent leg, on means: the gateway's own time per INVITE. */
            ownMeanMs: round(gw.inbound.meanMs - gw.outbound.meanMs, 2),
            own: gw.own,
          },
        }
      : {}),
  };
}

interface CallView {
  media: {
    visitor: { packetsIn: number; packetsOut: number };
    agent: { packetsIn: number; packetsOut: number };
  } | null;
}

async function heldPhase(media: 'none' | 'rtp'): Promise<HeldResult> {
  const n = OPT.concurrent;
  const rampRate = Math.min(25, n);
  await settle();
  await sleep(2000);
  const idleFrom = performance.now();
  await sleep(3000);
  const idle = sampler?.window(idleFrom, performance.now() + 1);
  let steady: UsageWindow | undefined;
  const run = await visitors({
    label: `held-${n}-${media}`,
    via: 'gateway',
    media,
    rate: rampRate,
    calls: n,
    callMs: OPT.holdSeconds * 1000,
    during: async (startedAt) => {
      // Every call is up from about n / rate s until the first one hangs up at the hold time.
      const from = startedAt + (n / rampRate + 1) * 1000;
      const to = startedAt + (OPT.holdSeconds - 0.5) * 1000;
      await sleep(Math.max(0, to - performance.now()));
      sampler?.sample();
      steady = to - from >= 1000 ? sampler?.window(from, to + 1) : undefined;
    },
  });
  let relayed: HeldResult['relayed'];
  try {
    const { calls } = await gateway!.get<{ calls: CallView[] }>(
      `/v1/calls?limit=${Math.min(n, 500)}`,
    );
    relayed = { visitorIn: 0, visitorOut: 0, agentIn: 0, agentOut: 0 };
    for (const c of calls) {
      relayed.visitorIn += c.media?.visitor.packetsIn ?? 0;
      relayed.visitorOut += c.media?.visitor.packetsOut ?? 0;
      relayed.agentIn += c.media?.agent.packetsIn ?? 0;
      relayed.agentOut += c.media?.agent.packetsOut ?? 0;
    }
  } catch (error) {
    progress(`could not read the call records: ${(error as Error).message}`);
  }
  const result: HeldResult = {
    media,
    calls: n,
    holdSeconds: OPT.holdSeconds,
    idle,
    steady,
    cpuPercentPerCall:
      steady && idle ? round((steady.cpuPercent - idle.cpuPercent) / n, 3) : undefined,
    rssBytesPerCall:
      steady && idle ? Math.round((steady.rssMeanBytes - idle.rssMeanBytes) / n) : undefined,
    relayed,
    run,
  };
  progress(
    `${describeRun(run)}\n    steady state: CPU ${round(steady?.cpuPercent ?? NaN)}% (idle ${round(idle?.cpuPercent ?? NaN)}%), ` +
      `RSS ${mb(steady?.rssMeanBytes ?? NaN)} MB (idle ${mb(idle?.rssMeanBytes ?? NaN)} MB), relayed packets ${JSON.stringify(relayed)}`,
  );
  return result;
}

async function ratePhase(): Promise<RateResult> {
  const steps: RunResult[] = [];
  /** Steps that failed while other processes held the gateway's core, run again. */
  const noisy: RunResult[] = [];
  for (const rate of OPT.rates) {
    let step: RunResult | undefined;
    for (let attempt = 0; attempt <= OPT.retries; attempt += 1) {
      if (step) {
        noisy.push(step);
        progress(
          `rate ${rate}: again, the gateway waited for its CPU ${round(step.gateway?.runWaitPercent ?? NaN)}% of the step`,
        );
        await sleep(5000);
      }
      await settle();
      await sleep(1000);
      step = await visitors({
        label: `rate-${rate}${attempt ? `-again${attempt}` : ''}`,
        via: 'gateway',
        media: 'none',
        rate,
        calls: Math.max(1, Math.round(rate * OPT.stepSeconds)),
        callMs: OPT.callMs,
      });
      progress(describeRun(step));
      if (isClean(step) || (step.gateway?.runWaitPercent ?? 0) < OPT.noisyWaitPercent) break;
    }
    if (!step) break;
    steps.push(step);
    if (!isClean(step)) break;
  }
  const clean = steps.filter(isClean);
  return {
    steps,
    noisy,
    highestCleanRate: clean.length ? Math.max(...clean.map((s) => s.rate)) : undefined,
    firstFailing: steps.find((s) => !isClean(s))?.label,
  };
}

function isClean(r: RunResult): boolean {
  return r.failed === 0 && r.successful === r.calls && r.latency.p99Ms <= OPT.maxP99Ms;
}

// ---------------------------------------------------------------- main

async function cleanup(): Promise<void> {
  stopping = true;
  sampler?.stop();
  await uas?.stop().catch(() => undefined);
  await gateway?.stop().catch(() => undefined);
  await stopAll();
  mediaBlock?.release();
  if (!values.keep) rmSync(tmp, { recursive: true, force: true });
}

async function main(): Promise<Results> {
  const results: Results = {
    machine,
    options: { ...OPT, phases: [...OPT.phases], quick: QUICK },
    gatewayErrors,
  };
  const cpus = Math.max(OPT.gatewayCpu, OPT.sippCpu) + 1;
  if (machine.nproc < cpus)
    throw new Error(
      `needs ${cpus} CPUs for --gateway-cpu/--sipp-cpu, this machine has ${machine.nproc}`,
    );
  const realSipp = pinSipp(tmp, OPT.sippCpu);
  progress(
    `sipp ${realSipp} pinned to CPU ${OPT.sippCpu}; gateway to CPU ${OPT.gatewayCpu}; temp dir ${tmp}`,
  );

  // The relay's block first, while the range is emptiest: two RTP/RTCP pairs per call.
  const largestRate = Math.max(...OPT.rates, OPT.latencyRate);
  const peakCalls = Math.max(OPT.concurrent, largestRate * (OPT.callMs / 1000 + 0.5));
  let mediaPorts = Math.min(3000, Math.max(400, Math.ceil(peakCalls * 4 * 1.25)));
  for (;;) {
    try {
      mediaBlock = await ports.allocate(mediaPorts, { protocols: ['udp'], even: true });
      break;
    } catch (error) {
      if (mediaPorts <= 400) throw error;
      mediaPorts = Math.max(400, Math.floor(mediaPorts / 2));
      progress(`no free block for the media relay: trying ${mediaPorts} ports`);
    }
  }
  uas = await startSipp({
    scenario: await bundledScenario('uas-answer-pcmu-echo'),
    rtpEcho: true,
    traceMessages: false,
    ports,
    name: 'sipp-uas',
  });
  const agents = Math.max(OPT.agents, Math.ceil(peakCalls / MAX_CALLS_PER_AGENT));
  OPT.agents = agents;
  gatewaySpawnedAt = performance.now();
  gateway = await startBenchGateway({
    dir: tmp,
    ports,
    agentContact: uas.address,
    agents,
    maxCallsPerAgent: MAX_CALLS_PER_AGENT,
    media: mediaBlock,
    cpu: OPT.gatewayCpu,
    nodeArgs: [
      ...(values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []),
      // A heap snapshot on SIGUSR2 (it runs a full GC first): the idle phase's last row.
      ...(values['heap-snapshot'] ? heapSnapshotArgs(snapshotDir) : []),
    ],
    onLine: onGatewayLine,
  });
  sampler = new ProcSampler(gateway.pid);
  const started = gateway;
  void started.process.exited.then((exit) => {
    if (!stopping) {
      gatewayDied = `the gateway exited during the run (code ${exit.code}, signal ${exit.signal})\n${started.process.output(30)}`;
      progress(gatewayDied);
    }
  });
  progress(
    `gateway pid ${gateway.pid} on ${gateway.sip} (${gateway.httpUrl}), UAS on ${uas.address}, ${agents} agents, ` +
      `media ports ${mediaBlock.base}-${mediaBlock.base + mediaBlock.size - 1}`,
  );

  profileSkipSeconds = (performance.now() - gatewaySpawnedAt) / 1000;
  results.warmup = await visitors({
    label: 'warmup',
    via: 'gateway',
    media: 'none',
    rate: 20,
    calls: 40,
    callMs: 200,
  });
  progress(describeRun(results.warmup));
  if (results.warmup.successful === 0)
    throw new Error(`no call went through the gateway:\n${results.warmup.failures?.excerpt ?? ''}`);

  try {
    if (OPT.phases.has('latency')) results.latency = await latencyPhase();
    if (OPT.phases.has('concurrent'))
      results.held = [await heldPhase('none'), await heldPhase('rtp')];
    if (OPT.phases.has('rate')) results.rate = await ratePhase();
  } catch (error) {
    results.error = (error as Error).message;
    progress(`error: ${(error as Error).stack ?? String(error)}`);
  }
  // The agent side's view: calls it took, and anything it did not expect.
  await settle();
  if (OPT.phases.has('idle') && !results.error) results.idle = await idlePhase();
  const agentSide = await uas.stop();
  const u = agentSide.stats;
  results.uas = {
    incoming: u.incoming,
    successful: u.successful,
    failed: u.failed,
    retransmissions: u.retransmissions,
    outOfCallMessages: u.outOfCallMessages,
    deadCallMessages: u.deadCallMessages,
    errorsExcerpt: agentSide.errors.slice(0, 3000),
  };
  progress(
    `agent side (sipp UAS): ${JSON.stringify({ ...results.uas, errorsExcerpt: undefined })}`,
  );
  return results;
}

// A watchdog outside this process: a thread stuck in native code runs no
// timers (token issuing did, before shared/src/tokens/compact.ts stopped
// exporting ephemeral keys as JWK). SIGKILL takes every peer along (pdeathsig).
spawnManaged({
  command: 'sh',
  args: [
    '-c',
    `sleep ${OPT.timeoutSeconds + 60}; echo "b2bua: stuck: killing ${process.pid}" >&2; kill -KILL ${process.pid}`,
  ],
  name: 'watchdog',
  maxLines: 5,
  onOutput: (chunk) => void process.stderr.write(chunk),
});
let finished = false;
const timer = setTimeout(() => {
  if (finished) return;
  progress(`timed out after ${OPT.timeoutSeconds} s: stopping everything`);
  void cleanup().finally(() => process.exit(124));
}, OPT.timeoutSeconds * 1000);
timer.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping everything`);
    void cleanup().finally(() => process.exit(130));
  });
}

try {
  const results = await main();
  finished = true;
  await cleanup();
  if (values['cpu-prof']) {
    const file = existsSync(profileDir)
      ? readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile'))
      : undefined;
    if (file) {
      results.cpuProfile = {
        ...summarizeCpuProfile(join(profileDir, file), { skipSeconds: profileSkipSeconds }),
        file: join(profileDir, file).slice(REPO_ROOT.length),
      };
    } else progress(`no CPU profile in ${profileDir} (the gateway did not exit cleanly?)`);
  }
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `b2bua-${stamp}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${markdown(results, MAX_CALLS_PER_AGENT)}\n`);
  progress(`results: ${file}`);
  clearTimeout(timer);
  process.exit(results.error ? 1 : 0);
} catch (error) {
  finished = true;
  progress(`failed: ${(error as Error).stack ?? String(error)}`);
  if (gateway) progress(gateway.process.describe(30));
  await cleanup();
  process.exit(1);
}
