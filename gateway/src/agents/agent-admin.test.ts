import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isParleyError } from '@parley/shared/errors';
import { createLogger } from '../observability/index.js';
import { digestHa1 } from '../sip/message/index.js';
import { SqliteAgentStore, openDatabase, type SqliteDatabase } from '../storage/index.js';
import { agentPhoneRefusal } from '../config/cross-checks.js';
import { AgentAdmin } from './agent-admin.js';
import { AgentDirectory } from './agent-directory.js';

const REALM = 'parley.test';
const PASSWORD = 'correct horse battery';
const queues: Record<string, string> = { sales: 'acme', support: 'acme', rival: 'globex' };

let dir: string;
let db: SqliteDatabase;

function setup(now = { t: 1_000 }) {
  const directory = new AgentDirectory(
    [{ id: 'boss', tenant: 'acme', password: 'from-config', queues: ['sales'], maxCalls: 1 }],
    () => now.t,
  );
  const store = new SqliteAgentStore(db);
  const admin = new AgentAdmin({
    directory,
    store,
    realm: REALM,
    configured: new Set(['boss']),
    tenantExists: (t) => t === 'acme' || t === 'globex',
    queueTenant: (q) => queues[q],
    voices: ['slt', 'kal'],
    // One trunk, for acme only, to North America but not its premium numbers.
    phoneRefusal: agentPhoneRefusal({
      carrier: {
        outbound: { tenants: ['acme'], allowPrefixes: ['+1'], denyPrefixes: ['+1900'] },
      },
    }),
    logger: createLogger('silent'),
    now: () => now.t,
  });
  return { directory, store, admin, now };
}

