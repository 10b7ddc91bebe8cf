/**
 * A V8 CPU profile of a running Node process over its inspector (the
 * DevTools protocol on `--inspect`'s port): started and stopped around a
 * window the benchmark chooses (a step's admission, its steady hold), unlike
 * `node --cpu-prof`, which covers the whole life of the process.
 */
import { writeFileSync } from 'node:fs';
import WebSocket from 'ws';

export interface ProfilerSession {
  /** Starts sampling (every `intervalUs` µs). */
  start(intervalUs?: number): Promise<void>;
  /** Stops sampling and writes the profile to `file` (a `.cpuprofile`). */
  stop(file: string): Promise<void>;
  close(): void;
}

export async function openProfiler(port: number): Promise<ProfilerSession> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
    webSocketDebuggerUrl?: string;
  }[];
  const url = targets[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error(`no inspector target on port ${port}`);
  const ws = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  let nextId = 1;
  const pending = new Map<number, (reply: { result?: unknown; error?: unknown }) => void>();
  ws.on('message', (data: Buffer) => {
    const reply = JSON.parse(data.toString('utf8')) as {
      id?: number;
      result?: unknown;
      error?: unknown;
    };
    if (reply.id === undefined) return;
    pending.get(reply.id)?.(reply);
    pending.delete(reply.id);
  });
  const call = (method: string, params: Record<string, unknown> = {}): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const id = nextId;
      nextId += 1;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`no answer to ${method} in 60 s`));
      }, 60_000);
      pending.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.error) reject(new Error(`${method}: ${JSON.stringify(reply.error)}`));
        else resolve(reply.result);
      });
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call('Profiler.enable');
  return {
    async start(intervalUs = 1000) {
      await call('Profiler.setSamplingInterval', { interval: intervalUs });
      await call('Profiler.start');
    },
    async stop(file) {
      const result = (await call('Profiler.stop')) as { profile: unknown };
      writeFileSync(file, JSON.stringify(result.profile));
    },
    close() {
      ws.close();
    },
  };
}
