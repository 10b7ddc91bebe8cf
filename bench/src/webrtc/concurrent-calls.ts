/**
 * Concurrent bridged calls on one gateway core: the system under test
 * (server-under-test.ts: Parley on mediasoup or on its relay engine, or Janus)
 * as its own process(es) pinned to `gatewayCpu`; visitors are WebRTC clients
 * (load-clients.ts: libdatachannel, or @roamhq/wrtc; one child process pinned
 * to `clientCpu`), each on its own WebSocket (with a fresh token for Parley);
 * agents are one sipp UAS (answers PCMU, echoes RTP) behind static agent
 * contacts, also on `clientCpu`, as is this process while it runs.
 *
 * Calls are stepped up to each target, then held `holdSeconds` while the
 * gateway's CPU (utime+stime deltas of /proc/<pid>/stat) and RSS are read
 * every second, and every client's RTP counters are read at both ends of the
 * hold: audio "flowed" for a call when its inbound packets grew (the UAS
 * echoes the client's own audio back through the gateway).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { summarizeCpuProfile, type ProfileSummary } from '../cpu-profile.js';
import { openProfiler, type ProfilerSession } from '../inspector-profiler.js';
import { EventEmitter } from 'node:events';
import {
  PortAllocator,
  bundledScenario,
  spawnManaged,
  startSipp,
  type ManagedProcess,
  type PortBlock,
  type SippInstance,
} from '@parley/testkit';
import { DOMAIN, ORIGIN, QUEUE, REPO_ROOT } from '../bench-gateway.js';
import type { GatewayRuntime } from '../gateway-build.js';
import { gatewaySide, type GatewaySide } from './gateway-side.js';
import { startServer, type ServerUnderTest, type SystemName } from './server-under-test.js';
import {
  cpuShares,
  cpuTimes,
  descendants,
  readProc,
  treeMemory,
  udpDrops,
  summary,
  usageBetween,
  type ProcReading,
  type Summary,
} from './measure.js';

export interface ConcurrencyOptions {
  /** What is loaded: Parley on mediasoup, Parley on the relay engine, or Janus. */
  readonly system: SystemName;
  /** The visitors' WebRTC stack: libdatachannel (light) or libwebrtc. */
  readonly client: 'ndc' | 'wrtc';
  readonly steps: readonly number[];
  readonly holdSeconds: number;
  readonly gatewayCpu: number;
  readonly clientCpu: number;
  readonly maxCallsPerAgent: number;
  /** Calls placed per second while stepping up. */
  readonly rampPerSecond: number;
  /** Setups the clients run at once. */
  readonly maxSetups: number;
  /** Sample rate of the clients' tone frames. */
  readonly sampleRate: number;
  readonly dir: string;
  /** A step whose setups fail more than this share ends the run. */
  readonly stopFailureShare: number;
  readonly progress: (line: string) => void;
  /** Run the gateway with `node --cpu-prof` and copy the profile here (a path ending in .cpuprofile). */
  readonly cpuProfileTo?: string;
  /**
   * Parley: profile its Node process (over its inspector) while each step's
   * calls are placed and during each hold, the profiles written to this folder.
   */
  readonly windowProfileDir?: string;
  /** Parley: its compiled build (default) or its sources through tsx. */
  readonly gatewayRuntime?: GatewayRuntime;
  /** Parley: Node flags added to its process (e.g. V8 heap settings). */
  readonly gatewayNodeArgs?: readonly string[];
}

