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
import { summarizeCpuProfile } from '../cpu-profile.js';
import { openProfiler, type ProfilerSession } from '../inspector-profiler.js';
import {
  PortAllocator,
  bundledScenario,
  startSipp,
  type PortBlock,
  type SippInstance,
} from '@parley/testkit';
import { DOMAIN, ORIGIN, QUEUE } from '../bench-gateway.js';
import type {
  ConcurrencyOptions,
  ConcurrencyResult,
  StepResult,
  WindowProfile,
} from './concurrent-types.js';
import { gatewaySide } from './gateway-side.js';
import { Clients, type CallEvent } from './load-clients-channel.js';
import { cpuShares, cpuTimes, descendants, readProc, treeMemory, usageBetween } from './measure.js';
import { startServer, type ServerUnderTest } from './server-under-test.js';
import { holdStep, pick } from './step-hold.js';

const TEARDOWN_SETTLE_SECONDS = 40;

const sleep = (msec: number): Promise<void> => new Promise((r) => setTimeout(r, msec));

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

      const { step, loadCoreBusy, inbound, outbound, flowing, dropped } = await holdStep(
        { o, gw, cl, sippPid, idle, profileWindow },
        { target, ids, stepSetups, failed, failures, admitCpuMsPerCall, admitProfile },
      );
      results.push(step);
      stepIds.push(ids);
      o.progress(
        `step ${target}: ${step.up} up, gateway ${step.gatewayCpuPercent.toFixed(1)} % CPU (peak ${step.gatewayPeakCpuPercent.toFixed(0)} %, others on its core ${step.othersOnGatewayCorePercent.toFixed(0)} %, irq ${step.interruptsOnGatewayCorePercent.toFixed(0)} %, steal ${step.stealOnGatewayCorePercent.toFixed(0)} %), RSS ${(step.rssBytes / 2 ** 20).toFixed(0)} MB, clients ${step.clientsCpuPercent.toFixed(0)} % CPU, sipp ${step.sippCpuPercent.toFixed(0)} % (their core ${step.clientCoreBusyPercent.toFixed(0)} % busy), audio ${flowing}/${step.up}, ${step.inboundPacketsPerSecond.toFixed(1)} pkt/s in per call, new calls: 200→DTLS p50 ${step.dtlsMs.p50.toFixed(0)} ms, data channel open ${step.dataChannelsOpen}/${ids.length}, UDP drops: gateway ${step.udpDropsGateway}, others ${step.udpDropsOthers}${step.loadGeneratorSaturated ? ' — LOAD GENERATOR SATURATED' : ''}${dropped ? `, ${dropped} dropped` : ''}`,
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
