/**
 * A TCP proxy between a test's pool and the testkit's PostgreSQL that reads
 * the frontend protocol (the messages the client sends) and, for the
 * statements whose SQL text holds a marker, cuts the connection at a chosen
 * moment: `lose` forwards the statement up to its Sync (or the simple Query
 * itself), so PostgreSQL runs and commits it, then cuts the client off
 * before the answer comes back (a lost answer, deterministic); `refuse`
 * cuts it before forwarding (the statement never reaches the server);
 * `hold` keeps it (and what follows on that connection) until released.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export type CutKind = 'lose' | 'refuse';

export interface HeldStatement {
  /** Settles when a statement with the marker reached the proxy and is held. */
  readonly held: Promise<void>;
  /** Forwards it (and what followed it). */
  release(): void;
}

export interface PgProxy {
  /** `url` (a database URL of the server) through the proxy. */
  via(url: string): string;
  /**
   * The next `count` statements holding `marker` are cut (`lose` or
   * `refuse`). `lose` with `then` (a transaction's `COMMIT`): the cut waits
   * for the next statement holding it on that connection, forwarded first.
   */
  cut(marker: string, kind: CutKind, count?: number, then?: string): void;
  /** The next statement holding `marker` is held until released. */
  hold(marker: string): HeldStatement;
  /** Statements cut so far. */
  readonly cuts: number;
  close(): Promise<void>;
}

interface Rule {
  readonly marker: string;
  readonly kind: CutKind | 'hold';
  left: number;
  readonly then?: string | undefined;
  onHeld?: () => void;
  released?: Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;

/** Starts a proxy to `target` (host and port of the server) on 127.0.0.1, a port the system picks. */
export async function startPgProxy(target: { host: string; port: number }): Promise<PgProxy> {
  const rules: Rule[] = [];
  const sockets = new Set<Socket>();
  let cuts = 0;
  const take = (sql: string): Rule | undefined => {
    const rule = rules.find((r) => r.left > 0 && sql.includes(r.marker));
    if (rule) rule.left -= 1;
    return rule;
  };
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    for (const s of [client, upstream]) {
      s.on('error', () => undefined);
      s.on('close', () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    upstream.on('data', (chunk) => client.write(chunk));
    let pending = Buffer.alloc(0);
    let startup = true;
    /** A lost answer armed: cut after the Sync of the next statement holding this ('' any). */
    let loseAt: string | undefined;
    let cutAtSync = false;
    let holding: Promise<void> | undefined;
    let done = false;
    const cut = () => {
      done = true;
      cuts += 1;
      upstream.removeAllListeners('data');
      // What was written reaches the server before its end; the client hears nothing more.
      upstream.end();
      client.destroy();
    };
    const frame = (message: Buffer, type: string) => {
      if (done) return;
      if (type === 'P' || type === 'Q') {
        const sql = message.subarray(5).toString('utf8');
        const rule = take(sql);
        if (rule?.kind === 'refuse') return cut();
        if (rule?.kind === 'lose') loseAt = rule.then ?? '';
        if (loseAt !== undefined && sql.includes(loseAt)) cutAtSync = true;
        if (rule?.kind === 'hold') {
          rule.onHeld?.();
          holding = rule.released;
        }
      }
      const send = () => {
        if (done) return;
        upstream.write(message);
        if (cutAtSync && (type === 'S' || type === 'Q')) cut();
      };
      // Held: this frame and every later one wait for the release, in order.
      if (holding) holding = holding.then(send);
      else send();
    };
    client.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      for (;;) {
        if (startup) {
          if (pending.length < 8) return;
          const length = pending.readInt32BE(0);
          if (pending.length < length) return;
          const message = pending.subarray(0, length);
          pending = pending.subarray(length);
          const code = message.readInt32BE(4);
          // An SSL or GSS request is answered before the startup message comes.
          startup = code === SSL_REQUEST || code === GSS_REQUEST;
          frame(message, '');
          continue;
        }
        if (pending.length < 5) return;
        const length = pending.readInt32BE(1) + 1;
        if (pending.length < length) return;
        const message = pending.subarray(0, length);
        pending = pending.subarray(length);
        frame(message, String.fromCharCode(message[0] ?? 0));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy not listening');
  return {
    via(url) {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(address.port);
      return u.toString();
    },
    cut(marker, kind, count = 1, then) {
      rules.push({ marker, kind, left: count, then });
    },
    hold(marker) {
      let release = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      let onHeld = () => {};
      const held = new Promise<void>((resolve) => (onHeld = resolve));
      rules.push({ marker, kind: 'hold', left: 1, onHeld, released });
      return { held, release };
    },
    get cuts() {
      return cuts;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