export interface StepResult {
  readonly target: number;
  /** Calls up at the end of the hold. */
  readonly up: number;
  readonly placed: number;
  readonly failed: number;
  /** `status reason` → count, for the setups of this step that failed. */
  readonly failures: Record<string, number>;
  /** INVITE → 200 of this step's new calls, ms. */
  readonly inviteMs: Summary;
  /** This step's new calls at the client: 200 OK → ICE connected, → DTLS connected, ms. */
  readonly iceMs: Summary;
  readonly dtlsMs: Summary;
  /** This step's new calls at the client: answer (200 OK / accepted) → first audio packet received, ms. */
  readonly firstAudioMs: Summary;
  /** This step's new calls whose data channel opened. */
  readonly dataChannelsOpen: number;
  readonly holdSeconds: number;
  readonly gatewayCpuPercent: number;
  /** The load clients' process (all @roamhq/wrtc calls), % of one core: near 100 means the load generator, not the gateway, is the limit. */
  readonly clientsCpuPercent: number;
  /** Highest one-second CPU % during the hold. */
  readonly gatewayPeakCpuPercent: number;
  /** What other tasks took on the gateway's core (its CPU's task time minus the gateway's), %. */
  readonly othersOnGatewayCorePercent: number;
  /** irq + softirq time on the gateway's core (not charged to any task), %. */
  readonly interruptsOnGatewayCorePercent: number;
  /** Steal time on the gateway's core (the hypervisor ran other guests), %. */
  readonly stealOnGatewayCorePercent: number;
  readonly rssBytes: number;
  /** CPU ms per call placed, per process of the system, from the first call placed to the last setup's end. */
  readonly admitCpuMsPerCall: Record<string, number>;
  /** CPU % of one core per process of the system over the hold. */
  readonly cpuByProcess: Record<string, number>;
  /** RSS per process of the system at the end of the hold (Parley: node, its mediasoup worker, tsx's esbuild service). */
  readonly rssByProcess: Record<string, number>;
  /** (CPU % − idle) / calls up. */
  readonly cpuPercentPerCall: number;
  /** (RSS − idle RSS) / calls up. */
  readonly rssBytesPerCall: number;
  /** Calls up whose inbound packets grew during the hold. */
  readonly audioFlowing: number;
  /** Calls up at the start of the hold that ended during it. */
  readonly droppedDuringHold: number;
  /** Per call up, mean over the hold. */
  readonly inboundPacketsPerSecond: number;
  readonly outboundPacketsPerSecond: number;
  readonly codecs: Record<string, number>;
  readonly gauges: Record<string, number>;
  /** Datagrams the kernel dropped during the hold (full receive buffers): on the gateway's sockets, and on everyone else's (clients, sipp). */
  readonly udpDropsGateway: number;
  readonly udpDropsOthers: number;
  /** The load generator could not keep up (its core ≥ 97 % busy and the clients got back < 80 % of what they sent): the row measures it, not the gateway. */
  readonly loadGeneratorSaturated: boolean;
  /** sipp (UAS and RTP echo), % of one core. */
  readonly sippCpuPercent: number;
  /** The load generator's CPU (clients, sipp, the bench), all tasks, % busy. */
  readonly clientCoreBusyPercent: number;
  /** The same new calls as the gateway recorded them (GET /v1/calls after the run). */
  readonly gatewaySide?: GatewaySide;
  /** Where the gateway's Node process spent its CPU while the step's calls were placed, and during the hold. */
  readonly profiles?: { readonly admit?: WindowProfile; readonly hold?: WindowProfile };
}

type WindowProfile = ProfileSummary & { readonly file: string };

const TEARDOWN_SETTLE_SECONDS = 40;

export interface ConcurrencyResult {
  readonly system: SystemName;
  /** Parley: how its process ran (compiled build or tsx), and the Node flags added. */
  readonly gatewayRuntime?: GatewayRuntime;
  readonly gatewayNodeArgs?: readonly string[];
  readonly client: 'ndc' | 'wrtc';
  readonly gatewayPinned: string;
  readonly clientsPinned: string;
  readonly agents: number;
  readonly maxCallsPerAgent: number;
  readonly idle: {
    readonly cpuPercent: number;
    readonly rssBytes: number;
    /** V8 heap in use after a full GC, after the warm-up call. */
    readonly liveHeapBytes: number;
  };
  /** How busy the gateway's CPU was with other work (tasks + irq + steal) over 2 s before anything started, %. */
  readonly gatewayCoreBusyBeforePercent: number;
  readonly steps: readonly StepResult[];
  readonly teardown: {
    readonly hungUp: number;
    readonly byeConfirmed: number;
    readonly seconds: number;
    readonly gaugesAfter: Record<string, number>;
    readonly rssAfterBytes: number;
    /** V8 heap in use after a full GC once every call ended: above idle's is what the calls left behind. */
    readonly liveHeapBytes: number;
    /** The same, {@link TEARDOWN_SETTLE_SECONDS} later: what outlives every SIP timer (Timer B/F/H of 32 s). */
    readonly liveHeapLaterBytes: number;
  };
  readonly gatewayWarnings: readonly string[];
  readonly stoppedEarly?: string;
  /** Where the gateway's CPU went over the whole run (`--cpu-prof`). */
  readonly cpuProfile?: ProfileSummary & { readonly file: string };
}

