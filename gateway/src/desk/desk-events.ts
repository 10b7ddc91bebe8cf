/** The desk's WebSocket (`/desk/api/events`), authenticated by the desk session cookie. */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { DeskHub } from './desk-hub.js';
import type { DeskSessions } from './desk-session.js';

export const DESK_EVENTS_PATH = '/desk/api/events';

export function deskEventsUpgrade(deps: { sessions: DeskSessions; hub: DeskHub }) {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 8 * 1024 });
  return (req: IncomingMessage, socket: Duplex, head: Buffer): boolean => {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    if (path !== DESK_EVENTS_PATH) return false;
    const identity = deps.sessions.fromRequest(req);
    if (!identity) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return true;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const disconnect = deps.hub.connect(identity.agentId, {
        send: (frame) => ws.send(frame),
        close: (code, reason) => ws.close(code, reason),
      });
      ws.on('message', (data, isBinary) => {
        if (isBinary) return;
        const text = Array.isArray(data)
          ? Buffer.concat(data).toString()
          : Buffer.from(data as ArrayBuffer).toString();
        const result = deps.hub.receive(identity.agentId, text);
        if (!result.ok)
          ws.send(
            JSON.stringify({ type: 'notice', code: 'message_rejected', reason: result.reason }),
          );
      });
      ws.on('close', disconnect);
      ws.on('error', () => undefined);
    });
    return true;
  };
}
