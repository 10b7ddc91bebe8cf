/**
 * The WebRTC side of Parley, measured:
 *
 * 1. setup: call setup latency with the real widget in Chromium on the demo
 *    company page, to a baresip agent that answers when told: click → agent
 *    ringing, and agent answer → first audio at the browser; N calls in a row
 *    (webrtc/widget-setup.ts; the gateway runs in this process);
 * 2. concurrent: bridged calls per gateway core: the gateway as its own process
 *    pinned to one CPU, @roamhq/wrtc visitors and a sipp echo agent on the
 *    other, calls stepped up and held; CPU, RSS, audio, failed setups per step
 *    (webrtc/concurrent-calls.ts);
 * 3. bytes: the built widget's first-load file and lazy call-stack chunk,
 *    minified and gzipped (webrtc/widget-bytes.ts).
 *
 * Progress goes to stderr, a Markdown section for docs/benchmarks.md to stdout,
 * everything measured to bench/results/webrtc-<date>.json. Run it in the
 * private network namespace (Chromium then gathers a usable candidate and
 * nothing leaves the machine):
 *
 *   ./scripts/in-netns.sh node --import tsx bench/src/webrtc.ts [--quick] [--calls 20]
 *       [--steps 10,25,50,75,100] [--hold-seconds 15] [--phases bytes,setup,concurrent]
 *       [--poll-ms 10] [--gateway-cpu 0] [--client-cpu 1] [--per-agent 10] [--ramp 20]
 *       [--max-setups 10] [--sample-rate 8000] [--cpu-prof] [--window-prof] [--timeout 900] [--keep]
 *       [--early-answer off|auto|PCMU|opus] [--dwell-ms 0] [--gateway-runtime dist|tsx]
 *       [--gateway-node-args "--max-semi-space-size=1"]
 *
 * `--window-prof` profiles the gateway's Node process over its inspector while
 * each step's calls are placed and during each hold (bench/results/…-profiles/,
 * top functions in the progress lines and the JSON); `--cpu-prof` covers its
 * whole life instead.
 *
 * The concurrent phase runs Parley's gateway the production way, its compiled
 * build (gateway/package.json's `start`: `node [flags] --conditions=parley-dist
 * gateway/dist/main.js`, built first by
 * scripts/build-gateway.sh when missing or stale); `--gateway-runtime tsx` runs
 * its sources through tsx instead, as the tests do.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runCommand, stopAll } from '@parley/testkit';
import { runConcurrency } from './webrtc/concurrent-calls.js';
import type { ConcurrencyResult } from './webrtc/concurrent-types.js';
import { janusInstalled } from './webrtc/janus-server.js';
import { SYSTEMS, type SystemName } from './webrtc/server-under-test.js';
import { machine } from './webrtc/measure.js';
import { report } from './webrtc/report.js';
import { REPO_ROOT } from './bench-gateway.js';
import { GATEWAY_RUNTIMES, type GatewayRuntime } from './gateway-build.js';
import { measureWidgetBytes, type WidgetBytes } from './webrtc/widget-bytes.js';
import { WIDGET_DIST, runWidgetSetup, type WidgetSetupResult } from './webrtc/widget-setup.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    calls: { type: 'string' },
    steps: { type: 'string' },
    systems: { type: 'string' },
    client: { type: 'string', default: 'ndc' },
    'hold-seconds': { type: 'string' },
    phases: { type: 'string', default: 'bytes,setup,concurrent' },
    'poll-ms': { type: 'string', default: '10' },
    'answer-delay-ms': { type: 'string', default: '300' },
    'gateway-cpu': { type: 'string', default: '0' },
    'client-cpu': { type: 'string', default: '1' },
    'per-agent': { type: 'string', default: '10' },
    ramp: { type: 'string', default: '20' },
    'max-setups': { type: 'string', default: '10' },
    'sample-rate': { type: 'string', default: '8000' },
    timeout: { type: 'string' },
    keep: { type: 'boolean', default: false },
    'early-answer': { type: 'string', default: 'off' },
    'dwell-ms': { type: 'string', default: '0' },
    'cpu-prof': { type: 'boolean', default: false },
    'window-prof': { type: 'boolean', default: false },
    'gateway-runtime': { type: 'string', default: 'dist' },
    'gateway-node-args': { type: 'string', default: '' },
  },
});

const num = (text: string | undefined, fallback: number): number => {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n < 0) throw new Error(`not a number: ${text}`);
  return n;
};
const QUICK = values.quick === true;
const PHASES = new Set((values.phases ?? '').split(',').map((p) => p.trim()));
const OPT = {
  calls: num(values.calls, QUICK ? 3 : 20),
  steps: (values.steps ?? (QUICK ? '5,10' : '10,25,50,100,250,500'))
    .split(',')
    .map((s) => num(s, 0))
    .filter((s) => s > 0),
  holdSeconds: num(values['hold-seconds'], QUICK ? 4 : 15),
  pollMs: num(values['poll-ms'], 10),
  answerDelayMs: num(values['answer-delay-ms'], 300),
  gatewayCpu: num(values['gateway-cpu'], 0),
  clientCpu: num(values['client-cpu'], 1),
  perAgent: num(values['per-agent'], 10),
  ramp: num(values.ramp, 20),
  maxSetups: num(values['max-setups'], 10),
  sampleRate: num(values['sample-rate'], 8000),
  timeoutSeconds: num(values.timeout, QUICK ? 300 : 900),
};

const EARLY_ANSWERS = ['off', 'auto', 'PCMU', 'opus'] as const;
const EARLY_ANSWER = EARLY_ANSWERS.find((e) => e === values['early-answer']) ?? 'off';
const CLIENT = values.client === 'wrtc' ? 'wrtc' : 'ndc';
const GATEWAY_RUNTIME = GATEWAY_RUNTIMES.find((r) => r === values['gateway-runtime']);
if (!GATEWAY_RUNTIME)
  throw new Error(`--gateway-runtime: dist or tsx, not ${values['gateway-runtime']}`);
const gatewayRuntime: GatewayRuntime = GATEWAY_RUNTIME;
const SYSTEMS_RUN = (values.systems ?? SYSTEMS.join(','))
  .split(',')
  .map((x) => x.trim())
  .filter((x): x is SystemName => (SYSTEMS as readonly string[]).includes(x));

/** `--window-prof`: the gateway's Node process profiled per step (admission, hold), here. */
function windowProfileDir(system: SystemName): string {
  const d = join(
    REPO_ROOT,
    'bench',
    'results',
    `webrtc-${host.date.replace(/:/g, '-').slice(0, 19)}-${system}-profiles`,
  );
  mkdirSync(d, { recursive: true });
  return d;
}

