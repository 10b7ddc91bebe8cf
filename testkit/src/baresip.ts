/**
 * baresip 1.0.0 as an agent softphone for tests: a private config directory,
 * a ctrl_tcp client, every SIP message it sends or receives (its `-s` trace)
 * and the WAV recordings of every call.
 *
 * Traps this works around (see also docs in /work/shared/recipes/sip-peers.md):
 * - `net_interface` must be set or the SDP advertises the eth0 address;
 * - aufile does not resample: the source WAV must be at the codec's clock rate
 *   (8 kHz mono for G.711, 48 kHz stereo for Opus), so an agent lists codecs
 *   of one clock rate (`agentFormat` refuses others), and baresip hangs up
 *   when the file ends, so the default source is a long looped tone;
 * - registration completes before ctrl_tcp accepts a client, so REGISTER_OK
 *   is usually missed: `registered()` also asks `reginfo`;
 * - SIGTERM un-registers first (20 s when the registrar is gone), so `stop()`
 *   sends `quit` and SIGKILLs after a short grace;
 * - sndfile names recordings by the second: two calls starting within the
 *   same second share (and overwrite) one pair of files;
 * - there is no ctrl_tcp command to send DTMF in 1.0.0.
 */
import { EventEmitter } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { cachedTone } from './audio.js';
import {
  type BaresipEvent,
  type BaresipEventType,
  type BaresipResponse,
  BaresipControl,
} from './baresip-ctrl.js';
import { agentFormat, codecModule, writeBaresipConfig } from './baresip-config.js';
import { BaresipSipTraceParser } from './baresip-sip-trace.js';
import { waitForBaresipEvent, waitForReceivedRequest } from './baresip-waits.js';
import type {
  BaresipAgent,
  BaresipAgentEvents,
  BaresipAgentOptions,
  BaresipRecording,
  SipTransport,
  WaitOptions,
} from './baresip-types.js';
import { type PortBlock, defaultPortAllocator } from './ports.js';
import { type ManagedProcess, spawnManaged } from './process.js';
import { distinctTransactions, type SipMessage } from './sip-message.js';
import { TestkitError } from './testkit-error.js';

export type { BaresipEvent, BaresipEventType, BaresipResponse } from './baresip-ctrl.js';
export type * from './baresip-types.js';

function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;]*m/g, '');
}

class BaresipAgentImpl implements BaresipAgent {
  readonly events = new EventEmitter<BaresipAgentEvents>();
  readonly #history: BaresipEvent[] = [];
  readonly #trace: BaresipSipTraceParser;
  readonly #blocks: PortBlock[];
  readonly #keepDir: boolean;
  #control: BaresipControl | undefined;
  #stopping: Promise<void> | undefined;

  constructor(
    readonly user: string,
    readonly aor: string,
    readonly uri: string,
    readonly address: string,
    readonly listenPort: number,
    readonly controlPort: number,
    readonly rtpPorts: readonly [number, number],
    readonly transport: SipTransport,
    readonly dir: string,
    readonly recordingDir: string,
    readonly audioSource: string,
    readonly process: ManagedProcess,
    trace: BaresipSipTraceParser,
    blocks: PortBlock[],
    keepDir: boolean,
  ) {
    this.events.setMaxListeners(0);
    this.#trace = trace;
    this.#blocks = blocks;
    this.#keepDir = keepDir;
    void process.exited.then((info) => this.events.emit('exit', info));
  }

  attach(control: BaresipControl): void {
    this.#control = control;
    control.events.on('event', (event) => {
      this.#history.push(event);
      this.events.emit('event', event);
    });
  }

  get history(): readonly BaresipEvent[] {
    return this.#history;
  }

  mark(): number {
    return this.#history.length;
  }

