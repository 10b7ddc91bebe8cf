/**
 * A TCP relay between the page and the gateway (or Kamailio) that a test cuts, as a lost
 * network does: `cut()` resets every connection through it (no WebSocket
 * close frame; the gateway sees its side of the connection close) and refuses
 * new ones until `restore()`.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';

export interface CuttableRelay {
  /** `http://127.0.0.1:<port>`: the widget's `gateway` attribute. */
  readonly url: string;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

/** `targetHost`: where the WebSockets go (the gateway, or Kamailio in front of it). */
export async function startCuttableRelay(
  targetPort: number,
  targetHost = '127.0.0.1',
): Promise<CuttableRelay> {
  const sockets = new Set<Socket>();
  let down = false;
  const server = createServer((client) => {
    client.on('error', () => undefined);
    if (down) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(targetPort, targetHost);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    cut() {
      down = true;
      for (const s of sockets) s.resetAndDestroy();
    },
    restore() {
      down = false;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
