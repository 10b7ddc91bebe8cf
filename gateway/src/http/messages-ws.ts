/**
 * The agent side of a call's data channel, as a WebSocket:
 * `GET /v1/calls/<call id>/messages` (upgrade), authenticated with an API key
 * (`Authorization: Bearer <key>`, or `?access_token=<key>` where a client cannot
 * set headers). On connect it sends every stored message of the call, then
 * each new one (`StoredMessage` JSON: `{ seq, from, receivedAt, message }`).
 * Frames the client sends are `ParleyMessage` JSON for the visitor; each is
 * answered with `{ type: 'ack', id, seq, delivered }` or a `message_rejected`
 * notice (with `ref`, the refused message's id, when it had one). When the
 * call ends: a `call_ended` notice, then close 1000. The key needs the
 * `messages` scope (403 otherwise).
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { CallManager, MessageHub } from '../calls/index.js';
import { rejectedNotice } from '../calls/message-hub.js';
import type { CallRecord, CallStore } from '../storage/index.js';
import { apiKeyFinder, keyHasScope, type ApiKeyConfig } from './api-auth.js';

export const MESSAGES_PATH = /^\/v1\/calls\/([A-Za-z0-9-]{1,64})\/messages$/;

export function messagesUpgrade(deps: {
  apiKeys: readonly ApiKeyConfig[];
  calls: CallManager;
  store: CallStore;
  hub: MessageHub;
}): (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 });
  const find = apiKeyFinder(deps.apiKeys);
  const authenticate = (req: IncomingMessage, url: URL) => {
    const header = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    return find(header ?? url.searchParams.get('access_token') ?? '');
  };
  const refuse = (socket: Duplex, status: string) =>
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);

  return (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://gateway');
    const match = MESSAGES_PATH.exec(url.pathname);
    if (!match?.[1]) return false;
    const key = authenticate(req, url);
    if (!key) {
      refuse(socket, '401 Unauthorized');
      return true;
    }
    if (!keyHasScope(key, 'messages')) {
      refuse(socket, '403 Forbidden');
      return true;
    }
    const callId = match[1];
    void deps.store.get(callId).then(
      (record) => {
        if (!record || (key.tenant !== undefined && key.tenant !== record.tenant)) {
          refuse(socket, '404 Not Found');
          return;
        }
        upgrade(record);
      },
      () => refuse(socket, '503 Service Unavailable'),
    );
    return true;
    function upgrade(record: CallRecord): void {
      wss.handleUpgrade(req, socket, head, (ws) => {
        const call = deps.calls.get(callId);
        if (!call) {
          // An ended call: its history, then call_ended.
          const end = () => {
            ws.send(
              JSON.stringify({
                type: 'notice',
                code: 'call_ended',
                reason: record.reason ?? 'ended',
              }),
            );
            ws.close(1000, 'call ended');
          };
          deps.hub.history(callId).then((history) => {
            for (const stored of history) ws.send(JSON.stringify(stored));
            end();
          }, end);
          return;
        }
        const unsubscribe = deps.hub.subscribe(callId, {
          send: (frame) => ws.send(frame),
          close: (code, reason) => ws.close(code, reason),
        });
        ws.on('message', (data, isBinary) => {
          if (isBinary) {
            ws.send(rejectedNotice({ reason: 'binary frames are not accepted' }));
            return;
          }
          const text = Array.isArray(data)
            ? Buffer.concat(data).toString('utf8')
            : Buffer.from(data as ArrayBuffer).toString('utf8');
          const result = deps.hub.fromAgent(call, text);
          if (result.ok) {
            ws.send(
              JSON.stringify({
                type: 'ack',
                id: result.stored.message.id,
                seq: result.stored.seq,
                delivered: result.delivered,
              }),
            );
          } else {
            ws.send(rejectedNotice(result));
          }
        });
        ws.on('close', unsubscribe);
        ws.on('error', () => undefined);
      });
    }
  };
}
