/**
 * A recogniser behind the WebSocket protocol (`protocol.ts`): any Transcriber
 * (pocketsphinx by default) served to `websocket` engines. It is the
 * protocol's reference implementation: tests and benchmarks run the
 * WebSocket engine against it, and a company may run it on another machine to
 * take decoding off the gateway's cores.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';

import type { Logger } from '../../observability/index.js';
import type { Transcriber, TranscriberStream } from '../transcriber.js';
import {
  clientMessage,
  parseMessage,
  pcmFromBinary,
  PROTOCOL_VERSION,
  type ServerMessage,
} from './protocol.js';

export interface RecogniserServerOptions {
  readonly transcriber: Transcriber;
  readonly logger: Logger;
  readonly host?: string;
  /** 0 (default): any free port, read `url` after start. */
  readonly port?: number;
  /** When set, clients must send `Authorization: Bearer <token>` (else 401). */
  readonly token?: string;
  /** A client that sends no `start` this long after connecting is closed. */
  readonly startTimeoutMs?: number;
}

export interface RecogniserServer {
  /** ws://host:port/ */
  readonly url: string;
  readonly connections: number;
  /** Cuts every connection at once, as a network failure would (tests of reconnects). */
  dropConnections(): void;
  /** Closes every connection and the listener. Safe twice. */
  close(): Promise<void>;
}

export async function startRecogniserServer(
  options: RecogniserServerOptions,
): Promise<RecogniserServer> {
  const http: Server = createServer((_request, response) => {
    response.writeHead(426, { 'content-type': 'text/plain' }).end('WebSocket only\n');
  });
  const wss = new WebSocketServer({
    server: http,
    maxPayload: 1024 * 1024,
    verifyClient: (info: { req: IncomingMessage }, done: (ok: boolean, status?: number) => void) =>
      done(
        options.token === undefined || info.req.headers.authorization === `Bearer ${options.token}`,
        401,
      ),
  });
  wss.on('connection', (socket) => serve(socket, options));
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = http.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    url: `ws://${address.address}:${address.port}/`,
    get connections() {
      return wss.clients.size;
    },
    dropConnections() {
      for (const client of wss.clients) client.terminate();
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close(() => http.close(() => resolve()));
        http.closeAllConnections();
      });
      return closed;
    },
  };
}

function serve(socket: WebSocket, options: RecogniserServerOptions): void {
  const log = options.logger.child({ recogniser: true });
  let stream: TranscriberStream | undefined;
  let ending = false;
  const send = (message: ServerMessage): void => {
    if (socket.readyState === socket.OPEN) socket.send(JSON.stringify(message));
  };
  const startTimer = setTimeout(
    () => socket.close(1008, 'no start message'),
    options.startTimeoutMs ?? 10_000,
  );

  socket.on('message', (data: RawData, isBinary: boolean) => {
    const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
    if (isBinary) {
      if (stream && !ending) stream.write(pcmFromBinary(buffer));
      return;
    }
    const message = parseMessage(clientMessage, buffer.toString('utf8'));
    if (!message) {
      send({ type: 'error', message: 'not a protocol message' });
      socket.close(1003, 'bad message');
      return;
    }
    if (message.type === 'start') {
      clearTimeout(startTimer);
      if (stream) return;
      if (
        message.version !== PROTOCOL_VERSION ||
        message.sampleRate !== options.transcriber.sampleRate
      ) {
        send({
          type: 'error',
          message: `this recogniser takes version ${PROTOCOL_VERSION} at ${options.transcriber.sampleRate} Hz`,
        });
        socket.close(1003, 'unsupported format');
        return;
      }
      stream = options.transcriber.open(message.streamId ? { id: message.streamId } : {});
      stream.on('partial', (partial) =>
        send({
          type: 'partial',
          text: partial.text,
          ...(partial.audioMs !== undefined ? { audioMs: partial.audioMs } : {}),
        }),
      );
      stream.on('final', (final) =>
        send({
          type: 'final',
          text: final.text,
          startMs: final.startMs,
          endMs: final.endMs,
          ...(final.confidence !== undefined ? { confidence: final.confidence } : {}),
          words: [...final.words],
        }),
      );
      let failed = false;
      stream.on('error', (error) => {
        failed = true;
        send({ type: 'error', message: error.message });
      });
      stream.on('close', () => {
        if (ending && !failed) send({ type: 'ended' });
        socket.close(failed ? 1011 : 1000);
      });
      return;
    }
    if (!stream) {
      send({ type: 'error', message: 'end before start' });
      socket.close(1003, 'bad message');
      return;
    }
    ending = true;
    stream.end();
  });
  socket.on('close', () => {
    clearTimeout(startTimer);
    stream?.close();
  });
  socket.on('error', (error) => log.debug({ err: error }, 'recogniser connection error'));
}
