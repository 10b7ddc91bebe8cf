import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_WEIGHTED, weightedAlgorithm } from './builtin.js';
import { ProviderClient } from './provider-client.js';
import type { CustomerHistory, ValueAlgorithm } from './types.js';
import { ValueService } from './value-service.js';

let server: Server;
let base = '';
let hits = 0;
const waiting: (() => void)[] = [];

beforeAll(async () => {
  server = createServer((req, res): void => {
    hits += 1;
    const path = req.url ?? '';
    if (path === '/ok') return void res.end(JSON.stringify({ score: 120 }));
    if (path === '/slow') return void setTimeout(() => res.end(JSON.stringify({ score: 1 })), 3000);
    if (path === '/error') return void res.writeHead(503).end('down');
    if (path === '/garbage') return void res.end('<html>not json</html>');
    if (path === '/nan') return void res.end(JSON.stringify({ score: 'lots' }));
    if (path === '/huge')
      return void res.end(JSON.stringify({ score: 1, pad: 'x'.repeat(100_000) }));
    // Each of the pair answers only once both requests have arrived: providers
    // asked one after the other would time out waiting for each other.
    if (path === '/pair-benefit' || path === '/pair-burden') {
      const score = path === '/pair-benefit' ? 120 : 10;
      waiting.push(() => res.end(JSON.stringify({ score })));
      if (waiting.length === 2) for (const answer of waiting.splice(0)) answer();
      return;
    }
    if (path === '/flaky')
      return void (hits % 2 === 1
        ? res.writeHead(502).end()
        : res.end(JSON.stringify({ score: 7 })));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(
  () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections(); // the /slow request is still waiting
    }),
);

const provider = (
  path: string,
  extra: Partial<ConstructorParameters<typeof ProviderClient>[0]> = {},
) =>
  new ProviderClient({
    url: `${base}${path}`,
    // Generous: a loaded machine must not turn a working provider into a
    // timeout. The timeout case sets its own (the server takes 3 s there).
    timeoutMs: path === '/slow' ? 100 : 5000,
    retries: 0,
    cacheSeconds: 0,
    default: -1,
    ...extra,
  });

const noHistory: CustomerHistory = {
  windowDays: 30,
  calls: 0,
  answeredCalls: 0,
  minutes: 0,
  repeatContacts: 0,
};

describe('ProviderClient', () => {
  it('reads the score', async () => {
    expect(await provider('/ok').score('acme', 'C-1', {})).toMatchObject({
      score: 120,
      fallback: false,
    });
  });

  it.each([
    ['/slow', 'timeout'],
    ['/error', 'http_503'],
    ['/garbage', 'bad_body'],
    ['/nan', 'bad_body'],
    ['/huge', 'too_large'],
    ['/nope', 'http_404'],
  ])('%s → the default, with the reason %s', async (path, error) => {
    expect(await provider(path).score('acme', 'C-1', {})).toMatchObject({
      score: -1,
      fallback: true,
      error,
    });
  });

  it('gives the default without a customer id, without calling', async () => {
    hits = 0;
    expect(await provider('/ok').score('acme', undefined, {})).toMatchObject({
      fallback: true,
      error: 'no_customer_id',
    });
    expect(hits).toBe(0);
  });

  it('retries and caches', async () => {
    hits = 0;
    const client = provider('/flaky', { retries: 1, cacheSeconds: 60 });
    expect(await client.score('acme', 'C-2', {})).toMatchObject({ score: 7, fallback: false });
    expect(hits).toBe(2);
    expect(await client.score('acme', 'C-2', {})).toMatchObject({ score: 7, cached: true });
    expect(hits).toBe(2);
  });

  it('is unreachable-safe', async () => {
    const client = new ProviderClient({
      url: 'http://127.0.0.1:9/score',
      timeoutMs: 200,
      retries: 0,
      cacheSeconds: 0,
      default: 3,
    });
    expect(await client.score('acme', 'C-3', {})).toMatchObject({
      score: 3,
      fallback: true,
      error: 'unreachable',
    });
  });
});

describe('weighted algorithm', () => {
  const score = (n: number) => ({ score: n, fallback: false, ms: 1, cached: false });
  it('weighs benefit against burden and history, and picks the tier', () => {
    const algorithm = weightedAlgorithm({
      version: '2',
      weights: { benefit: 1, burden: 2, calls: 1, minutes: 0.5, repeatContacts: 10 },
      tiers: [
        { name: 'high', minValue: 100 },
        { name: 'standard', minValue: 0 },
        { name: 'low', minValue: Number.NEGATIVE_INFINITY },
      ],
    });
    const input = {
      tenant: 't',
      customerId: 'c',
      privateClaims: {},
      benefit: score(300),
      burden: score(50),
      history: { ...noHistory, calls: 4, minutes: 20, repeatContacts: 2 },
    };
    // 300 − 100 − 4 − 10 − 20 = 166
    expect(algorithm.compute(input)).toMatchObject({ value: 166, tier: 'high' });
    expect(algorithm.compute({ ...input, benefit: score(100) })).toMatchObject({
      value: -34,
      tier: 'low',
    });
  });
});

describe('ValueService', () => {
  const logger = pino({ level: 'silent' });
  const history = async () => noHistory;

  it('calls both providers in parallel', async () => {
    const service = new ValueService({
      tenants: {
        acme: {
          benefit: {
            url: `${base}/pair-benefit`,
            timeoutMs: 5000,
            retries: 0,
            cacheSeconds: 0,
            default: 0,
          },
          burden: {
            url: `${base}/pair-burden`,
            timeoutMs: 5000,
            retries: 0,
            cacheSeconds: 0,
            default: 0,
          },
          algorithm: weightedAlgorithm(DEFAULT_WEIGHTED),
          historyWindowDays: 30,
        },
      },
      history,
      logger,
    });
    const evaluation = await service.evaluate('acme', { customerId: 'C-1' });
    expect(evaluation.benefit).toMatchObject({ score: 120, fallback: false });
    expect(evaluation.burden).toMatchObject({ score: 10, fallback: false });
  });

  it('records which provider fell back, and why', async () => {
    const service = new ValueService({
      tenants: {
        acme: {
          benefit: { url: `${base}/ok`, timeoutMs: 5000, retries: 0, cacheSeconds: 0, default: 0 },
          burden: { url: `${base}/slow`, timeoutMs: 100, retries: 0, cacheSeconds: 0, default: 10 },
          algorithm: weightedAlgorithm(DEFAULT_WEIGHTED),
          historyWindowDays: 30,
        },
      },
      history,
      logger,
    });
    const evaluation = await service.evaluate('acme', { customerId: 'C-1' });
    expect(evaluation.benefit).toMatchObject({ score: 120, fallback: false });
    expect(evaluation.burden).toMatchObject({ score: 10, fallback: true, error: 'timeout' });
    expect(evaluation.result).toMatchObject({ value: 110, tier: 'high' });
  });

  it('falls back to the built-in algorithm when a tenant module throws or answers nonsense', async () => {
    const throwing: ValueAlgorithm = {
      name: 'acme-custom',
      version: '3',
      compute: () => {
        throw new Error('boom');
      },
    };
    const nonsense: ValueAlgorithm = {
      name: 'acme-nonsense',
      version: '1',
      compute: () => ({ value: Number.NaN, tier: 'x' }),
    };
    for (const algorithm of [throwing, nonsense]) {
      const service = new ValueService({
        tenants: { acme: { algorithm, historyWindowDays: 30 } },
        history,
        logger,
      });
      const evaluation = await service.evaluate('acme', { customerId: 'C-1' });
      expect(evaluation.algorithm.name).toBe('weighted');
      expect(evaluation.algorithm.error).toMatch(
        new RegExp(`^${algorithm.name}@${algorithm.version}`),
      );
      expect(evaluation.result.tier).toBe('standard');
    }
  });

  it('gives up on a tenant module whose compute() never settles, and says so', async () => {
    const hanging: ValueAlgorithm = {
      name: 'acme-hang',
      version: '1',
      compute: () => new Promise(() => undefined),
    };
    const service = new ValueService({
      tenants: {
        acme: {
          benefit: { url: `${base}/ok`, timeoutMs: 5000, retries: 0, cacheSeconds: 0, default: 0 },
          algorithm: hanging,
          historyWindowDays: 30,
          algorithmTimeoutMs: 50,
        },
      },
      history,
      logger,
    });
    // The algorithm never settles: the call still gets a decision (the built-in formula).
    const evaluation = await service.evaluate('acme', { customerId: 'C-1' });
    expect(evaluation.algorithm).toEqual({
      name: 'weighted',
      version: '1',
      error: 'acme-hang@1: timeout: no answer in 50 ms',
    });
    // The providers' answers still count: the built-in formula runs on them.
    expect(evaluation.benefit).toMatchObject({ score: 120, fallback: false });
    expect(evaluation.result).toMatchObject({ value: 120, tier: 'high' });
  });

  it('a slow but settling module within the limit is used as is', async () => {
    const slowModule: ValueAlgorithm = {
      name: 'acme-slow',
      version: '1',
      compute: () =>
        new Promise((resolve) => setTimeout(() => resolve({ value: 7, tier: 'gold' }), 20)),
    };
    const service = new ValueService({
      tenants: { acme: { algorithm: slowModule, historyWindowDays: 30, algorithmTimeoutMs: 500 } },
      history,
      logger,
    });
    const evaluation = await service.evaluate('acme', { customerId: 'C-1' });
    expect(evaluation.algorithm).toEqual({ name: 'acme-slow', version: '1' });
    expect(evaluation.result).toEqual({ value: 7, tier: 'gold' });
  });

  it('builds the default decision, with the reason, when the lookup itself failed', async () => {
    const service = new ValueService({
      tenants: {
        acme: {
          benefit: {
            url: `${base}/ok`,
            timeoutMs: 5000,
            retries: 0,
            cacheSeconds: 0,
            default: 150,
          },
          algorithm: weightedAlgorithm(DEFAULT_WEIGHTED),
          historyWindowDays: 14,
        },
      },
      history: () => {
        throw new Error('database is locked');
      },
      logger,
    });
    const error = await service.evaluate('acme', { customerId: 'C-1' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    const evaluation = service.failed('acme', error);
    expect(evaluation.algorithm).toEqual({
      name: 'weighted',
      version: '1',
      error: 'value_lookup_failed: database is locked',
    });
    expect(evaluation.benefit).toEqual({
      score: 150,
      fallback: true,
      error: 'value_lookup_failed',
      ms: 0,
      cached: false,
    });
    expect(evaluation.burden).toMatchObject({ score: 0, fallback: true, error: 'not_configured' });
    expect(evaluation.history).toMatchObject({ windowDays: 14, calls: 0 });
    expect(evaluation.result).toMatchObject({ value: 150, tier: 'high' });
  });
});