  waitForEvent(
    type: BaresipEventType,
    predicate: (event: BaresipEvent) => boolean = () => true,
    timeoutMs = 10_000,
    options: WaitOptions = {},
  ): Promise<BaresipEvent> {
    return waitForBaresipEvent(this, this.#history, type, predicate, timeoutMs, options);
  }

  command(command: string, params?: string, timeoutMs?: number): Promise<BaresipResponse> {
    if (!this.#control)
      return Promise.reject(new TestkitError('process_exited', 'baresip control not connected'));
    return this.#control.command(command, params, timeoutMs);
  }

  async #ok(command: string, params?: string): Promise<void> {
    const response = await this.command(command, params);
    if (!response.ok) {
      throw new TestkitError(
        'command_failed',
        `baresip ${command} ${params ?? ''} failed: ${stripAnsi(response.data)}`,
      );
    }
  }

  dial(uri: string): Promise<void> {
    return this.#ok('dial', uri);
  }

  hangup(): Promise<void> {
    return this.#ok('hangup');
  }

  accept(): Promise<void> {
    return this.#ok('accept');
  }

  setAudioSource(wavPath: string): Promise<void> {
    return this.#ok('ausrc', `aufile,${wavPath}`);
  }

  async registered(timeoutMs = 10_000): Promise<void> {
    if (this.#history.some((e) => e.type === 'REGISTER_OK')) return;
    const since = this.mark();
    const deadline = Date.now() + timeoutMs;
    const abort = new AbortController();
    const waitOptions = { since, signal: abort.signal };
    const ok = this.waitForEvent('REGISTER_OK', undefined, timeoutMs, waitOptions);
    const fail = this.waitForEvent('REGISTER_FAIL', undefined, timeoutMs + 1000, waitOptions).then(
      (event) =>
        Promise.reject(
          new TestkitError('register_failed', `REGISTER failed: ${event.param ?? ''}`),
        ),
      () => new Promise<never>(() => {}),
    );
    // REGISTER_OK usually fires before ctrl_tcp accepts a client: ask reginfo too.
    const poll = (async (): Promise<void> => {
      while (!abort.signal.aborted && Date.now() < deadline) {
        const info = await this.command('reginfo').catch(() => undefined);
        const text = stripAnsi(info?.data ?? '');
        if (/\sOK\s/.test(text)) return;
        if (/\sERR\s/.test(text)) {
          throw new TestkitError(
            'register_failed',
            `REGISTER failed: ${text.trim()}\n${this.process.describe(40)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      return new Promise<never>(() => {});
    })();
    try {
      await Promise.race([ok, fail, poll]);
    } finally {
      abort.abort(new TestkitError('timeout', 'registered() finished'));
      ok.catch(() => {});
    }
  }

  recordings(): BaresipRecording[] {
    let names: string[];
    try {
      names = readdirSync(this.recordingDir);
    } catch {
      return [];
    }
    return names
      .map((name) => /^dump-(.+)-(dec|enc)\.wav$/.exec(name))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({
        path: join(this.recordingDir, m[0]),
        kind: m[2] === 'dec' ? ('received' as const) : ('sent' as const),
        stamp: m[1] ?? '',
      }))
      .sort((a, b) =>
        a.stamp === b.stamp ? a.kind.localeCompare(b.kind) : a.stamp.localeCompare(b.stamp),
      );
  }

  lastRecording(): { readonly received: string | undefined; readonly sent: string | undefined } {
    const all = this.recordings();
    const stamp = all[all.length - 1]?.stamp;
    return {
      received: all.find((r) => r.stamp === stamp && r.kind === 'received')?.path,
      sent: all.find((r) => r.stamp === stamp && r.kind === 'sent')?.path,
    };
  }

  sipMessages(): readonly SipMessage[] {
    return this.#trace.messages;
  }

  receivedRequests(method?: string): SipMessage[] {
    const wanted = method?.toUpperCase();
    return distinctTransactions(
      this.#trace.messages.filter(
        (m) =>
          m.direction === 'in' &&
          m.method !== undefined &&
          (wanted === undefined || m.method === wanted),
      ),
    );
  }

  waitForRequest(
    method: string,
    predicate: (message: SipMessage) => boolean = () => true,
    timeoutMs = 10_000,
    options: { readonly since?: number } = {},
  ): Promise<SipMessage> {
    return waitForReceivedRequest(
      this,
      () => this.#trace.messages,
      method,
      predicate,
      timeoutMs,
      options,
    );
  }

  stop(options: { readonly graceMs?: number } = {}): Promise<void> {
    this.#stopping ??= (async () => {
      const grace = options.graceMs ?? 1000;
      if (this.process.running && this.#control && !this.#control.closed) {
        // quit un-registers; the grace below bounds the wait for a registrar that is gone.
        const deadline = Date.now() + grace;
        await this.#control.command('quit', undefined, grace).catch(() => undefined);
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          this.process.exited,
          new Promise((r) => {
            timer = setTimeout(r, Math.max(0, deadline - Date.now()));
          }),
        ]);
        clearTimeout(timer);
      }
      await this.process.stop({ signal: 'SIGKILL', graceMs: 0 });
      this.#control?.close();
      for (const block of this.#blocks) block.release();
      if (!this.#keepDir) await rm(this.dir, { recursive: true, force: true });
    })();
    return this.#stopping;
  }
}

/** Starts a baresip agent with a private config directory and a connected control socket. */
export async function startBaresipAgent(options: BaresipAgentOptions): Promise<BaresipAgent> {
  const ports = options.ports ?? defaultPortAllocator();
  const transport = options.transport ?? 'udp';
  const address = options.address ?? '127.0.0.1';
  const codecs = options.codecs ?? ['PCMU', 'PCMA'];
  const maxCalls = options.maxCalls ?? 4;
  const format = agentFormat(codecs);
  const modules = [...new Set(codecs.map(codecModule).filter((m): m is string => m !== undefined))];

  const blocks: PortBlock[] = [];
  try {
    let listenPort = options.listenPort;
    if (listenPort === undefined) {
      // Two ports: baresip also listens for SIP over TLS on sip_listen's port + 1
      // (checked with `ss -ltn` on 1.0.0). Without the second one, another
      // allocation (this agent's ctrl_tcp port) could get that port, and the
      // event client would reach the TLS listener and never hear REGISTER_OK.
      const block = await ports.allocate(2, { even: false });
      blocks.push(block);
      listenPort = block.base;
    }
    const controlBlock = await ports.allocate(1, { protocols: ['tcp'], even: false });
    blocks.push(controlBlock);
    const rtpBlock = await ports.allocate(Math.max(8, maxCalls * 4), { protocols: ['udp'] });
    blocks.push(rtpBlock);
    const rtpPorts: [number, number] = [rtpBlock.base, rtpBlock.base + rtpBlock.size - 1];

    const dir = options.dir ?? mkdtempSync(join(tmpdir(), `parley-baresip-${options.user}-`));
    const recordingDir = join(dir, 'rec');
    mkdirSync(recordingDir, { recursive: true });

    const audioSource =
      options.audioSource ??
      (await cachedTone({
        freqHz: options.toneHz ?? 800,
        seconds: options.audioSeconds ?? 180,
        rate: format.rate,
        channels: format.channels,
        volume: 0.5,
      }));

    writeBaresipConfig(dir, {
      address,
      listenPort,
      audioSource,
      rtpPorts,
      maxCalls,
      modules,
      controlPort: controlBlock.base,
      recordingDir,
      codecs,
      transport,
      options,
    });
    const host = options.registrar ?? `${address}:${listenPort}`;

    const trace = new BaresipSipTraceParser({
      localAddress: `${address}:${listenPort}`,
      maxMessages: 20_000,
      onMessage: (message) => agent.events.emit('sip', message),
    });
    const child = spawnManaged({
      command: 'baresip',
      args: ['-s', '-f', dir],
      name: options.name ?? `baresip-${options.user}`,
      onOutput: (chunk, stream) => {
        if (stream === 'stdout') trace.push(chunk);
      },
    });
    const uri = `sip:${options.user}@${address}:${listenPort}${transport === 'tcp' ? ';transport=tcp' : ''}`;
    const agent = new BaresipAgentImpl(
      options.user,
      `sip:${options.user}@${host}`,
      uri,
      address,
      listenPort,
      controlBlock.base,
      rtpPorts,
      transport,
      dir,
      recordingDir,
      audioSource,
      child,
      trace,
      blocks,
      options.keepDir ?? false,
    );
    try {
      const control = await BaresipControl.connect(controlBlock.base, {
        timeoutMs: options.startTimeoutMs ?? 10_000,
        giveUp: () =>
          child.running ? undefined : `baresip exited during start-up\n${child.describe(40)}`,
      });
      agent.attach(control);
    } catch (error) {
      await agent.stop({ graceMs: 0 });
      throw error;
    }
    return agent;
  } catch (error) {
    for (const block of blocks) block.release();
    throw error;
  }
}
