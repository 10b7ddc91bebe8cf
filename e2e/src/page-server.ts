/** A tiny HTTP server for test pages on 127.0.0.1 (the page's origin is what tokens name). */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PageServer {
  readonly origin: string;
  close(): Promise<void>;
}

/** Answers a request itself (a token endpoint); false: not its path. */
export type PageHandler = (req: IncomingMessage, res: ServerResponse, path: string) => boolean;

export async function servePages(
  routes: Record<string, { type: string; body: string | Buffer }>,
  handle?: PageHandler,
): Promise<PageServer> {
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (handle?.(req, res, path)) return;
    const route = routes[path];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': route.type, 'cache-control': 'no-store' }).end(route.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
