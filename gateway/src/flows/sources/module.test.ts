import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../observability/index.js';
import { FakeCall } from '../testing/fake-call.js';
import { harness } from '../testing/harness.js';
import { createFlowCatalog } from './catalog.js';
import { loadFlowModule, ModuleSource } from './module.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-flow-module-'));
const write = (name: string, text: string): string => {
  writeFileSync(join(dir, name), text);
  return name;
};

async function moduleFlow(file: string, timeoutMs = 1000) {
  const fn = await loadFlowModule(file, dir);
  const source = new ModuleSource('app', fn, { timeoutMs, fallback: 'sorry' });
  return harness({ sources: [source], flows: { sorry: [{ verb: 'say', text: 'Sorry.' }] } });
}

describe('module flows', () => {
  it("runs the verbs the company's function returns for the call", async () => {
    const h = await moduleFlow(
      write(
        'greet.mjs',
        `export default (request) => [{ verb: 'say', text: 'Hello ' + (request.call.privateClaims.name ?? 'there') }];`,
      ),
    );
    await h.runner.run(new FakeCall({ context: { privateClaims: { name: 'Ada' } } }), 'app');
    expect(h.speech.spoken).toEqual(['Hello Ada']);
    expect(h.log.of('flow.start')[0]).toMatchObject({ flow: 'app', source: 'module' });
  });

  it('is asked again with a verb result when the verb has actionHook: true', async () => {
    const h = await moduleFlow(
      write(
        'menu.mjs',
        `export default async (request) => {
           if (request.event === 'call')
             return { verbs: [{ verb: 'gather', numDigits: 1, timeout: 60, actionHook: true }, { verb: 'say', text: 'never' }] };
           if (request.result.digits === '1') return [{ verb: 'say', text: 'Sales.' }];
           return undefined;
         };`,
      ),
    );
    const call = new FakeCall();
    call.once('answer', () => call.press('1'));
    await h.runner.run(call, 'app');
    expect(h.speech.spoken).toEqual(['Sales.']);
  });

  it('a function that takes too long, throws, or returns nonsense gives the fallback, and the record says why', async () => {
    const cases: [string, string, string][] = [
      ['slow.mjs', `export default () => new Promise(() => {});`, 'timeout'],
      ['throws.mjs', `export default () => { throw new Error('database down'); };`, 'module_threw'],
      ['nonsense.mjs', `export default () => 42;`, 'not_a_list'],
      ['badverb.mjs', `export default () => [{ verb: 'say' }];`, 'invalid_options'],
      [
        'urlhook.mjs',
        `export default () => [{ verb: 'pause', actionHook: 'https://a.test/' }];`,
        'invalid_options',
      ],
    ];
    for (const [file, text, reason] of cases) {
      const h = await moduleFlow(write(file, text), 100);
      const outcome = await h.runner.run(new FakeCall(), 'app');
      expect(outcome.reason, file).toBe('completed');
      expect(h.log.of('source.error')[0], file).toMatchObject({
        source: 'module',
        reason,
        fallback: 'sorry',
      });
      expect(h.speech.spoken, file).toEqual(['Sorry.']);
    }
  });

  it('cannot change what the gateway holds about the call', async () => {
    const h = await moduleFlow(
      write(
        'mutate.mjs',
        `export default (r) => { r.call.tenant = 'evil'; return [{ verb: 'pause', length: 0 }]; };`,
      ),
    );
    const call = new FakeCall();
    await h.runner.run(call, 'app');
    expect(call.context.tenant).toBe('acme');
    expect(h.log.events.every((e) => e.tenant === 'acme')).toBe(true);
  });

  it('refuses a module that is missing, broken or does not export a function', async () => {
    await expect(loadFlowModule('nope.mjs', dir)).rejects.toMatchObject({ code: 'invalid_config' });
    await expect(
      loadFlowModule(write('broken.mjs', 'export default ('), dir),
    ).rejects.toMatchObject({
      code: 'invalid_config',
    });
    await expect(
      loadFlowModule(write('object.mjs', 'export default { verbs: [] }'), dir),
    ).rejects.toThrow(/default export must be a function/);
  });

  it('the catalog loads config, webhook and module flows by name', async () => {
    write('ok.mjs', `export default () => [];`);
    const catalog = await createFlowCatalog(
      {
        plain: [{ verb: 'hangup', reason: 'completed' }],
        wrapped: { verbs: [] },
        hook: {
          webhook: { url: 'https://hooks.acme.test/flow', timeoutMs: 1000, statusEvents: true },
        },
        code: { module: { path: join(dir, 'ok.mjs'), timeoutMs: 500, fallback: 'plain' } },
      },
      { logger: createLogger('silent') },
    );
    expect(catalog.names).toEqual(['plain', 'wrapped', 'hook', 'code']);
    expect(['plain', 'wrapped', 'hook', 'code'].map((n) => catalog.get(n)?.kind)).toEqual([
      'config',
      'config',
      'webhook',
      'module',
    ]);
    expect(catalog.get('code')?.fallback).toBe('plain');
  });
});
