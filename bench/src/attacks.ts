/**
 * The gateway under attack (issue 17): its CPU and memory, and whether real
 * calls still complete, while a stranger on this machine
 *   1. floods it with INVITEs that never ACK (sipp, `uac-invite-flood`, from 127.0.0.1), and
 *   2. holds SIP over TCP connections open with partial 12 kB INVITEs trickled a byte
 *      every few seconds (Slowloris over SIP, from 127.0.0.1).
 * Throughout, a sipp UAC on another source (127.0.0.2) places calls with tokens at a
 * steady rate through the gateway to a sipp UAS agent; each phase reports the calls
 * that completed and failed, the gateway's CPU (% of one core) and RSS, and the
 * largest count of live server transactions (/metrics).
 *
 *   node --import tsx bench/src/attacks.ts [--repo DIR] [--seconds 20] [--flood-rate 500]
 *        [--slow-connections 1000] [--call-rate 5] [--phases calls,flood,slow]
 *
 * `--repo DIR` runs the gateway of another checkout (e.g. an export of main) with
 * this harness: the before/after figures in docs/benchmarks.md come from one
 * machine, one harness, two gateways. Everything stays on 127.0.0.0/8 and stops by itself.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  bundledScenario,
  defaultPortAllocator,
  runSipp,
  startSipp,
  type SippInstance,
  type SippResult,
} from '@parley/testkit';
import { QUEUE, REPO_ROOT, startBenchGateway, type BenchGateway } from './bench-gateway.js';
import { ProcSampler } from './proc-usage.js';

const { values } = parseArgs({
  options: {
    repo: { type: 'string' },
    seconds: { type: 'string', default: '20' },
    'flood-rate': { type: 'string', default: '500' },
    'slow-connections': { type: 'string', default: '1000' },
    'call-rate': { type: 'string', default: '5' },
    /** Which phases, in order: `calls`, `flood`, `slow`. */
    phases: { type: 'string', default: 'calls,flood,slow' },
  },
});
const SECONDS = Number(values.seconds);
const FLOOD_RATE = Number(values['flood-rate']);
const SLOW = Number(values['slow-connections']);
const CALL_RATE = Number(values['call-rate']);
const CALL_MS = 2000;
/** Server transactions the steady calls alone keep alive (each call's INVITE and BYE, 32 s). */
const SETTLED_TRANSACTIONS = Math.ceil(CALL_RATE * 2 * 40);

