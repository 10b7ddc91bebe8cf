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
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spawnManaged } from '@parley/testkit';
import { REPO_ROOT } from './bench-gateway.js';
import { heldPhase, idlePhase, latencyPhase, ratePhase } from './b2bua/phases.js';
import { describeRun, markdown } from './b2bua/report.js';
import type { B2buaOptions, Machine, Results } from './b2bua/results.js';
import { BenchRun, MAX_CALLS_PER_AGENT, progress } from './b2bua/run.js';
import { visitors } from './b2bua/visitors.js';

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

/** The gateway, the UAS and their ports, shared by the phases; closed on every way out. */
const run = new BenchRun(OPT, {
  stamp: machine.date.slice(0, 19).replace(/:/g, '-'),
  keep: values.keep === true,
  cpuProf: values['cpu-prof'] === true,
  heapSnapshot: values['heap-snapshot'] === true,
  noWire: values['no-wire'] === true,
});

async function main(): Promise<Results> {
  const results: Results = {
    machine,
    options: { ...OPT, phases: [...OPT.phases], quick: QUICK },
    gatewayErrors: run.gatewayErrors,
  };
  await run.start(machine.nproc);
  results.warmup = await visitors(run, {
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
    if (OPT.phases.has('latency')) results.latency = await latencyPhase(run);
    if (OPT.phases.has('concurrent'))
      results.held = [await heldPhase(run, 'none'), await heldPhase(run, 'rtp')];
    if (OPT.phases.has('rate')) results.rate = await ratePhase(run);
  } catch (error) {
    results.error = (error as Error).message;
    progress(`error: ${(error as Error).stack ?? String(error)}`);
  }
  // The agent side's view: calls it took, and anything it did not expect.
  await run.settle();
  if (OPT.phases.has('idle') && !results.error) results.idle = await idlePhase(run);
  const agentSide = await run.uas.stop();
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
  void run.close().finally(() => process.exit(124));
}, OPT.timeoutSeconds * 1000);
timer.unref();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    progress(`${signal}: stopping everything`);
    void run.close().finally(() => process.exit(130));
  });
}

try {
  const results = await main();
  finished = true;
  await run.close();
  if (run.flags.cpuProf) {
    const cpuProfile = run.cpuProfile();
    if (cpuProfile) results.cpuProfile = cpuProfile;
    else progress(`no CPU profile in ${run.profileDir} (the gateway did not exit cleanly?)`);
  }
  mkdirSync(run.resultsDir, { recursive: true });
  const file = join(run.resultsDir, `b2bua-${run.flags.stamp}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${markdown(results, MAX_CALLS_PER_AGENT)}\n`);
  progress(`results: ${file}`);
  clearTimeout(timer);
  process.exit(results.error ? 1 : 0);
} catch (error) {
  finished = true;
  progress(`failed: ${(error as Error).stack ?? String(error)}`);
  const gateway = run.describeGateway();
  if (gateway) progress(gateway);
  await run.close();
  process.exit(1);
}
