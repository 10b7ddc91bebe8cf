/**
 * The system the concurrency benchmark loads, one at a time in the same run:
 * Parley on its mediasoup engine, Parley on its relay engine (werift), or
 * Janus's SIP plugin. Each runs as its own process(es) pinned to the same CPU;
 * its CPU and RSS are read over the whole process tree (Parley's Node process
 * and its mediasoup workers).
 */
import { mkdirSync } from 'node:fs';
import type { ManagedProcess, PortAllocator, PortBlock } from '@parley/testkit';
import { startBenchGateway, type BenchGateway, type GatewayCallRecord } from '../bench-gateway.js';
import type { GatewayRuntime } from '../gateway-build.js';
import { startJanus } from './janus-server.js';
import { descendants, readProcTree, type ProcReading } from './measure.js';

export type SystemName = 'parley-mediasoup' | 'parley-relay' | 'janus';
export const SYSTEMS: readonly SystemName[] = ['parley-mediasoup', 'parley-relay', 'janus'];

export interface ServerUnderTest {
  readonly system: SystemName;
  readonly process: ManagedProcess;
  readonly pid: number;
  /** Where the visitors' signalling goes. */
  readonly wsUrl: string;
  readonly udpPorts: readonly (readonly [number, number])[];
  /** Parley only: its inspector and call records. */
  readonly gateway: BenchGateway | undefined;
  /** CPU and RSS of the whole process tree (children looked up again each call). */
  read(): ProcReading | undefined;
  /** Call tokens (Parley); Janus takes none: empty strings. */
  tokens(count: number): Promise<string[]>;
  gauges(): Promise<Record<string, number>>;
  liveHeapBytes(): Promise<number>;
  calls(limit: number): Promise<GatewayCallRecord[]>;
  stop(): Promise<void>;
}

export interface ServerOptions {
  readonly system: SystemName;
  readonly dir: string;
  readonly ports: PortAllocator;
  readonly cpu: number;
  /** `host:port` of the SIP agent (sipp). */
  readonly agentContact: string;
  readonly agents: number;
  readonly maxCallsPerAgent: number;
  /** SIP legs' RTP (pairs). */
  readonly media: PortBlock;
  /** Browsers' ICE ports. */
  readonly webrtc: PortBlock;
  readonly nodeArgs?: readonly string[];
  /** Parley: its compiled build (default) or its sources through tsx. */
  readonly runtime?: GatewayRuntime;
  readonly onLine: (line: string) => void;
}

export async function startServer(o: ServerOptions): Promise<ServerUnderTest> {
  mkdirSync(o.dir, { recursive: true });
  if (o.system === 'janus') {
    const janus = await startJanus({
      dir: o.dir,
      ports: o.ports,
      webrtc: o.webrtc,
      rtp: o.media,
      cpu: o.cpu,
      onLine: o.onLine,
    });
    return {
      system: o.system,
      process: janus.process,
      pid: janus.pid,
      wsUrl: janus.wsUrl,
      udpPorts: janus.udpPorts,
      gateway: undefined,
      read: () => readProcTree(janus.pid, []),
      tokens: (count) => Promise.resolve(Array.from({ length: count }, () => '')),
      gauges: () => Promise.resolve({}),
      liveHeapBytes: () => Promise.resolve(Number.NaN),
      calls: () => Promise.resolve([]),
      stop: () => janus.stop(),
    };
  }
  const gw = await startBenchGateway({
    dir: o.dir,
    ports: o.ports,
    agentContact: o.agentContact,
    agents: o.agents,
    maxCallsPerAgent: o.maxCallsPerAgent,
    media: o.media,
    webrtc: o.webrtc,
    cpu: o.cpu,
    engine: o.system === 'parley-mediasoup' ? 'mediasoup' : 'relay',
    ...(o.nodeArgs ? { nodeArgs: o.nodeArgs } : {}),
    ...(o.runtime ? { runtime: o.runtime } : {}),
    inspect: true,
    onLine: o.onLine,
  });
  return {
    system: o.system,
    process: gw.process,
    pid: gw.pid,
    wsUrl: gw.wsUrl,
    udpPorts: gw.udpPorts,
    gateway: gw,
    read: () => readProcTree(gw.pid, descendants(gw.pid)),
    tokens: async (count) => (await gw.issueTokens(count)).tokens,
    gauges: () => gw.gauges(),
    liveHeapBytes: () => gw.liveHeapBytes(),
    calls: (limit) => gw.calls(limit),
    stop: () => gw.stop(),
  };
}
