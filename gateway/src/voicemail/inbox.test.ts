/**
 * The voicemail API's "mark heard" and "delete" over real HTTP, a real SQLite
 * file and real WAV files: scopes and tenants are checked like the rest of
 * /v1, errors come from the registry, a delete removes the file and the row,
 * and a message still being recorded is neither deleted nor marked (409).
 * `GET /v1/voicemails/<id>` shows what the caller typed on the data channel.
 * Each mark and delete is told to the box's desks (`voicemail-heard`,
 * `voicemail-deleted`); a row deleted meanwhile is 404, not 409.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VoicemailInboxEvent, VoicemailView } from '@parley/shared/protocol';
import { ParleyError } from '@parley/shared/errors';
import { errorHandler } from '../http/index.js';
import { createLogger } from '../observability/index.js';
import { SqliteCallStore, SqliteMessageStore, openDatabase } from '../storage/index.js';
import { testCallRecord } from '../storage/test-records.js';
import { voicemailRouter } from './http.js';
import { VoicemailInbox, type VoicemailBoxOf } from './inbox.js';
import { VoicemailLive } from './live.js';
import { SqliteVoicemailStore } from './sqlite-store.js';
import { VOICEMAIL_SCHEMA, type NewVoicemail } from './store.js';

const NOW = Date.UTC(2026, 11, 6, 1);
const dir = mkdtempSync(join(tmpdir(), 'parley-vm-inbox-'));
const db = openDatabase(join(dir, 'db.sqlite'), [VOICEMAIL_SCHEMA]);
const store = new SqliteVoicemailStore(db, 'gw-a');
/** What the inbox told the desks. */
const told: { box: VoicemailBoxOf; event: VoicemailInboxEvent }[] = [];
let inbox: VoicemailInbox;
const messages = new SqliteMessageStore(db);
let server: Server;
let base = '';

const keys = [
  { id: 'admin', key: 'admin-key-0123456789', privateClaims: true },
  { id: 'acme', key: 'acme-key-0123456789', tenant: 'acme', privateClaims: false },
  { id: 'other', key: 'other-key-0123456789', tenant: 'other', privateClaims: false },
  {
    id: 'reader',
    key: 'reader-key-0123456789',
    tenant: 'acme',
    privateClaims: false,
    scopes: ['read' as const],
  },
];

async function add(id: string, ended: boolean): Promise<string> {
  const path = join(dir, `voicemail-${id}.wav`);
  writeFileSync(path, Buffer.from('RIFF....WAVE'));
  const record: NewVoicemail = {
    id,
    callId: `call-${id}`,
    tenant: 'acme',
    queue: 'sales',
    agent: null,
    cause: 'no-answer',
    sessionNumber: '+15550101',
    sessionId: 's',
    origin: '',
    page: null,
    publicClaims: {},
    privateClaims: {},
    recordingPath: path,
    createdAt: NOW - 60_000,
  };
  await store.insert(record);
  if (ended)
    await store.finish(id, {
      status: 'left',
      endedAt: NOW,
      durationMs: 4000,
      endReason: 'silence',
    });
  return path;
}

