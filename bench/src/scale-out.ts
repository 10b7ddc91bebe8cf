/**
 * Scale-out (issue 16, "call setups per second and concurrent calls with 1, 2
 * and 3 gateways behind Kamailio on this machine"): the real things, as the
 * scale-out test starts them. Kamailio (deploy/kamailio/) in front, N gateways
 * as child processes on one PostgreSQL and one Redis (the testkit's, Debian's),
 * one sipp UAS answering for the queue's 40 agents (fixed contacts, 10 calls
 * each: the agents never limit), sipp visitors with a fresh call token each (a new web
 * session: a session row, a number, a replay check) streaming a PCMU tone
 * through the gateway's relay for `--hold-ms`.
 *
 * Per N, the offered rate steps up (`--rates`) until a step loses more than
 * 0.5 % of its calls or its INVITE→200 p99 passes `--max-p99-ms`. Each step
 * reports the calls answered, INVITE→200 through Kamailio and the gateway
 * (sipp's rtd), the calls each gateway owned (PostgreSQL) and each gateway's
 * CPU (from /proc). The same rates straight from sipp to the sipp UAS (no
 * Kamailio, no gateway) run first: the machine's own ceiling in the same run,
 * since this 2-core machine is shared.
 *
 *   ./scripts/in-netns.sh node --import tsx bench/src/scale-out.ts [--gateways 1,2,3]
 *     [--rates 10,20,40,80] [--step-seconds 10] [--hold-ms 1000] [--max-p99-ms 1000]
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  bundledScenario,
  runSipp,
  startKamailio,
  startPostgres,
  startRedis,
  startSipp,
  stopAll,
  type SippResult,
} from '@parley/testkit';
import {
  callsInProgress,
  clusterKeys,
  dispatcherSays,
  SessionTokens,
  startClusterGateway,
  type ClusterGateway,
} from '@parley/testkit/cluster';
import { summarize } from './latency-stats.js';
import { ProcSampler } from './proc-usage.js';

const { values } = parseArgs({
  options: {
    gateways: { type: 'string', default: '1,2,3' },
    rates: { type: 'string', default: '10,20,40,80' },
    'step-seconds': { type: 'string', default: '10' },
    'hold-ms': { type: 'string', default: '1000' },
    'max-p99-ms': { type: 'string', default: '1000' },
  },
});
const GATEWAYS = values.gateways.split(',').map(Number);
const RATES = values.rates.split(',').map(Number);
const STEP_SECONDS = Number(values['step-seconds']);
const HOLD_MS = Number(values['hold-ms']);
const MAX_P99_MS = Number(values['max-p99-ms']);
// Kamailio binds its own loopback address: the gateways trust it alone.
const EDGE = '127.0.0.2';

const progress = (line: string) => process.stderr.write(`[scale-out] ${line}\n`);

interface Step {
  readonly gateways: number;
  readonly rate: number;
  readonly calls: number;
  readonly answered: number;
  readonly failed: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Why calls failed, by sipp's counters (unexpected message: a 4xx/5xx; timeouts). */
  readonly why: string;
  readonly perGateway: readonly { calls: number; cpuPercent: number }[];
}

function clean(step: Step): boolean {
  return step.failed <= step.calls * 0.005 && step.p99Ms <= MAX_P99_MS;
}