const started = performance.now();
const progress = (line: string): void => {
  process.stderr.write(
    `[webrtc ${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${line}\n`,
  );
};

// Whatever happens, nothing this started outlives it.
let stopping = false;
async function shutdown(code: number, why: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  progress(why);
  await stopAll().catch(() => undefined);
  process.exit(code);
}
process.once('SIGINT', () => void shutdown(130, 'interrupted: stopping everything'));
process.once('SIGTERM', () => void shutdown(143, 'terminated: stopping everything'));
const watchdog = setTimeout(
  () => void shutdown(2, `time limit of ${OPT.timeoutSeconds} s reached: stopping everything`),
  OPT.timeoutSeconds * 1000,
);
watchdog.unref();

const host = machine();
const inNetns = process.env['PARLEY_NETNS'] === '1';
progress(
  `${host.cpu}, ${host.cores} CPUs, Node ${host.node}, load ${host.loadAverage}; ${inNetns ? 'in a private network namespace' : 'NOT in a network namespace (use ./scripts/in-netns.sh)'}`,
);
const dir = mkdtempSync(join(tmpdir(), 'parley-bench-webrtc-'));

let bytes: WidgetBytes | undefined;
let setup: WidgetSetupResult | undefined;
const concurrent: ConcurrencyResult[] = [];
const errors: string[] = [];

