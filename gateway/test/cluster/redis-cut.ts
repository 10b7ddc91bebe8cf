/**
 * One gateway's own way to Redis, which a test can cut: a TCP relay on
 * 127.0.0.1 (port chosen by the system) to the redis-server. Cut, its
 * connections are closed and new ones refused, as when the network between
 * that gateway and Redis fails while the others still reach it.
 */
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface RedisCut {
  /** The URL to give the gateway instead of Redis's own. */
  readonly url: string;
  cut(): void;
  heal(): void;
  /**
   * From the next command containing `marker` (case-insensitive), the
   * replies on that connection are held until `release()`: a read sent before
   * a change whose reply reaches the gateway after the change's message.
   */
  holdReplies(marker: string): void;
  /** Bytes of replies held so far (more than 0: Redis has answered the held read). */
  held(): number;
  release(): void;
  close(): Promise<void>;
}

export async function redisThroughCut(redisPort: number): Promise<RedisCut> {
  const sockets = new Set<Socket>();
  let open = true;
  let marker: string | undefined;
  let holding: { upstream: Socket; client: Socket } | undefined;
  const server = createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = connect(redisPort, '127.0.0.1');
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => {
        sockets.delete(s);
        end();
      });
      s.on('error', end);
    }
    client.on('data', (chunk: Buffer) => {
      if (marker !== undefined && chunk.toString('latin1').toLowerCase().includes(marker)) {
        // Before the command goes on: its reply cannot slip through.
        marker = undefined;
        holding = { upstream, client };
        upstream.unpipe(client);
        upstream.pause();
      }
      upstream.write(chunk);
    });
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `redis://127.0.0.1:${port}`,
    cut() {
      open = false;
      for (const s of sockets) s.destroy();
    },
    heal() {
      open = true;
    },
    holdReplies(text) {
      marker = text.toLowerCase();
    },
    held: () => holding?.upstream.readableLength ?? 0,
    release() {
      holding?.upstream.pipe(holding.client);
      holding = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
