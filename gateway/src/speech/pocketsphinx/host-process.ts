/**
 * The gateway's handle on one pocketsphinx host process: starts it (`fork`,
 * the way the gateway itself runs: the compiled host.js beside this file in
 * the production build, host.ts through tsx from the sources), routes its replies to streams by id,
 * and reports its exit once. The child dies with the gateway: it exits on IPC
 * disconnect, which the kernel delivers however the gateway ends.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

import type { HostConfig, HostReply, HostRequest } from './host-protocol.js';

/** True in the production build (gateway/dist, scripts/build-gateway.sh). */
const COMPILED = import.meta.url.endsWith('.js');
const HOST_SCRIPT = fileURLToPath(new URL(COMPILED ? './host.js' : './host.ts', import.meta.url));

/** Node flags of the host: the build's module condition, or tsx's loader (resolved from here). */
function hostExecArgv(): string[] {
  if (COMPILED) return ['--conditions=parley-dist'];
  return ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href];
}

export interface HostExit {
  /** The host never became ready (libraries, models) or failed later. */
  readonly started: boolean;
  readonly detail: string;
}

/** A stream placed on a host: its replies, and the host's end. */
export interface HostStreamHandler {
  reply(reply: Exclude<HostReply, { t: 'ready' | 'fatal' }>): void;
  exit(exit: HostExit): void;
}

export interface HostProcessEvents {
  /** Once, when the process is gone (whatever the reason), after its streams heard it. */
  exit: [HostExit];
}

export class HostProcess extends EventEmitter<HostProcessEvents> {
  readonly #child: ChildProcess;
  #ready = false;
  #exited = false;
  #fatal: string | undefined;
  #stderr: string[] = [];
  readonly #startTimer: NodeJS.Timeout;
  readonly #handlers = new Map<number, HostStreamHandler>();

  constructor(config: HostConfig, startTimeoutMs: number) {
    super();
    this.#child = fork(HOST_SCRIPT, [], {
      execArgv: hostExecArgv(),
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.#child.stderr?.setEncoding('utf8');
    this.#child.stderr?.on('data', (chunk: string) => {
      this.#stderr.push(...chunk.split('\n').filter(Boolean));
      if (this.#stderr.length > 20) this.#stderr.splice(0, this.#stderr.length - 20);
    });
    this.#child.on('message', (message) => this.#onMessage(message as HostReply));
    this.#child.on('error', (error) => this.#onExit(`could not run: ${error.message}`));
    this.#child.on('exit', (code, signal) =>
      this.#onExit(signal ? `killed by ${signal}` : `exited with code ${code}`),
    );
    this.#startTimer = setTimeout(() => {
      if (this.#ready) return;
      this.#fatal = `not ready within ${startTimeoutMs} ms`;
      this.#child.kill('SIGKILL');
    }, startTimeoutMs);
    this.send({ t: 'init', config });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get alive(): boolean {
    return !this.#exited;
  }

  /** Streams placed on this host (the transcriber's load balancing). */
  get streams(): number {
    return this.#handlers.size;
  }

  attach(id: number, handler: HostStreamHandler): void {
    this.#handlers.set(id, handler);
  }

  detach(id: number): void {
    this.#handlers.delete(id);
  }

  send(request: HostRequest): void {
    if (this.#exited || !this.#child.connected) return;
    this.#child.send(request);
  }

  /** Asks the host to exit, then kills it after `graceMs`. Resolves once it is gone. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.#exited) return;
    const gone = new Promise<void>((resolve) => this.once('exit', () => resolve()));
    this.send({ t: 'shutdown' });
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
    await gone;
    clearTimeout(timer);
  }

  #onMessage(reply: HostReply): void {
    if (reply.t === 'ready') {
      this.#ready = true;
      clearTimeout(this.#startTimer);
    } else if (reply.t === 'fatal') {
      this.#fatal = reply.message;
    } else {
      this.#handlers.get(reply.id)?.reply(reply);
    }
  }

  #onExit(how: string): void {
    if (this.#exited) return;
    this.#exited = true;
    clearTimeout(this.#startTimer);
    const why = this.#fatal ?? this.#stderr.at(-1);
    const exit: HostExit = {
      started: this.#ready,
      detail: `pocketsphinx host ${this.#child.pid ?? ''} ${how}${why ? `: ${why}` : ''}`,
    };
    const handlers = [...this.#handlers.values()];
    this.#handlers.clear();
    for (const handler of handlers) handler.exit(exit);
    this.emit('exit', exit);
  }
}