try {
  if (PHASES.has('bytes') || PHASES.has('setup')) {
    if (!existsSync(join(WIDGET_DIST, 'parley.js'))) {
      progress('widget/dist is missing: building it (npx -y pnpm@9 --filter @parley/widget build)');
      await runCommand('npx', ['-y', 'pnpm@9', '--filter', '@parley/widget', 'build'], {
        cwd: REPO_ROOT,
        timeoutMs: 300_000,
      });
    }
  }
  if (PHASES.has('bytes')) {
    bytes = measureWidgetBytes(WIDGET_DIST);
    for (const f of bytes.files)
      progress(`bytes: ${f.file} (${f.role}) ${f.minBytes} min, ${f.gzipBytes} gzip`);
  }
  if (PHASES.has('setup')) {
    progress(`setup: ${OPT.calls} calls in Chromium, one at a time`);
    try {
      setup = await runWidgetSetup({
        calls: OPT.calls,
        pollMs: OPT.pollMs,
        answerDelayMs: OPT.answerDelayMs,
        holdMs: QUICK ? 300 : 1000,
        earlyAnswer: EARLY_ANSWER,
        dwellMs: num(values['dwell-ms'], 0),
        progress: (l) => progress(`setup: ${l}`),
      });
    } catch (error) {
      errors.push(`setup: ${(error as Error).stack ?? String(error)}`);
      progress(`setup phase failed: ${(error as Error).message}`);
    }
    await stopAll();
  }
  if (PHASES.has('concurrent')) {
    if (host.cores < 2) progress('concurrent: fewer than 2 CPUs: gateway and clients share one');
    for (const system of SYSTEMS_RUN) {
      if (system === 'janus' && !janusInstalled()) {
        progress('concurrent: janus is not installed (scripts/install-system-deps.sh): skipped');
        continue;
      }
      progress(
        `concurrent ${system}: steps ${OPT.steps.join(', ')}, hold ${OPT.holdSeconds} s each, ${CLIENT} clients`,
      );
      try {
        concurrent.push(
          await runConcurrency({
            system,
            client: CLIENT,
            steps: OPT.steps,
            holdSeconds: OPT.holdSeconds,
            gatewayCpu: OPT.gatewayCpu,
            clientCpu: host.cores < 2 ? OPT.gatewayCpu : OPT.clientCpu,
            maxCallsPerAgent: OPT.perAgent,
            rampPerSecond: OPT.ramp,
            maxSetups: OPT.maxSetups,
            sampleRate: OPT.sampleRate,
            dir: join(dir, system),
            stopFailureShare: 0.5,
            gatewayRuntime,
            gatewayNodeArgs: (values['gateway-node-args'] ?? '').split(' ').filter(Boolean),
            ...(values['window-prof'] && system !== 'janus'
              ? { windowProfileDir: windowProfileDir(system) }
              : {}),
            ...(values['cpu-prof'] && system !== 'janus'
              ? {
                  cpuProfileTo: join(
                    REPO_ROOT,
                    'bench',
                    'results',
                    `webrtc-${host.date.replace(/:/g, '-').slice(0, 19)}-${system}.cpuprofile`,
                  ),
                }
              : {}),
            progress: (l) => progress(`concurrent ${system}: ${l}`),
          }),
        );
      } catch (error) {
        errors.push(`concurrent ${system}: ${(error as Error).stack ?? String(error)}`);
        progress(`concurrent ${system} failed: ${(error as Error).message}`);
      }
      await stopAll();
    }
  }
} finally {
  await stopAll();
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
}

const out = report({ host, quick: QUICK, inNetns, opt: OPT, setup, concurrent, bytes, errors });
process.stdout.write(`${out.join('\n')}\n`);
const resultsDir = join(REPO_ROOT, 'bench', 'results');
mkdirSync(resultsDir, { recursive: true });
const file = join(resultsDir, `webrtc-${host.date.replace(/:/g, '-').slice(0, 19)}.json`);
writeFileSync(
  file,
  `${JSON.stringify({ machine: host, options: { ...OPT, quick: QUICK, phases: [...PHASES] }, inNetns, bytes, setup, concurrent, errors }, null, 2)}\n`,
);
progress(`results: ${file}`);
clearTimeout(watchdog);
process.exit(errors.length ? 1 : 0);
