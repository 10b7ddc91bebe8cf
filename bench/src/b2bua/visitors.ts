/**
 * One batch of visitor calls: a sipp UAC with a fresh call token in every
 * INVITE, through the gateway or straight to the UAS, and what it measured
 * (INVITE→200 from sipp and the wire, the gateway's CPU, drops, leftovers).
 */
import { join } from 'node:path';
import { bundledScenario, runSipp, type ScenarioFile } from '@parley/testkit';
import { QUEUE, REPO_ROOT } from '../bench-gateway.js';
import { summarize } from '../latency-stats.js';
import { udpDrops } from '../proc-usage.js';
import { startSipCapture } from '../sip-capture.js';
import { summarizeFailures } from './failures.js';
import { round } from './report.js';
import type { RunResult } from './results.js';
import type { BenchRun } from './run.js';

const NORTP: ScenarioFile = { file: join(REPO_ROOT, 'bench/scenarios/uac-bearer-nortp.xml') };

/** A batch of calls: what its result repeats (`RunResult`), and how to run it. */
export interface VisitorRun extends Pick<
  RunResult,
  'label' | 'via' | 'media' | 'rate' | 'calls' | 'callMs'
> {
  /** Called with the run's start (performance.now()) while sipp runs. */
  readonly during?: (startedAt: number) => Promise<void>;
  /** Time the INVITEs on the wire at this UDP port. */
  readonly capturePort?: number;
}

export async function visitors(bench: BenchRun, run: VisitorRun): Promise<RunResult> {
  const { uas, gateway, sampler } = bench;
  const remote = run.via === 'gateway' ? gateway.sip : uas.address;
  const { tokens, firstSession } = await gateway.issueTokens(run.calls);
  const scenario = run.media === 'rtp' ? await bundledScenario('uac-bearer-pcmu') : NORTP;
  const runSeconds = run.calls / run.rate + run.callMs / 1000;
  const warnings = bench.countWarnings();
  const gatewayPort = Number(gateway.sip.split(':')[1]);
  const drops0 = { gateway: udpDrops(gatewayPort), uas: udpDrops(uas.localPort) };
  const capture =
    run.capturePort !== undefined
      ? await startSipCapture(run.capturePort, bench.options.sippCpu)
      : undefined;
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
  bench.checkGatewayAlive();
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
  const leftoverCalls = run.via === 'gateway' ? await bench.settle() : undefined;
  const heapUsedAfterBytes = run.via === 'gateway' ? await bench.heapUsed() : undefined;
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
    gatewayWarnings: warnings,
    ...(clean
      ? {}
      : {
          failures: summarizeFailures(result, {
            errorsFile: join(
              bench.resultsDir,
              `b2bua-${bench.flags.stamp}-${run.label}-sipp-errors.log`,
            ),
            database: bench.database,
          }),
        }),
  };
}