interface CallEvent {
  ev: 'call';
  id: number;
  callId: string;
  ok: boolean;
  status: number;
  reason?: string;
  gatherMs: number;
  wsMs: number;
  inviteMs: number;
  totalMs: number;
}
interface ClientStats {
  id: number;
  up: boolean;
  ended?: string;
  inboundPackets?: number;
  outboundPackets?: number;
  codec?: string;
  iceState?: string;
  dataChannelOpen?: boolean;
  iceMs?: number;
  dtlsMs?: number;
  firstAudioMs?: number;
}
type ClientEvent =
  | CallEvent
  | { ev: 'stats'; calls: ClientStats[] }
  | { ev: 'hangup'; calls: number; confirmed: number }
  | { ev: 'ready'; pid: number };

const sleep = (msec: number): Promise<void> => new Promise((r) => setTimeout(r, msec));

/** The load-clients child, spoken to in JSON lines. */
class Clients {
  readonly events = new EventEmitter<{ event: [ClientEvent] }>();
  readonly process: ManagedProcess;
  #partial = '';

  constructor(settings: Record<string, unknown>, cpu: number) {
    this.events.setMaxListeners(0);
    this.process = spawnManaged({
      command: 'taskset',
      args: [
        '-c',
        String(cpu),
        'node',
        '--import',
        'tsx',
        'bench/src/webrtc/load-clients.ts',
        JSON.stringify(settings),
      ],
      cwd: REPO_ROOT,
      name: 'load-clients',
      stdin: 'pipe',
      maxLines: 200,
      onOutput: (chunk, stream) => {
        if (stream !== 'stdout') return;
        const parts = (this.#partial + chunk).split('\n');
        this.#partial = parts.pop() ?? '';
        for (const line of parts) {
          if (!line.startsWith('{')) continue;
          try {
            this.events.emit('event', JSON.parse(line) as ClientEvent);
          } catch {
            // A stray line (libwebrtc prints some): not ours.
          }
        }
      },
    });
  }

  send(command: Record<string, unknown>): void {
    this.process.stdin?.write(`${JSON.stringify(command)}\n`);
  }

  next<T extends ClientEvent['ev']>(
    ev: T,
    timeoutMs: number,
  ): Promise<Extract<ClientEvent, { ev: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.events.off('event', on);
        reject(
          new Error(
            `load clients: no "${ev}" within ${timeoutMs} ms\n${this.process.describe(20)}`,
          ),
        );
      }, timeoutMs);
      const on = (e: ClientEvent): void => {
        if (e.ev !== ev) return;
        clearTimeout(timer);
        this.events.off('event', on);
        resolve(e as Extract<ClientEvent, { ev: T }>);
      };
      this.events.on('event', on);
    });
  }

  async stats(): Promise<Map<number, ClientStats>> {
    const reply = this.next('stats', 30_000);
    this.send({ op: 'stats' });
    return new Map((await reply).calls.map((c) => [c.id, c]));
  }
}

const pick = (g: Record<string, number>): Record<string, number> =>
  Object.fromEntries(
    Object.entries(g).filter(([k]) =>
      /calls_active|media_routers|sip_dialogs|sip_transactions|resident_memory/.test(k),
    ),
  );

function pin(pid: number, cpus: string): void {
  execFileSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
}