interface PhaseResult {
  readonly phase: string;
  readonly cpuPercent: number;
  readonly peakCpuPercent: number;
  readonly rssMeanMb: number;
  readonly rssMaxMb: number;
  readonly peakServerTx: number;
  readonly callsOk: number;
  readonly callsFailed: number;
  readonly note: string;
}

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function serverTransactions(gw: BenchGateway): Promise<number> {
  const text = await (await fetch(`${gw.httpUrl}/metrics`)).text();
  return Number(/^parley_sip_transactions\{side="server"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

/** Real calls from 127.0.0.2 for `seconds`, each with its own token. */
async function legitimateCalls(gw: BenchGateway, seconds: number): Promise<SippResult> {
  const calls = Math.max(1, Math.round(CALL_RATE * seconds));
  const { tokens } = await gw.issueTokens(calls);
  return runSipp({
    scenario: { file: join(REPO_ROOT, 'bench/scenarios/uac-bearer-nortp.xml') },
    remote: gw.sip,
    address: '127.0.0.2',
    service: QUEUE,
    rate: CALL_RATE,
    calls,
    concurrency: Math.ceil(CALL_RATE * (CALL_MS / 1000 + 10)),
    mediaPortCount: 8,
    callDurationMs: CALL_MS,
    injection: { rows: tokens.map((t) => [t]) },
    traceMessages: false,
    recvTimeoutMs: 10_000,
    timeoutMs: seconds * 1000 + 60_000,
    name: 'sipp-visitors',
  });
}

/** The INVITE flood: `FLOOD_RATE` a second from 127.0.0.1, never ACKed; stop() ends it. */
async function startFlood(gw: BenchGateway): Promise<{ stop(): Promise<string> }> {
  const flood: SippInstance = await startSipp({
    scenario: await bundledScenario('uac-invite-flood'),
    remote: gw.sip,
    service: QUEUE,
    rate: FLOOD_RATE,
    calls: FLOOD_RATE * SECONDS,
    concurrency: FLOOD_RATE * 4,
    mediaPortCount: 8,
    callDurationMs: 1000,
    keys: { token: 'not.a.token' },
    traceMessages: false,
    extraArgs: ['-nd'],
    name: 'sipp-flood',
  });
  return {
    async stop() {
      const result = await flood.stop();
      return `${result.stats.created} INVITEs sent`;
    },
  };
}

/** The slow clients: SLOW connections, each a partial 12 kB INVITE, then a byte every 5 s. */
async function startSlowClients(gw: BenchGateway): Promise<{ stop(): Promise<string> }> {
  const [host = '127.0.0.1', port = '0'] = (gw.sipTcp ?? '').split(':');
  const sockets: Socket[] = [];
  let closedByGateway = 0;
  let stopping = false;
  const head =
    'INVITE sip:sales@parley.bench SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:5099;branch=z9hG4bK-slow\r\n' +
    `X-Padding: ${'a'.repeat(12_000)}`;
  for (let i = 0; i < SLOW; i += 1) {
    const socket = connect({ host, port: Number(port) });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (!stopping) closedByGateway += 1;
    });
    socket.write(head);
    sockets.push(socket);
    if (i % 50 === 49) await sleep(10);
  }
  const trickle = setInterval(() => {
    for (const s of sockets) if (!s.destroyed) s.write('b');
  }, 5000);
  return {
    async stop() {
      clearInterval(trickle);
      const open = sockets.filter((s) => !s.destroyed).length;
      stopping = true;
      for (const s of sockets) s.destroy();
      return `${SLOW} opened, ${open} still open at the end, ${closedByGateway} closed by the gateway`;
    },
  };
}

async function phase(
  gw: BenchGateway,
  sampler: ProcSampler,
  name: string,
  attack?: (gw: BenchGateway) => Promise<{ stop(): Promise<string> }>,
): Promise<PhaseResult> {
  process.stderr.write(`phase: ${name}\n`);
  const running = attack ? await attack(gw) : undefined;
  const startedAt = performance.now();
  let peakServerTx = 0;
  const poll = setInterval(() => {
    void serverTransactions(gw).then(
      (n) => (peakServerTx = Math.max(peakServerTx, n)),
      () => undefined,
    );
  }, 500);
  const calls = await legitimateCalls(gw, SECONDS);
  clearInterval(poll);
  const note = (await running?.stop()) ?? '';
  const endedAt = performance.now();
  const usage = sampler.window(startedAt, endedAt);
  // Let what the phase left (transactions waiting for Timer H/J, 32 s) end before the
  // next phase, so that one's figures are its own (bounded: 60 s).
  const settleBound = performance.now() + 60_000;
  await sleep(5000);
  while ((await serverTransactions(gw)) > SETTLED_TRANSACTIONS && performance.now() < settleBound)
    await sleep(1000);
  return {
    phase: name,
    cpuPercent: Math.round(usage?.cpuPercent ?? 0),
    peakCpuPercent: Math.round(usage?.peakCpuPercent ?? 0),
    rssMeanMb: mb(usage?.rssMeanBytes ?? 0),
    rssMaxMb: mb(usage?.rssMaxBytes ?? 0),
    peakServerTx,
    callsOk: calls.stats.successful,
    callsFailed: calls.stats.failed,
    note,
  };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-attacks-'));
  const ports = defaultPortAllocator();
  const media = await ports.allocate(400, { protocols: ['udp'], even: true });
  const uas = await startSipp({
    scenario: await bundledScenario('uas-answer-pcmu-echo'),
    rtpEcho: true,
    traceMessages: false,
    ports,
    name: 'sipp-uas',
  });
  const gw = await startBenchGateway({
    dir,
    ports,
    agentContact: uas.address,
    agents: 10,
    maxCallsPerAgent: 10,
    media,
    tcp: true,
    // The default per-source limit (the bench's own gateway lifts it for ramps).
    sipExtra: { rateLimit: { perSecond: 20, burst: 60 } },
    ...(values.repo ? { repoRoot: values.repo } : {}),
  });
  const sampler = new ProcSampler(gw.pid);
  const results: PhaseResult[] = [];
  try {
    for (const name of (values.phases ?? '').split(',')) {
      if (name === 'calls') results.push(await phase(gw, sampler, 'calls only'));
      else if (name === 'flood')
        results.push(await phase(gw, sampler, `INVITE flood ${FLOOD_RATE}/s`, startFlood));
      else if (name === 'slow')
        results.push(await phase(gw, sampler, `TCP slow clients ×${SLOW}`, startSlowClients));
      else throw new Error(`unknown phase ${name} (calls, flood, slow)`);
    }
  } finally {
    sampler.stop();
    await gw.stop();
    await uas.stop();
    media.release();
    rmSync(dir, { recursive: true, force: true });
  }
  const gateway = values.repo ?? REPO_ROOT;
  process.stdout.write(
    `\ngateway: ${gateway}; ${SECONDS} s per phase; calls ${CALL_RATE}/s from 127.0.0.2\n\n` +
      '| phase | CPU % (peak) | RSS MB mean / max | server transactions (peak) | calls ok / failed | attack |\n' +
      '|---|---|---|---|---|---|\n' +
      results
        .map(
          (r) =>
            `| ${r.phase} | ${r.cpuPercent} (${r.peakCpuPercent}) | ${r.rssMeanMb} / ${r.rssMaxMb} | ${r.peakServerTx} | ${r.callsOk} / ${r.callsFailed} | ${r.note} |`,
        )
        .join('\n') +
      '\n',
  );
}

await main();
