/**
 * The benchmark's phases, each on the run's gateway and UAS: INVITE→200 added
 * by the gateway (latency), calls held open (held), the setup rate stepped up
 * (rate), and the gateway left alone after the load (idle).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { UsageWindow } from '../proc-usage.js';
import { which } from '../sipp-pinning.js';
import { describeRun, mb, round } from './report.js';
import type {
  GatewaySnapshot,
  HeldResult,
  IdleResult,
  LatencyResult,
  RateResult,
  RunResult,
} from './results.js';
import { progress, type BenchRun } from './run.js';
import { visitors } from './visitors.js';

/** INVITE→200 straight to the UAS, then through the gateway, at a moderate rate. */
export async function latencyPhase(bench: BenchRun): Promise<LatencyResult> {
  const opt = bench.options;
  const calls = Math.max(1, Math.round(opt.latencyRate * opt.latencySeconds));
  const base = { media: 'none', rate: opt.latencyRate, calls, callMs: opt.callMs } as const;
  const wire = !bench.flags.noWire && which('tshark') !== undefined;
  if (!bench.flags.noWire && !wire)
    progress('tshark not found: INVITE→200 from sipp only (4 ms steps)');
  const gatewayPort = Number(bench.gateway.sip.split(':')[1]);
  const direct = await visitors(bench, {
    ...base,
    label: 'latency-direct',
    via: 'direct',
    ...(wire ? { capturePort: bench.uas.localPort } : {}),
  });
  progress(describeRun(direct));
  await bench.settle();
  const viaGateway = await visitors(bench, {
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

/** --concurrent calls held open: the gateway's CPU and RSS in the steady state against idle. */
export async function heldPhase(bench: BenchRun, media: 'none' | 'rtp'): Promise<HeldResult> {
  const opt = bench.options;
  const n = opt.concurrent;
  const rampRate = Math.min(25, n);
  await bench.settle();
  await sleep(2000);
  const idleFrom = performance.now();
  await sleep(3000);
  const idle = bench.sampler?.window(idleFrom, performance.now() + 1);
  let steady: UsageWindow | undefined;
  const run = await visitors(bench, {
    label: `held-${n}-${media}`,
    via: 'gateway',
    media,
    rate: rampRate,
    calls: n,
    callMs: opt.holdSeconds * 1000,
    during: async (startedAt) => {
      // Every call is up from about n / rate s until the first one hangs up at the hold time.
      const from = startedAt + (n / rampRate + 1) * 1000;
      const to = startedAt + (opt.holdSeconds - 0.5) * 1000;
      await sleep(Math.max(0, to - performance.now()));
      bench.sampler?.sample();
      steady = to - from >= 1000 ? bench.sampler?.window(from, to + 1) : undefined;
    },
  });
  let relayed: HeldResult['relayed'];
  try {
    const { calls } = await bench.gateway.get<{ calls: CallView[] }>(
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
    holdSeconds: opt.holdSeconds,
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

/** Signalling-only short calls at each --rates step until one fails or passes --max-p99-ms. */
export async function ratePhase(bench: BenchRun): Promise<RateResult> {
  const opt = bench.options;
  const isClean = (r: RunResult): boolean =>
    r.failed === 0 && r.successful === r.calls && r.latency.p99Ms <= opt.maxP99Ms;
  const steps: RunResult[] = [];
  /** Steps that failed while other processes held the gateway's core, run again. */
  const noisy: RunResult[] = [];
  for (const rate of opt.rates) {
    let step: RunResult | undefined;
    for (let attempt = 0; attempt <= opt.retries; attempt += 1) {
      if (step) {
        noisy.push(step);
        progress(
          `rate ${rate}: again, the gateway waited for its CPU ${round(step.gateway?.runWaitPercent ?? NaN)}% of the step`,
        );
        await sleep(5000);
      }
      await bench.settle();
      await sleep(1000);
      step = await visitors(bench, {
        label: `rate-${rate}${attempt ? `-again${attempt}` : ''}`,
        via: 'gateway',
        media: 'none',
        rate,
        calls: Math.max(1, Math.round(rate * opt.stepSeconds)),
        callMs: opt.callMs,
      });
      progress(describeRun(step));
      if (isClean(step) || (step.gateway?.runWaitPercent ?? 0) < opt.noisyWaitPercent) break;
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

/**
 * After the load: the gateway, left alone, must give back what the calls held
 * (transactions after their RFC 3261 timers, dialogs, media routers) and its
 * heap must fall back; a leak shows as objects or heap that stay.
 */
export async function idlePhase(bench: BenchRun): Promise<IdleResult> {
  const seconds = bench.options.idleSeconds;
  const startedAt = performance.now();
  const snapshots: GatewaySnapshot[] = [];
  for (;;) {
    const s = await bench.snapshot(startedAt);
    if (s) snapshots.push(s);
    const elapsed = (performance.now() - startedAt) / 1000;
    if (elapsed >= seconds) break;
    await sleep(Math.min(10_000, (seconds - elapsed) * 1000));
  }
  if (bench.flags.heapSnapshot) {
    // The snapshot's full GC tells live objects from garbage a lazy GC has not collected yet.
    const file = await bench.takeHeapSnapshot();
    const after = await bench.snapshot(startedAt);
    if (after) snapshots.push({ ...after, afterFullGc: true });
    progress(file ? `heap snapshot ${file}` : `no heap snapshot in ${bench.snapshotDir}`);
  }
  const last = snapshots.at(-1);
  if (last)
    progress(
      `idle ${last.atSeconds} s after the load: heap ${mb(last.heapUsedBytes)} MB (from ${mb(snapshots[0]?.heapUsedBytes ?? 0)}), ` +
        `${last.transactions} transactions, ${last.dialogs} dialogs, ${last.mediaRouters} media routers, ${last.calls} calls`,
    );
  return { seconds, snapshots };
}
