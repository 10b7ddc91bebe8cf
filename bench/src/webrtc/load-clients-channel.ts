/**
 * The load-clients child (`load-clients.ts`) of the concurrent-calls phase,
 * spoken to in JSON lines: its events (a call set up, the calls' RTP counters,
 * the hang-up) and the commands sent to it.
 */
import { EventEmitter } from 'node:events';
import { spawnManaged, type ManagedProcess } from '@parley/testkit';
import { REPO_ROOT } from '../bench-gateway.js';

export interface CallEvent {
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
export interface ClientStats {
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
export type ClientEvent =
  | CallEvent
  | { ev: 'stats'; calls: ClientStats[] }
  | { ev: 'hangup'; calls: number; confirmed: number }
  | { ev: 'ready'; pid: number };

/** The load-clients child, spoken to in JSON lines. */
export class Clients {
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