function fromSipp(
  result: SippResult,
  gateways: number,
  rate: number,
  calls: number,
): Omit<Step, 'perGateway'> {
  const rtd = summarize(result.rtt.map((s) => s.responseTimeMs));
  return {
    gateways,
    rate,
    calls,
    answered: result.stats.successful,
    failed: calls - result.stats.successful,
    p50Ms: rtd.p50Ms,
    p99Ms: rtd.p99Ms,
    why: (
      [
        ['unexpected', result.stats.failedUnexpectedMessage],
        ['recv timeout', result.stats.failedTimeoutOnRecv],
        ['UDP retrans', result.stats.failedMaxUdpRetrans],
        ['rejected', result.stats.failedCallRejected],
      ] as const
    )
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${n} ${k}`)
      .join(', '),
  };
}

const [postgres, redis] = await Promise.all([startPostgres(), startRedis()]);
const keys = await clusterKeys();
const tokens = new SessionTokens(keys);
const scenario = await bundledScenario('uac-bearer-pcmu-routed');
const uas = await startSipp({
  scenario: await bundledScenario('uas-answer-pcmu-echo'),
  traceMessages: false,
  name: 'agents-uas',
});
const steps: Step[] = [];
const machine = {
  date: new Date().toISOString(),
  commit: execFileSync('git', ['rev-parse', '--short', 'HEAD']).toString().trim(),
  cpus: execFileSync('nproc').toString().trim(),
  loadBefore: loadavg()
    .map((l) => l.toFixed(1))
    .join(' '),
};

try {
  // The machine's ceiling in this run: sipp straight to the sipp UAS.
  for (const rate of RATES) {
    const calls = rate * STEP_SECONDS;
    progress(`sipp → sipp at ${rate}/s (${calls} calls)`);
    const result = await runSipp({
      scenario,
      remote: uas.address,
      service: 'a0',
      calls,
      rate,
      callDurationMs: HOLD_MS,
      injection: { rows: await tokens.rows(calls) },
      timeoutMs: STEP_SECONDS * 1000 + 120_000,
      traceMessages: false,
    });
    const step = { ...fromSipp(result, 0, rate, calls), perGateway: [] };
    steps.push(step);
    if (!clean(step)) break;
  }

  for (const n of GATEWAYS) {
    const url = await postgres.createDatabase(`parley_scale_${n}`);
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const gateways: ClusterGateway[] = [];
    let kamailio: Awaited<ReturnType<typeof startKamailio>> | undefined;
    try {
      // One after the other: the first migrates PostgreSQL (the others would wait on its lock).
      for (let i = 0; i < n; i += 1) {
        progress(`starting gateway ${i + 1} of ${n}`);
        gateways.push(
          await startClusterGateway({
            name: `gw${i}`,
            keys,
            agents: Array.from({ length: 40 }, (_, a) => `a${a}`),
            agentContact: uas.address,
            agentMaxCalls: 10,
            mediaPorts: 600,
            edge: EDGE,
            shared: { postgresUrl: url, redisUrl: redis.url },
          }),
        );
      }
      kamailio = await startKamailio({ gateways: gateways.map((g) => g.sip), host: EDGE });
      for (const gw of gateways) await dispatcherSays(kamailio, gw, 'active');
      const samplers = gateways.map((g) => new ProcSampler(g.process.pid ?? 0));
      // Warm-up (JIT, pools, Kamailio's first routes), not counted.
      await runSipp({
        scenario,
        remote: kamailio.sip,
        service: 'sales',
        calls: 10 * n,
        rate: 5,
        callDurationMs: 200,
        injection: { rows: await tokens.rows(10 * n) },
        timeoutMs: 120_000,
        traceMessages: false,
      });
      for (const rate of RATES) {
        const calls = rate * STEP_SECONDS;
        const rows = await tokens.rows(calls);
        progress(`${n} gateway(s) at ${rate}/s (${calls} calls)`);
        const since = Date.now();
        const from = performance.now();
        const result = await runSipp({
          scenario,
          remote: kamailio.sip,
          service: 'sales',
          calls,
          rate,
          callDurationMs: HOLD_MS,
          injection: { rows },
          timeoutMs: STEP_SECONDS * 1000 + 120_000,
          traceMessages: false,
        });
        const to = performance.now();
        // The calls' records land behind the calls: wait until every gateway is idle.
        for (let i = 0; i < 300; i += 1) {
          const busy = await Promise.all(gateways.map(callsInProgress));
          if (busy.every((c) => c === 0)) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const owners = await db.query<{ owner: string; n: string }>(
          'SELECT owner, count(*) AS n FROM calls WHERE created_at >= $1 GROUP BY owner',
          [since],
        );
        const perGateway = gateways.map((g, i) => ({
          calls: Number(owners.rows.find((r) => r.owner === g.name)?.n ?? 0),
          cpuPercent: samplers[i]?.window(from, to)?.cpuPercent ?? NaN,
        }));
        const step = { ...fromSipp(result, n, rate, calls), perGateway };
        steps.push(step);
        progress(
          `  answered ${step.answered}/${calls}${step.why ? ` (${step.why})` : ''}, INVITE→200 p50 ${step.p50Ms.toFixed(0)} ms p99 ${step.p99Ms.toFixed(0)} ms, ` +
            perGateway.map((g) => `${g.calls} calls ${g.cpuPercent.toFixed(0)} % CPU`).join(' | '),
        );
        if (!clean(step)) {
          // Why, from both ends: sipp's first errors and the gateways' records of the step.
          const outcomes = await db.query<{ outcome: string; reason: string; n: string }>(
            'SELECT outcome, reason, count(*) AS n FROM calls WHERE created_at >= $1 GROUP BY outcome, reason',
            [since],
          );
          progress(
            `  records: ${outcomes.rows.map((r) => `${r.n} ${r.outcome}/${r.reason}`).join(', ')}`,
          );
          for (const g of gateways) {
            const metrics = await (await fetch(`${g.httpUrl}/metrics`)).text();
            const refused = metrics
              .split('\n')
              .filter((l) => /^parley_(invites|tokens)_refused_total\{/.test(l))
              .join(', ');
            progress(`  ${g.name} refused: ${refused || 'none'}`);
          }
          // sipp's error log, one line per aborted call: count them by what came instead.
          const why = new Map<string, number>();
          for (const m of result.errors.matchAll(
            /Aborting call[^\n]*?(while [^\n]*?)(?:, received '([^\n]*))?$/gm,
          )) {
            const k = `${m[1]} ${m[2] ?? ''}`.trim();
            why.set(k, (why.get(k) ?? 0) + 1);
          }
          progress(
            `  sipp: ${[...why].map(([k, n]) => `${n} × ${k}`).join('; ') || result.errors.slice(0, 400)}`,
          );
          break;
        }
      }
      for (const s of samplers) s.stop();
    } finally {
      await kamailio?.stop();
      await Promise.all(gateways.map((g) => g.stop()));
      await db.end();
    }
  }
} finally {
  await uas.stop();
  await Promise.all([postgres.stop(), redis.stop()]);
  await stopAll();
}

const loadAfter = loadavg()
  .map((l) => l.toFixed(1))
  .join(' ');
console.log(
  `${machine.date}, commit ${machine.commit}, ${machine.cpus} CPUs, load average before ${machine.loadBefore}, after ${loadAfter}; ` +
    `${STEP_SECONDS} s per step, calls held ${HOLD_MS} ms with a PCMU tone through the relay.\n`,
);
console.log(
  '| path | offered / s | calls | answered | failed: why | INVITE→200 p50 / p99 | calls per gateway | CPU per gateway |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const s of steps) {
  const path = s.gateways === 0 ? 'sipp → sipp UAS' : `Kamailio → ${s.gateways} gateway(s)`;
  console.log(
    `| ${path} | ${s.rate} | ${s.calls} | ${s.answered}${clean(s) ? '' : ' (step failed)'} | ${s.why || '-'} | ${s.p50Ms.toFixed(0)} / ${s.p99Ms.toFixed(0)} ms | ${
      s.perGateway.map((g) => g.calls).join(' / ') || '-'
    } | ${s.perGateway.map((g) => `${g.cpuPercent.toFixed(0)} %`).join(' / ') || '-'} |`,
  );
}