/** The ParleyError a call throws: its code, HTTP status and the detail the API shows. */
async function refusal(fn: () => Promise<unknown>) {
  try {
    await fn();
  } catch (error) {
    if (!isParleyError(error)) throw error;
    return { code: error.code, status: error.httpStatus, body: error.toJSON().error };
  }
  throw new Error('expected a refusal');
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'parley-agents-'));
  db = openDatabase(join(dir, 'parley.db'));
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('AgentAdmin', () => {
  it('creates an agent the directory routes to, storing digest H(A1) values and never the password', async () => {
    const { directory, store, admin } = setup();
    const { created, agent } = await admin.put('acme', 'ada', {
      password: PASSWORD,
      queues: ['sales', 'support'],
      displayName: 'Ada',
      tier: 'senior',
      maxCalls: 2,
    });
    expect(created).toBe(true);
    expect(agent).toMatchObject({
      id: 'ada',
      tenant: 'acme',
      username: 'ada',
      source: 'api',
      state: 'offline',
      maxCalls: 2,
      tier: 'senior',
      queues: ['sales', 'support'],
    });
    expect(directory.credentials('ada')).toEqual({
      agentId: 'ada',
      username: 'ada',
      password: undefined,
      ha1: {
        MD5: digestHa1('ada', REALM, PASSWORD, 'MD5'),
        'SHA-256': digestHa1('ada', REALM, PASSWORD, 'SHA-256'),
      },
      algorithms: undefined,
    });
    expect((await store.get('ada'))?.ha1['SHA-256']).toBe(
      digestHa1('ada', REALM, PASSWORD, 'SHA-256'),
    );
    // Not in the table, not in the WAL, not in the file.
    db.pragma('wal_checkpoint(TRUNCATE)');
    expect(readFileSync(join(dir, 'parley.db')).includes(PASSWORD)).toBe(false);
  });

  it('updates settings without the password, keeping registrations and the old secret', async () => {
    const { directory, admin } = setup();
    await admin.put('acme', 'ada', { password: PASSWORD, queues: ['sales'] });
    directory.setContacts('ada', [
      { uri: 'sip:ada-phone@127.0.0.1', expiresAt: 61_000, flowId: undefined },
    ]);
    const before = directory.credentials('ada');
    const { created, agent } = await admin.put('acme', 'ada', {
      queues: ['support'],
      tier: 'junior',
    });
    expect(created).toBe(false);
    expect(agent).toMatchObject({ queues: ['support'], tier: 'junior', registered: true });
    expect(directory.credentials('ada')).toEqual(before);
  });

  it('needs the password to create an agent or to change its username', async () => {
    const { admin } = setup();
    expect(await refusal(() => admin.put('acme', 'ada', { queues: ['sales'] }))).toMatchObject({
      code: 'bad_request',
      status: 400,
      body: { detail: 'password: required to create an agent' },
    });
    await admin.put('acme', 'ada', { password: PASSWORD, queues: ['sales'] });
    expect(
      (await refusal(() => admin.put('acme', 'ada', { username: 'ada2', queues: ['sales'] }))).body
        .detail,
    ).toMatch(/password: required to change the username/);
  });

  it('refuses bad input with the field that is wrong', async () => {
    const { admin } = setup();
    // null: an API key for every tenant.
    const detail = async (id: string, body: unknown, scope: string | null = 'acme') =>
      (await refusal(() => admin.put(scope ?? undefined, id, body))).body.detail;
    const ok = { password: PASSWORD, queues: ['sales'] };
    expect(await detail('bad id!', ok)).toMatch(/agent id/);
    expect(await detail('a'.repeat(65), ok)).toMatch(/agent id/);
    expect(await detail('ada', null)).toMatch(/^body:/);
    expect(await detail('ada', { ...ok, password: 'short' })).toMatch(/^password:/);
    expect(await detail('ada', { ...ok, queues: [] })).toMatch(/^queues:/);
    expect(await detail('ada', { ...ok, maxCalls: 0 })).toMatch(/^maxCalls:/);
    expect(await detail('ada', { ...ok, username: 'ada@evil' })).toMatch(/^username:/);
    expect(await detail('ada', { ...ok, contact: 'http://x' })).toMatch(/^contact:/);
    expect(await detail('ada', { ...ok, role: 'admin' })).toMatch(/role/);
    expect(await detail('ada', { ...ok, queues: ['nope'] })).toMatch(/no queue "nope"/);
    expect(await detail('ada', { ...ok, queues: ['rival'] })).toMatch(
      /no queue "rival" for tenant "acme"/,
    );
    expect(await detail('ada', ok, null)).toMatch(/tenant: required/);
    expect(await detail('ada', { ...ok, tenant: 'globex' })).toMatch(/manages tenant "acme" only/);
    expect(await detail('ada', { ...ok, tenant: 'initech' }, null)).toMatch(/no tenant "initech"/);
  });

  it('makes an agent who is a telephone number, reachable at once through the trunk, and checks the number', async () => {
    const { admin, directory, store } = setup();
    const ok = { password: PASSWORD, queues: ['sales'] };
    const { agent } = await admin.put('acme', 'ada', { ...ok, phone: '+14155550123' });
    expect(agent.contacts.map((c) => c.uri)).toEqual(['tel:+14155550123']);
    expect(directory.get('ada')?.registered).toBe(true);
    expect((await store.get('ada'))?.profile).toMatchObject({ phone: '+14155550123' });
    await admin.put('acme', 'bea', { ...ok, phone: '+14155550124', trunk: 'carrier' });
    expect((await store.get('bea'))?.profile).toMatchObject({ trunk: 'carrier' });

    const detail = async (body: object, scope = 'acme') =>
      (await refusal(() => admin.put(scope, 'cy', { ...ok, ...body }))).body.detail;
    expect(await detail({ phone: '4155550125' })).toMatch(/^phone: .*E\.164/);
    expect(await detail({ phone: '+14155550125', contact: 'sip:cy@pbx.acme.test' })).toMatch(
      /^phone: give either contact .* or phone/,
    );
    expect(await detail({ trunk: 'carrier' })).toMatch(/^trunk: .*give phone too/);
    expect(await detail({ phone: '+14155550125', trunk: 'nope' })).toBe('trunk: no trunk "nope"');
    expect(await detail({ phone: '+19005550125' })).toMatch(/^phone: .*denyPrefixes/);
    expect(await detail({ phone: '+442079460000' })).toMatch(/^phone: .*allowPrefixes/);
    expect(
      await detail({ tenant: 'globex', queues: ['rival'], phone: '+14155550125' }, 'globex'),
    ).toMatch(/^phone: no trunk lets tenant globex call out/);
  });

  it('skips at load a stored phone agent whose number the trunks no longer allow', async () => {
    const first = setup();
    await first.admin.put('acme', 'ada', {
      password: PASSWORD,
      queues: ['sales'],
      phone: '+14155550123',
    });
    const ada = (await first.store.get('ada'))!;
    await first.store.put({
      ...ada,
      id: 'dee',
      username: 'dee',
      profile: { ...ada.profile, phone: '+19005550100' },
    });
    const again = setup();
    expect(await again.admin.load()).toBe(1);
    expect(again.directory.get('ada')?.contacts.map((c) => c.uri)).toEqual(['tel:+14155550123']);
    expect(again.directory.get('dee')).toBeUndefined();
  });

  it('refuses ids and usernames that are taken, and agents of the config file', async () => {
    const { admin } = setup();
    await admin.put(undefined, 'ada', { tenant: 'globex', password: PASSWORD, queues: ['rival'] });
    expect(
      await refusal(() => admin.put('acme', 'ada', { password: PASSWORD, queues: ['sales'] })),
    ).toMatchObject({
      code: 'conflict',
      status: 409,
      body: { detail: 'the agent id "ada" is taken' },
    });
    expect(
      (
        await refusal(() =>
          admin.put('acme', 'bob', { username: 'ada', password: PASSWORD, queues: ['sales'] }),
        )
      ).body.detail,
    ).toBe('the username "ada" is taken');
    expect(
      (await refusal(() => admin.put('acme', 'boss', { password: PASSWORD, queues: ['sales'] })))
        .body.detail,
    ).toMatch(/defined in the config file/);
    expect((await refusal(() => admin.remove('acme', 'boss'))).code).toBe('conflict');
  });

  it('deletes an agent: gone from routing and storage, its registrations dropped', async () => {
    const { directory, store, admin } = setup();
    await admin.put('acme', 'ada', { password: PASSWORD, queues: ['sales'] });
    const removed: string[] = [];
    directory.on('removed', (id) => removed.push(id));
    expect(await refusal(() => admin.remove('globex', 'ada'))).toMatchObject({
      code: 'not_found',
      status: 404,
    });
    await admin.remove('acme', 'ada');
    expect(removed).toEqual(['ada']);
    expect(directory.get('ada')).toBeUndefined();
    expect(directory.credentials('ada')).toBeUndefined();
    expect(await store.get('ada')).toBeUndefined();
    expect((await refusal(() => admin.remove('acme', 'ada'))).code).toBe('not_found');
  });

  it('loads stored agents after a restart, and skips one the config file now defines', async () => {
    const first = setup();
    await first.admin.put('acme', 'ada', { password: PASSWORD, queues: ['sales'], tier: 'senior' });
    // Stored before the config file gave its agent 'boss' the same username: skipped.
    const ada = (await first.store.get('ada'))!;
    await first.store.put({ ...ada, id: 'cy', username: 'boss' });
    await first.store.put({ ...ada, id: 'boss', username: 'boss2' });
    const again = setup();
    expect(await again.admin.load()).toBe(1);
    expect(again.directory.get('ada')).toMatchObject({ tier: 'senior', source: 'api' });
    expect(again.directory.credentials('boss')?.agentId).toBe('boss');
    expect(again.directory.get('cy')).toBeUndefined();
  });

  it('changes the credential stamp (which signs desks out) when the password changes', async () => {
    const { directory, admin } = setup();
    await admin.put('acme', 'ada', { password: PASSWORD, queues: ['sales'] });
    const stamp = directory.credentialStamp('ada');
    await admin.put('acme', 'ada', { queues: ['support'] });
    expect(directory.credentialStamp('ada')).toBe(stamp);
    await admin.put('acme', 'ada', { password: `${PASSWORD}!`, queues: ['support'] });
    expect(directory.credentialStamp('ada')).not.toBe(stamp);
  });

  it('gives an API-made agent its own voicemail box, kept across a restart; no greeting from a file', async () => {
    const { directory, admin } = setup();
    await admin.put('acme', 'ada', {
      password: PASSWORD,
      queues: ['sales'],
      voicemail: { greeting: { say: 'You have reached Ada.' }, maxSeconds: 60 },
    });
    expect(directory.voicemail('ada')).toMatchObject({
      greeting: { say: 'You have reached Ada.' },
      maxSeconds: 60,
      beep: true,
      silenceSeconds: 5,
      finishOnKeys: '#',
      transcribe: true,
    });
    // Defaults for what it leaves out, as agents[].voicemail in the config file.
    await admin.put('acme', 'bea', { password: PASSWORD, queues: ['sales'], voicemail: {} });
    expect(directory.voicemail('bea')?.greeting).toEqual({
      say: 'Nobody can take your call. Please leave a message after the tone.',
    });
    expect(directory.voicemail('boss')).toBeUndefined();
    // A key never names a file on the gateway.
    const wav = await refusal(() =>
      admin.put('acme', 'cy', {
        password: PASSWORD,
        queues: ['sales'],
        voicemail: { greeting: { wav: '/etc/passwd' } },
      }),
    );
    expect(wav).toMatchObject({ code: 'bad_request', status: 400 });
    expect(wav.body.detail).toContain('voicemail.greeting');
    // A voice the gateway cannot speak is refused now, not found silent at call time.
    const voice = await refusal(() =>
      admin.put('acme', 'cy', {
        password: PASSWORD,
        queues: ['sales'],
        voicemail: { closedGreeting: { say: 'Closed.', voice: 'nobody' } },
      }),
    );
    expect(voice).toMatchObject({ code: 'bad_request', status: 400 });
    expect(voice.body.detail).toBe(
      'voicemail.closedGreeting.voice: "nobody" is not one of speech.tts.voices',
    );
    // A restart: the stored agent comes back with its box.
    const again = setup();
    await again.admin.load();
    expect(again.directory.voicemail('ada')?.greeting).toEqual({ say: 'You have reached Ada.' });
    expect(again.directory.voicemail('ada')?.maxSeconds).toBe(60);
    // Updated without a box: it has none any more.
    await admin.put('acme', 'ada', { queues: ['sales'] });
    expect(directory.voicemail('ada')).toBeUndefined();
  });
});
