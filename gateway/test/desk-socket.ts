/** An agent's desk events socket for tests: signed in with the agent's password, frames kept. */
import WebSocket from 'ws';

export interface DeskSocket {
  readonly ws: WebSocket;
  readonly frames: Record<string, unknown>[];
  /** Resolves with the first frame (already received or arriving) that matches. */
  frame(match: (frame: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
}

export async function deskSocket(
  httpUrl: string,
  username: string,
  password: string,
): Promise<DeskSocket> {
  const res = await fetch(`${httpUrl}/desk/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const cookie = res.headers.get('set-cookie')?.split(';')[0] ?? '';
  const ws = new WebSocket(`${httpUrl.replace('http', 'ws')}/desk/api/events`, {
    headers: { cookie },
  });
  const frames: Record<string, unknown>[] = [];
  const waiters: {
    match: (f: Record<string, unknown>) => boolean;
    resolve: (f: Record<string, unknown>) => void;
  }[] = [];
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as Record<string, unknown>;
    frames.push(frame);
    for (const waiter of [...waiters])
      if (waiter.match(frame)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(frame);
      }
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  return {
    ws,
    frames,
    frame(match) {
      const seen = frames.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}