export async function runConcurrency(o: ConcurrencyOptions): Promise<ConcurrencyResult> {
  const maxTarget = Math.max(...o.steps);
  const agents = Math.max(10, Math.ceil(maxTarget / o.maxCallsPerAgent));
  const ports = new PortAllocator();
  const portBlocks: PortBlock[] = [];
  const warnings: string[] = [];
  const allCpus = `0-${Math.max(0, (await import('node:os')).availableParallelism() - 1)}`;
  let sipp: SippInstance | undefined;
  let gateway: ServerUnderTest | undefined;
  let clients: Clients | undefined;
  let profiler: ProfilerSession | undefined;
  try {
    const before0 = cpuTimes(o.gatewayCpu);
    await sleep(2000);
    const before1 = cpuTimes(o.gatewayCpu);
    const beforeShares = before0 && before1 ? cpuShares(before0, before1) : undefined;
    const busyBefore = beforeShares
      ? beforeShares.tasks + beforeShares.interrupts + beforeShares.steal
      : Number.NaN;
    o.progress(
      `CPU ${o.gatewayCpu} was ${busyBefore.toFixed(0)} % busy with other work before the gateway started`,
    );
    pin(process.pid, String(o.clientCpu));
    sipp = await startSipp({
      scenario: await bundledScenario('uas-answer-pcmu-echo'),
      rtpEcho: true,
      traceMessages: false,
      ports,
      name: 'sipp-uas',
    });
    const sippPid = sipp.process.pid ?? 0;
    if (sippPid) pin(sippPid, String(o.clientCpu));
    o.progress(`sipp UAS (PCMU, RTP echo) on ${sipp.address}, pinned to CPU ${o.clientCpu}`);
    // Plain RTP: an RTP/RTCP pair per leg and call; WebRTC: one ICE socket per call (ICE-lite, rtcp-mux).
    // Plain RTP: an RTP/RTCP pair per agent leg (and per SIP-plugin call in Janus); WebRTC:
    // one ICE socket per call (relay, Janus; mediasoup needs one per worker).
    const media = await ports.allocate(Math.min(2000, maxTarget * 2 + 100), {
      protocols: ['udp'],
      even: true,
    });
    const webrtc = await ports.allocate(Math.min(1200, maxTarget + 100), {
      protocols: ['udp'],
      even: false,
    });
    portBlocks.push(media, webrtc);
    gateway = await startServer({
      system: o.system,
      dir: o.dir,
      ports,
      cpu: o.gatewayCpu,
      agentContact: sipp.address,
      agents,
      maxCallsPerAgent: o.maxCallsPerAgent,
      media,
      webrtc,
      ...(o.gatewayRuntime ? { runtime: o.gatewayRuntime } : {}),
      nodeArgs: [
        ...(o.gatewayNodeArgs ?? []),
        ...(o.cpuProfileTo && o.system !== 'janus'
          ? ['--cpu-prof', '--cpu-prof-dir', join(o.dir, 'prof')]
          : []),
      ],
      onLine: (line) => {
        if (warnings.length < 200) warnings.push(line.slice(0, 400));
      },
    });
    const gw = gateway;
    o.progress(
      `${o.system} pid ${gw.pid} pinned to CPU ${o.gatewayCpu}, ${agents} agents × ${o.maxCallsPerAgent} calls, ${gw.wsUrl}`,
    );
    clients = new Clients(
      {
        target: o.system === 'janus' ? 'janus' : 'parley',
        client: o.client,
        calleeUri: `sip:agent@${sipp.address}`,
        wsUrl: gw.wsUrl,
        origin: ORIGIN,
        queue: QUEUE,
        domain: DOMAIN,
        sampleRate: o.sampleRate,
        toneHz: 1000,
        maxSetups: o.maxSetups,
      },
      o.clientCpu,
    );
    const cl = clients;
    await cl.next('ready', 30_000);
    const inspectPort = gw.gateway?.inspectPort;
    profiler =
      o.windowProfileDir && inspectPort !== undefined ? await openProfiler(inspectPort) : undefined;
    const profileWindow = async (name: string): Promise<WindowProfile | undefined> => {
      if (!profiler || !o.windowProfileDir) return undefined;
      const file = join(o.windowProfileDir, `${name}.cpuprofile`);
      await profiler.stop(file);
      const summaryOf = { ...summarizeCpuProfile(file, { top: 15 }), file };
      o.progress(
        `profile ${name}: ${summaryOf.busySeconds} s busy; ${summaryOf.functions
          .slice(0, 8)
          .map((f) => `${f.name} ${f.percent} %`)
          .join('; ')}`,
      );
      return summaryOf;
    };

    // Idle baseline (after a warm-up call, so the modules the call path loads are in).
    const [warmToken] = await gw.tokens(1);
    const warm = cl.next('call', 30_000);
    cl.send({ op: 'call', id: 0, token: warmToken });
    const warmResult = await warm;
    o.progress(
      `warm-up call: ${warmResult.ok ? `up, INVITE→200 ${warmResult.inviteMs.toFixed(0)} ms` : `failed ${warmResult.status} ${warmResult.reason ?? ''}`}`,
    );
    await sleep(1000);
    {
      const hung = cl.next('hangup', 15_000);
      cl.send({ op: 'hangup' });
      await hung;
    }
    await sleep(2000);
    const idleA = gw.read();
    await sleep(3000);
    const idleB = gw.read();
    if (!idleA || !idleB) throw new Error('cannot read the system under test in /proc');
    const idle = usageBetween(idleA, idleB);
    const idleHeap = await gw.liveHeapBytes();
    o.progress(
      `idle: gateway ${idle.cpuPercent.toFixed(1)} % CPU, RSS ${(idle.rssBytes / 2 ** 20).toFixed(1)} MB, live heap ${(idleHeap / 2 ** 20).toFixed(1)} MB`,
    );

    const results: StepResult[] = [];
    const stepIds: number[][] = [];
    const setups = new Map<number, CallEvent>();
    cl.events.on('event', (e) => {
      if (e.ev === 'call') setups.set(e.id, e);
    });
    let nextId = 1;
    let stoppedEarly: string | undefined;
    for (const target of o.steps) {
      const before = await cl.stats();
      const upNow = [...before.values()].filter((c) => c.up).length;
      const need = Math.max(0, target - upNow);
      o.progress(`step ${target}: ${upNow} up, placing ${need} at ${o.rampPerSecond}/s`);
      const tokens = need > 0 ? await gw.tokens(need) : [];
      const ids: number[] = [];
      await profiler?.start();
      const admitTree = [gw.pid, ...descendants(gw.pid)];
      const admitA = new Map(admitTree.map((pid) => [pid, readProc(pid)]));
      const stepStart = performance.now();
      for (const token of tokens) {
        const id = nextId;
        nextId += 1;
        ids.push(id);
        cl.send({ op: 'call', id, token });
        await sleep(1000 / o.rampPerSecond);
      }
      const deadline = performance.now() + 30_000 + need * 200;
      while (ids.some((id) => !setups.has(id)) && performance.now() < deadline) await sleep(100);
      const stepSetups = ids
        .map((id) => setups.get(id))
        .filter((s): s is CallEvent => s !== undefined);
      const failures: Record<string, number> = {};
      for (const s of stepSetups.filter((x) => !x.ok)) {
        const key = `${s.status} ${s.reason ?? ''}`.trim();
        failures[key] = (failures[key] ?? 0) + 1;
      }
      const missing = ids.length - stepSetups.length;
      if (missing > 0) failures['no result (client timeout)'] = missing;
      const failed = stepSetups.filter((x) => !x.ok).length + missing;
      o.progress(
        `step ${target}: ${stepSetups.filter((x) => x.ok).length}/${ids.length} set up in ${((performance.now() - stepStart) / 1000).toFixed(1)} s${failed ? `, failed: ${JSON.stringify(failures)}` : ''}`,
      );
      const admitNames = new Map(treeMemory(gw.pid).map((p) => [p.pid, p.name]));
      const admitCpuMsPerCall: Record<string, number> = {};
      for (const [pid, a0] of admitA) {
        const b0 = readProc(pid);
        if (a0 && b0 && ids.length > 0)
          admitCpuMsPerCall[`${admitNames.get(pid) ?? '?'} ${pid}`] =
            ((b0.cpuSeconds - a0.cpuSeconds) * 1000) / ids.length;
      }
      o.progress(`step ${target}: admission CPU ms per call ${JSON.stringify(admitCpuMsPerCall)}`);
      const admitProfile = await profileWindow(`admit-${target}`);
      await sleep(2000); // ICE, DTLS and the first packets of the last calls
      await profiler?.start();

      const startStats = await cl.stats();
      const readings: ProcReading[] = [];
      const coreA = cpuTimes(o.gatewayCpu);
      const loadCoreA = cpuTimes(o.clientCpu);
      const clientsPid = cl.process.pid ?? 0;
      const clientsA = readProc(clientsPid);
      const sippA = readProc(sippPid);
      const dropsA = udpDrops(gw.udpPorts);
      const tree = [gw.pid, ...descendants(gw.pid)];
      const perProcessA = new Map(tree.map((pid) => [pid, readProc(pid)]));
      const first = gw.read();
      if (first) readings.push(first);
      const holdEnd = performance.now() + o.holdSeconds * 1000;
      while (performance.now() < holdEnd) {
        await sleep(Math.min(1000, holdEnd - performance.now()));
        const r = gw.read();
        if (r) readings.push(r);
      }
      const coreB = cpuTimes(o.gatewayCpu);
      const loadCoreB = cpuTimes(o.clientCpu);
      const clientsB = readProc(clientsPid);
      const sippB = readProc(sippPid);
      const dropsB = udpDrops(gw.udpPorts);
      const names = new Map(treeMemory(gw.pid).map((p) => [p.pid, p.name]));
      const cpuByProcess: Record<string, number> = {};
      for (const [pid, a0] of perProcessA) {
        const b0 = readProc(pid);
        if (a0 && b0)
          cpuByProcess[`${names.get(pid) ?? '?'} ${pid}`] = usageBetween(a0, b0).cpuPercent;
      }
      const holdProfile = await profileWindow(`hold-${target}`);
      const endStats = await cl.stats();
      const a = readings[0];
      const b = readings.at(-1);
      if (!a || !b) throw new Error('the gateway is gone');
      const usage = usageBetween(a, b);
      let peak = 0;
      for (let i = 1; i < readings.length; i += 1) {
        const prev = readings[i - 1];
        const cur = readings[i];
        if (prev && cur) peak = Math.max(peak, usageBetween(prev, cur).cpuPercent);
      }
      const core =
        coreA && coreB
          ? cpuShares(coreA, coreB)
          : { tasks: Number.NaN, interrupts: Number.NaN, steal: Number.NaN };
      const upCalls = [...endStats.values()].filter((c) => c.up);
      const upAtStart = [...startStats.values()].filter((c) => c.up);
      let flowing = 0;
      let inbound = 0;
      let outbound = 0;
      const codecs: Record<string, number> = {};
      for (const c of upCalls) {
        const s0 = startStats.get(c.id);
        const dIn = (c.inboundPackets ?? 0) - (s0?.inboundPackets ?? 0);
        if (dIn > 0) flowing += 1;
        inbound += dIn;
        outbound += (c.outboundPackets ?? 0) - (s0?.outboundPackets ?? 0);
        const codec = c.codec ?? 'none';
        codecs[codec] = (codecs[codec] ?? 0) + 1;
      }
      const dropped = upAtStart.filter((c) => !endStats.get(c.id)?.up).length;
      const gauges = await gw.gauges().catch(() => ({}));
      const n = upCalls.length;
      const loadCoreBusy =
        loadCoreA && loadCoreB
          ? (({ tasks, interrupts, steal }) => tasks + interrupts + steal)(
              cpuShares(loadCoreA, loadCoreB),
            )
          : Number.NaN;
      const step: StepResult = {
        target,
        up: n,
        placed: ids.length,
        failed,
        failures,
        inviteMs: summary(stepSetups.filter((x) => x.ok).map((x) => x.inviteMs)),
        iceMs: summary(
          ids.map((id) => endStats.get(id)?.iceMs).filter((x): x is number => x !== undefined),
        ),
        dtlsMs: summary(
          ids.map((id) => endStats.get(id)?.dtlsMs).filter((x): x is number => x !== undefined),
        ),
        firstAudioMs: summary(
          ids
            .map((id) => endStats.get(id)?.firstAudioMs)
            .filter((x): x is number => x !== undefined),
        ),
        dataChannelsOpen: ids.filter((id) => endStats.get(id)?.dataChannelOpen).length,
        holdSeconds: usage.seconds,
        gatewayCpuPercent: usage.cpuPercent,
        gatewayPeakCpuPercent: peak,
        clientsCpuPercent:
          clientsA && clientsB ? usageBetween(clientsA, clientsB).cpuPercent : Number.NaN,
        sippCpuPercent: sippA && sippB ? usageBetween(sippA, sippB).cpuPercent : Number.NaN,
        othersOnGatewayCorePercent: Math.max(0, core.tasks - usage.cpuPercent),
        interruptsOnGatewayCorePercent: core.interrupts,
        stealOnGatewayCorePercent: core.steal,
        rssBytes: usage.rssBytes,
        cpuByProcess,
        admitCpuMsPerCall,
        rssByProcess: Object.fromEntries(
          treeMemory(gw.pid).map((p) => [`${p.name} ${p.pid}`, p.rssBytes]),
        ),
        cpuPercentPerCall: n ? (usage.cpuPercent - idle.cpuPercent) / n : Number.NaN,
        rssBytesPerCall: n ? (usage.rssBytes - idle.rssBytes) / n : Number.NaN,
        audioFlowing: flowing,
        droppedDuringHold: dropped,
        inboundPacketsPerSecond: n ? inbound / n / usage.seconds : 0,
        outboundPacketsPerSecond: n ? outbound / n / usage.seconds : 0,
        codecs,
        gauges: pick(gauges),
        clientCoreBusyPercent: loadCoreBusy,
        udpDropsGateway: dropsB.inside - dropsA.inside,
        udpDropsOthers: dropsB.outside - dropsA.outside,
        loadGeneratorSaturated: loadCoreBusy >= 97 && inbound < 0.8 * outbound,
        ...(admitProfile || holdProfile
          ? {
              profiles: {
                ...(admitProfile ? { admit: admitProfile } : {}),
                ...(holdProfile ? { hold: holdProfile } : {}),
              },
            }
          : {}),
      };
      results.push(step);
      stepIds.push(ids);
      o.progress(
        `step ${target}: ${n} up, gateway ${usage.cpuPercent.toFixed(1)} % CPU (peak ${peak.toFixed(0)} %, others on its core ${step.othersOnGatewayCorePercent.toFixed(0)} %, irq ${step.interruptsOnGatewayCorePercent.toFixed(0)} %, steal ${step.stealOnGatewayCorePercent.toFixed(0)} %), RSS ${(usage.rssBytes / 2 ** 20).toFixed(0)} MB, clients ${step.clientsCpuPercent.toFixed(0)} % CPU, sipp ${step.sippCpuPercent.toFixed(0)} % (their core ${step.clientCoreBusyPercent.toFixed(0)} % busy), audio ${flowing}/${n}, ${step.inboundPacketsPerSecond.toFixed(1)} pkt/s in per call, new calls: 200→DTLS p50 ${step.dtlsMs.p50.toFixed(0)} ms, data channel open ${step.dataChannelsOpen}/${ids.length}, UDP drops: gateway ${step.udpDropsGateway}, others ${step.udpDropsOthers}${step.loadGeneratorSaturated ? ' — LOAD GENERATOR SATURATED' : ''}${dropped ? `, ${dropped} dropped` : ''}`,
      );
      if (ids.length > 0 && failed / ids.length > o.stopFailureShare) {
        stoppedEarly = `step ${target}: ${failed} of ${ids.length} setups failed`;
        o.progress(`stopping: ${stoppedEarly}`);
        break;
      }
      if (step.loadGeneratorSaturated) {
        stoppedEarly = `step ${target}: the load generator's CPU ${o.clientCpu} was ${loadCoreBusy.toFixed(0)} % busy and the clients got back ${((inbound / Math.max(1, outbound)) * 100).toFixed(0)} % of the packets they sent: further steps would measure it, not the gateway`;
        o.progress(`stopping: ${stoppedEarly}`);
        break;
      }
    }

    // Teardown: BYE from every client, then the gateway must drop to no calls and no media routers.
    const t0 = performance.now();
    const hung = cl.next('hangup', 60_000);
    cl.send({ op: 'hangup' });
    const hangup = await hung;
    let gaugesAfter: Record<string, number> = {};
    const until = performance.now() + 15_000;
    while (performance.now() < until) {
      gaugesAfter = await gw.gauges().catch(() => ({}));
      if (!gaugesAfter['parley_calls_active'] && !gaugesAfter['parley_media_routers']) break;
      await sleep(250);
    }
    const seconds = (performance.now() - t0) / 1000;
    const rssAfter = gw.read()?.rssBytes ?? Number.NaN;
    const heapAfter = await gw.liveHeapBytes().catch(() => Number.NaN);
    let heapLater = Number.NaN;
    if (gw.gateway) {
      o.progress(
        `teardown: waiting ${TEARDOWN_SETTLE_SECONDS} s for the SIP timers, then the live heap again`,
      );
      await sleep(TEARDOWN_SETTLE_SECONDS * 1000);
      heapLater = await gw.liveHeapBytes().catch(() => Number.NaN);
    }
    o.progress(
      `teardown: ${hangup.calls} hung up, ${hangup.confirmed} BYEs confirmed, gateway at ${JSON.stringify(pick(gaugesAfter))} after ${seconds.toFixed(1)} s, RSS ${(rssAfter / 2 ** 20).toFixed(1)} MB, live heap ${(heapAfter / 2 ** 20).toFixed(1)} MB, ${(heapLater / 2 ** 20).toFixed(1)} MB ${TEARDOWN_SETTLE_SECONDS} s later (idle ${(idleHeap / 2 ** 20).toFixed(1)} MB)`,
    );
    // The gateway's own timing of every call, now that all have ended.
    let withGateway: StepResult[] = results;
    try {
      if (o.system === 'janus') throw new Error('Janus keeps no call records');
      const records = new Map((await gw.calls(500)).map((r) => [r.visitorCallId, r]));
      withGateway = results.map((r, i) => ({
        ...r,
        gatewaySide: gatewaySide(stepIds[i] ?? [], setups, records),
      }));
      for (const r of withGateway) {
        const g = r.gatewaySide;
        if (g)
          o.progress(
            `step ${r.target} at the gateway: INVITE→200 p50 ${g.setupMs.p50.toFixed(0)} / p95 ${g.setupMs.p95.toFixed(0)} ms (admit ${g.admitMs.p50.toFixed(0)}, agent INVITE→180 ${g.agentRingMs.p50.toFixed(0)}, 180→200 ${g.answerMs.p50.toFixed(0)} ms p50), packets from visitors ${g.packets.fromVisitors} → to agent ${g.packets.toAgent} → echoed back ${g.packets.fromAgent} → to visitors ${g.packets.toVisitors}${Object.keys(g.failures).length ? `; failures: ${JSON.stringify(g.failures)}` : ''}${g.unknown ? `; ${g.unknown} unknown to the gateway` : ''}`,
          );
      }
    } catch (error) {
      o.progress(`could not read the call records: ${(error as Error).message}`);
    }
    // The profile is written when the gateway exits.
    let cpuProfile: ConcurrencyResult['cpuProfile'];
    if (o.cpuProfileTo) {
      await gw.stop();
      try {
        const file = readdirSync(join(o.dir, 'prof')).find((f) => f.endsWith('.cpuprofile'));
        if (file) {
          copyFileSync(join(o.dir, 'prof', file), o.cpuProfileTo);
          cpuProfile = {
            ...summarizeCpuProfile(o.cpuProfileTo, { top: 15 }),
            file: o.cpuProfileTo,
          };
          o.progress(
            `gateway CPU profile: ${cpuProfile.areas
              .slice(0, 6)
              .map((a) => `${a.name} ${a.percent.toFixed(0)} %`)
              .join(', ')}`,
          );
        }
      } catch (error) {
        o.progress(`no CPU profile: ${(error as Error).message}`);
      }
    }
    return {
      ...(cpuProfile ? { cpuProfile } : {}),
      system: o.system,
      ...(o.system === 'janus'
        ? {}
        : { gatewayRuntime: o.gatewayRuntime ?? 'dist', gatewayNodeArgs: o.gatewayNodeArgs ?? [] }),
      client: o.client,
      gatewayPinned: `CPU ${o.gatewayCpu} (taskset -c ${o.gatewayCpu}, own process)`,
      clientsPinned: `CPU ${o.clientCpu} (load clients, sipp UAS and the bench process)`,
      agents,
      maxCallsPerAgent: o.maxCallsPerAgent,
      idle: { cpuPercent: idle.cpuPercent, rssBytes: idle.rssBytes, liveHeapBytes: idleHeap },
      gatewayCoreBusyBeforePercent: busyBefore,
      steps: withGateway,
      teardown: {
        hungUp: hangup.calls,
        byeConfirmed: hangup.confirmed,
        seconds,
        gaugesAfter: pick(gaugesAfter),
        rssAfterBytes: rssAfter,
        liveHeapBytes: heapAfter,
        liveHeapLaterBytes: heapLater,
      },
      gatewayWarnings: warnings,
      ...(stoppedEarly ? { stoppedEarly } : {}),
    };
  } finally {
    profiler?.close();
    if (clients) {
      clients.send({ op: 'quit' });
      await Promise.race([clients.process.exited, sleep(3000)]);
      await clients.process.stop({ graceMs: 1000 });
    }
    await gateway?.stop();
    await sipp?.stop();
    for (const block of portBlocks) block.release();
    ports.close();
    try {
      pin(process.pid, allCpus);
    } catch {
      // Leave it pinned: nothing else runs after this phase.
    }
  }
}
