/** A company's webhook endpoint for tests: a real HTTP server on 127.0.0.1 keeping every JSON body it got. */
import { createServer, type Server } from 'node:http';

/** One request as it came: its delivery id (`X-Parley-Delivery`) and JSON body. */
export interface WebhookDelivery {
  readonly delivery: string;
  readonly body: Record<string, unknown>;
}

export interface WebhookReceiver {
  readonly url: string;
  readonly received: Record<string, unknown>[];
  /** The same requests with their delivery ids (a receiver drops duplicates by them). */
  readonly deliveries: WebhookDelivery[];
  close(): Promise<void>;
}

/**
 * Listens on `port` (one reserved by the testkit's `PortAllocator`: a test
 * whose receiver is down first, refusing connections, comes up there later),
 * or on a port the kernel picks.
 */
export async function startWebhookReceiver(path = '/vm', port = 0): Promise<WebhookReceiver> {
  const received: Record<string, unknown>[] = [];
  const deliveries: WebhookDelivery[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
      received.push(body);
      deliveries.push({ delivery: String(req.headers['x-parley-delivery']), body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${bound}${path}`,
    received,
    deliveries,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
