/**
 * One step's hold in the concurrent-calls phase: the calls placed are held
 * `holdSeconds` while the gateway's CPU and RSS are read every second, and
 * every client's RTP counters at both ends; the step's figures from those
 * readings.
 */
import type { ServerUnderTest } from './server-under-test.js';
import type { ConcurrencyOptions, StepResult, WindowProfile } from './concurrent-types.js';
import type { CallEvent, Clients } from './load-clients-channel.js';
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
} from './measure.js';

const sleep = (msec: number): Promise<void> => new Promise((r) => setTimeout(r, msec));

/** The gauges a step keeps. */
export const pick = (g: Record<string, number>): Record<string, number> =>
  Object.fromEntries(
    Object.entries(g).filter(([k]) =>
      /calls_active|media_routers|sip_dialogs|sip_transactions|resident_memory/.test(k),
    ),
  );

/** What a step brings to its hold: the calls it placed and how their setups went. */
export interface StepPlaced {
  readonly target: number;
  readonly ids: readonly number[];
  readonly stepSetups: readonly CallEvent[];
  readonly failed: number;
  readonly failures: Record<string, number>;
  readonly admitCpuMsPerCall: Record<string, number>;
  readonly admitProfile: WindowProfile | undefined;
}

/** The hold's surroundings: the system, its clients, the sipp UAS, the idle baseline. */
export interface HoldContext {
  readonly o: ConcurrencyOptions;
  readonly gw: ServerUnderTest;
  readonly cl: Clients;
  readonly sippPid: number;
  readonly idle: { readonly cpuPercent: number; readonly rssBytes: number };
  readonly profileWindow: (name: string) => Promise<WindowProfile | undefined>;
}

/** A step's figures, and the counts the phase decides by (go on, or stop early). */
export interface StepHeld {
  readonly step: StepResult;
  /** The calls whose inbound packets grew during the hold. */
  readonly flowing: number;
  /** Calls up at the hold's start and not at its end. */
  readonly dropped: number;
  /** RTP packets the clients received and sent during the hold. */
  readonly inbound: number;
  readonly outbound: number;
  /** The load generator's core, % busy during the hold. */
  readonly loadCoreBusy: number;
}

/** Holds the step's calls and measures them (see the file's comment). */
export async function holdStep(
  { o, gw, cl, sippPid, idle, profileWindow }: HoldContext,
  { target, ids, stepSetups, failed, failures, admitCpuMsPerCall, admitProfile }: StepPlaced,
): Promise<StepHeld> {
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
    if (a0 && b0) cpuByProcess[`${names.get(pid) ?? '?'} ${pid}`] = usageBetween(a0, b0).cpuPercent;
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
      ids.map((id) => endStats.get(id)?.firstAudioMs).filter((x): x is number => x !== undefined),
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
  return { step, loadCoreBusy, inbound, outbound, flowing, dropped };
}