async function call<T = VoicemailView>(
  method: string,
  path: string,
  key: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${base}/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

beforeAll(async () => {
  const logger = createLogger('silent');
  inbox = new VoicemailInbox({
    store,
    messages,
    logger,
    now: () => NOW,
    notify: (box, event) => told.push({ box, event }),
  });
  const app = express();
  app.use(express.json());
  app.use(
    '/v1',
    voicemailRouter({
      apiKeys: keys,
      store,
      inbox,
      voicemails: {
        live: new VoicemailLive(),
        take: () => Promise.reject(new ParleyError('not_found')),
      },
    }),
  );
  app.use(errorHandler(logger));
  server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => {
  server?.close();
  db.close();
});

describe('the voicemail API: heard and delete', () => {
  it('marks a voicemail heard once (the first mark is kept) and filters the list by it', async () => {
    await add('h1', true);
    await add('h2', true);
    told.length = 0;
    const marked = await call('POST', '/voicemails/h1/heard', keys[1]!.key, { agentId: 'alice' });
    expect(marked.status).toBe(200);
    expect(marked.body).toMatchObject({
      id: 'h1',
      heardAt: new Date(NOW).toISOString(),
      heardBy: 'alice',
    });
    // The box's desks are told, once.
    expect(told).toEqual([
      {
        box: expect.objectContaining({ queue: 'sales', agent: null }) as unknown,
        event: {
          type: 'voicemail-heard',
          voicemailId: 'h1',
          heardAt: new Date(NOW).toISOString(),
          heardBy: 'alice',
        },
      },
    ]);
    const again = await call('POST', '/voicemails/h1/heard', keys[0]!.key, { agentId: 'bob' });
    expect(again.body).toMatchObject({ heardBy: 'alice' });
    expect((await store.get('h1'))?.heardBy).toBe('alice');
    expect(told).toHaveLength(1);

    const unheard = await call<{ voicemails: VoicemailView[] }>(
      'GET',
      '/voicemails?heard=false',
      keys[1]!.key,
    );
    expect(unheard.body.voicemails.map((v) => v.id)).toContain('h2');
    expect(unheard.body.voicemails.map((v) => v.id)).not.toContain('h1');
    const heard = await call<{ voicemails: VoicemailView[] }>(
      'GET',
      '/voicemails?heard=true',
      keys[1]!.key,
    );
    expect(heard.body.voicemails.map((v) => v.id)).toEqual(['h1']);
    const bad = await call<{ error: { code: string } }>(
      'GET',
      '/voicemails?heard=maybe',
      keys[1]!.key,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('bad_request');
  });

  it('deletes the WAV and the row; the voicemail is then gone', async () => {
    const file = await add('d1', true);
    told.length = 0;
    const res = await call('DELETE', '/voicemails/d1', keys[1]!.key);
    expect(res.status).toBe(204);
    expect(existsSync(file)).toBe(false);
    expect(await store.get('d1')).toBeUndefined();
    expect(told.map((t) => t.event)).toEqual([{ type: 'voicemail-deleted', voicemailId: 'd1' }]);
    const gone = await call<{ error: { code: string } }>('GET', '/voicemails/d1', keys[1]!.key);
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('not_found');
    expect((await call('DELETE', '/voicemails/d1', keys[1]!.key)).status).toBe(404);
  });

  it('never deletes or marks a message still being recorded (409), keeping its file and row', async () => {
    const file = await add('r1', false);
    const del = await call<{ error: { code: string; detail?: string } }>(
      'DELETE',
      '/voicemails/r1',
      keys[1]!.key,
    );
    expect(del.status).toBe(409);
    expect(del.body.error.code).toBe('conflict');
    expect(del.body.error.detail).toContain('still being recorded');
    const heard = await call<{ error: { code: string } }>(
      'POST',
      '/voicemails/r1/heard',
      keys[1]!.key,
    );
    expect(heard.status).toBe(409);
    expect(existsSync(file)).toBe(true);
    expect(await store.get('r1')).toMatchObject({ status: 'recording', heardAt: null });
  });

  it('answers 404, not 409, for a row deleted between the read and the change', async () => {
    await add('g1', true);
    const read = await store.get('g1');
    await store.delete('g1');
    await expect(inbox.markHeard(read!, 'alice')).rejects.toMatchObject({ code: 'not_found' });
    await expect(inbox.delete(read!)).rejects.toMatchObject({ code: 'not_found' });
  });

  it("marks another gateway's voicemail for deletion instead of touching its file", async () => {
    const file = await add('e1', true);
    const read = await store.get('e1');
    // As the shared index would give it: recorded on gw-b, whose disk holds the WAV.
    expect(await inbox.delete({ ...read!, gateway: 'gw-b' })).toBe('requested');
    expect(existsSync(file)).toBe(true);
    expect(await store.get('e1')).toBeUndefined();
  });

  it('checks scopes and tenants as the rest of /v1 does', async () => {
    const file = await add('s1', true);
    // A key without the `voicemails` scope may read, not change.
    expect((await call('GET', '/voicemails/s1', keys[3]!.key)).status).toBe(200);
    const forbidden = await call<{ error: { code: string } }>(
      'DELETE',
      '/voicemails/s1',
      keys[3]!.key,
    );
    expect(forbidden.status).toBe(403);
    expect(forbidden.body.error.code).toBe('forbidden');
    expect((await call('POST', '/voicemails/s1/heard', keys[3]!.key)).status).toBe(403);
    // Another tenant's key does not see it at all.
    expect((await call('DELETE', '/voicemails/s1', keys[2]!.key)).status).toBe(404);
    expect((await call('POST', '/voicemails/s1/heard', keys[2]!.key)).status).toBe(404);
    // No key: 401.
    expect((await call('DELETE', '/voicemails/s1', 'nope')).status).toBe(401);
    expect(existsSync(file)).toBe(true);
    expect((await store.get('s1'))?.heardAt).toBeNull();
    const bad = await call('POST', '/voicemails/s1/heard', keys[1]!.key, { agentId: 42 });
    expect(bad.status).toBe(400);
  });

  it('shows what the caller typed on the data channel with the voicemail', async () => {
    await add('t1', true);
    // Messages belong to a stored call (foreign key), as on a real gateway.
    new SqliteCallStore(db).insert(testCallRecord('call-t1', { createdAt: NOW - 60_000 }));
    const at = new Date(NOW - 30_000).toISOString();
    await messages.append('call-t1', {
      seq: 1,
      from: 'visitor',
      receivedAt: at,
      message: { type: 'chat', id: 'm1', at, text: 'Call me back at noon please' },
    });
    await messages.append('call-t1', {
      seq: 2,
      from: 'visitor',
      receivedAt: at,
      message: { type: 'navigation', id: 'm2', at, url: 'https://shop.example/cart' },
    });
    const res = await call('GET', '/voicemails/t1', keys[1]!.key);
    expect(res.body.typed).toEqual([{ at, text: 'Call me back at noon please' }]);
  });
});
