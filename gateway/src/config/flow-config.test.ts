import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '@parley/shared/tokens';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';

async function base() {
  const gateway = await generateEncryptionKeyPair();
  const tenant = await generateSigningKeyPair();
  return {
    gatewayId: 'gw',
    tokens: { encryptionKeys: [gateway.privateJwk] },
    tenants: { acme: { jwks: [tenant.publicJwk] } },
  };
}

describe('flows and queueing in the config', () => {
  it('takes flows of verbs, webhooks and modules, with defaults, and paths relative to the config file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-flow-config-'));
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({
        ...(await base()),
        tenants: { acme: { ...(await base()).tenants.acme, defaultFlow: 'welcome' } },
        queues: {
          sales: {
            tenant: 'acme',
            waiting: { maxWaitSeconds: 120, music: { file: 'hold.wav' } },
            flows: { maxWait: 'voicemail', closed: 'welcome' },
            businessHours: { timeZone: 'Europe/Berlin', weekly: { mon: [['09:00', '17:00']] } },
          },
        },
        flows: {
          welcome: [
            { verb: 'say', text: 'Welcome.' },
            { verb: 'enqueue', queue: 'sales' },
          ],
          voicemail: { verbs: [{ verb: 'record', maxLengthSeconds: 120 }] },
          ivr: { webhook: { url: 'https://hooks.acme.example/ivr', fallback: 'welcome' } },
          code: { module: { path: 'flows/code.mjs' } },
        },
        prompts: { dirs: ['prompts'] },
      }),
    );
    const config = loadConfig({ file: join(dir, 'config.json') });
    expect(config.flows['welcome']).toEqual([
      { verb: 'say', text: 'Welcome.', loop: 1, interruptible: false },
      { verb: 'enqueue', queue: 'sales' },
    ]);
    expect(config.flows['ivr']).toEqual({
      webhook: {
        url: 'https://hooks.acme.example/ivr',
        timeoutMs: 3000,
        statusEvents: true,
        fallback: 'welcome',
      },
    });
    expect(config.flows['code']).toEqual({
      module: { path: join(dir, 'flows/code.mjs'), timeoutMs: 1000 },
    });
    expect(config.prompts.dirs).toEqual([join(dir, 'prompts')]);
    expect(config.queues['sales']?.waiting).toMatchObject({
      maxWaitSeconds: 120,
      maxCallers: 100,
      announceEverySeconds: 60,
      music: { file: 'hold.wav' },
    });
    expect(config.storage.recordingsDir).toBe('.var/recordings');
  });

  it('refuses bad verbs with their path, actionHook in a config flow, and names of flows that do not exist', async () => {
    const input = {
      ...(await base()),
      tenants: { acme: { ...(await base()).tenants.acme, defaultFlow: 'nowhere' } },
      queues: { sales: { tenant: 'acme', flows: { noAnswer: 'missing' } } },
      flows: {
        bad: [
          { verb: 'say', text: 'ok' },
          { verb: 'gather', timeout: 'soon' },
        ],
        hooked: [{ verb: 'gather', actionHook: true }],
        loops: [{ verb: 'redirect', flow: 'elsewhere' }],
        hook: { webhook: { url: 'https://hooks.acme.example/x', fallback: 'gone' } },
      },
    };
    expect(() => loadConfig({ input })).toThrow(/flows\.bad/);
    expect(() => loadConfig({ input })).toThrow(
      /flows\.hooked\.0\.actionHook: actionHook needs a webhook or module flow/,
    );
    const refs = { ...input, flows: { loops: input.flows.loops, hook: input.flows.hook } };
    let message = '';
    try {
      loadConfig({ input: refs });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/tenants\.acme\.defaultFlow: no flow "nowhere"/);
    expect(message).toMatch(/queues\.sales\.flows\.noAnswer: no flow "missing"/);
    expect(message).toMatch(/flows\.loops\.0\.flow: no flow "elsewhere"/);
    expect(message).toMatch(/flows\.hook\.fallback: no flow "gone"/);
  });

  it('refuses business hours it cannot read, saying where', async () => {
    const input = {
      ...(await base()),
      queues: {
        sales: { tenant: 'acme', businessHours: { timeZone: 'Mars/Olympus', weekly: {} } },
      },
    };
    expect(() => loadConfig({ input })).toThrow(/queues\.sales\.businessHours\.timeZone/);
  });
});

describe('flowReferences', () => {
  it('includes trunk numbers when the config has trunks', async () => {
    const { flowReferences } = await import('./flow-config.js');
    expect(
      flowReferences({
        flows: {},
        tenants: {},
        queues: {},
        trunks: { carrier: { inbound: { numbers: [{ flow: 'ivr' }, {}] } } },
      }),
    ).toEqual([{ path: 'trunks.carrier.inbound.numbers.0.flow', flow: 'ivr' }]);
  });
});
