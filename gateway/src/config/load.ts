import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { JWK } from '@parley/shared/tokens';
import { ParleyError } from '@parley/shared/errors';

import { compileBusinessHours } from '@parley/shared/screening';
import { callbackProblems } from './callbacks.js';
import {
  clusterProblems,
  marketplaceProblems,
  numberProblems,
  trunkProblems,
  agentPhoneProblems,
} from './cross-checks.js';
import { NumberIndex } from '../numbers/index.js';
import { flowReferences } from './flow-config.js';
import { configSchema, type ParsedConfig } from './schema.js';

type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

type TenantEntry = ParsedConfig['tenants'][string];

/** The validated configuration, with key files read. Frozen. */
export type Config = DeepReadonly<Omit<ParsedConfig, 'tokens' | 'tenants'>> & {
  readonly tokens: Readonly<Omit<ParsedConfig['tokens'], 'encryptionKeys'>> & {
    readonly encryptionKeys: readonly JWK[];
  };
  readonly tenants: Readonly<
    Record<
      string,
      Readonly<Omit<TenantEntry, 'jwks' | 'origins'>> & {
        readonly jwks: readonly JWK[];
        readonly origins: readonly string[];
      }
    >
  >;
};

/** Environment variables that override the file; this is the only place that reads them. */
const ENV_OVERRIDES: Record<string, (config: Record<string, unknown>, value: string) => void> = {
  PARLEY_GATEWAY_ID: (c, v) => void (c['gatewayId'] = v),
  PARLEY_HTTP_HOST: (c, v) => void (section(c, 'http')['host'] = v),
  PARLEY_HTTP_PORT: (c, v) => void (section(c, 'http')['port'] = Number(v)),
  PARLEY_PUBLIC_URL: (c, v) => void (section(c, 'http')['publicUrl'] = v),
  PARLEY_LOG_LEVEL: (c, v) => void (section(c, 'log')['level'] = v),
  PARLEY_STORAGE_PATH: (c, v) => void (section(c, 'storage')['path'] = v),
  PARLEY_SIP_DOMAIN: (c, v) => void (section(c, 'sip')['domain'] = v),
  PARLEY_SIP_ADVERTISED_HOST: (c, v) => void (section(c, 'sip')['advertisedHost'] = v),
  PARLEY_MEDIA_ADDRESS: (c, v) => void (section(c, 'media')['address'] = v),
  PARLEY_MEDIA_ANNOUNCED_ADDRESS: (c, v) => void (section(c, 'media')['announcedAddress'] = v),
  PARLEY_MEDIA_ENGINE: (c, v) => void (section(c, 'media')['engine'] = v),
  PARLEY_MEDIA_EARLY_ANSWER: (c, v) => void (section(c, 'media')['earlyAnswer'] = v),
  PARLEY_TURN_SECRET: (c, v) => {
    const media = section(c, 'media');
    const turn = media['turn'];
    if (typeof turn !== 'object' || turn === null) {
      throw invalid([
        'PARLEY_TURN_SECRET is set but media.turn is not: give media.turn.urls (the TURN server) in the config, or unset it',
      ]);
    }
    (turn as Record<string, unknown>)['secret'] = v;
  },
  PARLEY_SPEECH_TOKEN: (c, v) => {
    const websocket = section(c, 'speech')['websocket'];
    if (typeof websocket !== 'object' || websocket === null) {
      throw invalid([
        'PARLEY_SPEECH_TOKEN is set but speech.websocket is not: give speech.websocket.url in the config, or unset it',
      ]);
    }
    (websocket as Record<string, unknown>)['token'] = v;
  },
};

function section(config: Record<string, unknown>, name: string): Record<string, unknown> {
  const existing = config[name];
  if (typeof existing === 'object' && existing !== null) return existing as Record<string, unknown>;
  const created: Record<string, unknown> = {};
  config[name] = created;
  return created;
}

function invalid(problems: string[]): ParleyError<'invalid_config'> {
  return new ParleyError('invalid_config', `\n  - ${problems.join('\n  - ')}`);
}

function readJwk(entry: unknown, baseDir: string, where: string): JWK {
  if (typeof entry !== 'string') return entry as JWK;
  const path = resolve(baseDir, entry);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as JWK;
  } catch (error) {
    throw invalid([`${where}: cannot read JWK file ${path}: ${(error as Error).message}`]);
  }
}

export interface LoadConfigOptions {
  /** Path of a JSON config file. */
  readonly file?: string;
  /** Config given directly (tests); merged under the environment. */
  readonly input?: Record<string, unknown>;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/**
 * Reads the config file, applies environment overrides, validates everything and
 * reads key files. Throws ParleyError `invalid_config` listing every problem with
 * its path, so a start-up failure says exactly what to fix.
 */
export function loadConfig(options: LoadConfigOptions): Config {
  let raw: Record<string, unknown> = structuredClone(options.input ?? {});
  let baseDir = process.cwd();
  if (options.file) {
    const path = resolve(options.file);
    baseDir = dirname(path);
    try {
      raw = { ...(JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>), ...raw };
    } catch (error) {
      throw invalid([`cannot read config file ${path}: ${(error as Error).message}`]);
    }
  }
  for (const [name, apply] of Object.entries(ENV_OVERRIDES)) {
    const value = options.env?.[name];
    if (value !== undefined && value !== '') apply(raw, value);
  }
  const parsed = configSchema.safeParse(raw);
  const env = options.env ?? {};
  if (!parsed.success) {
    throw invalid(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
    );
  }
  const config = parsed.data;
  const resolved = {
    ...config,
    // TLS files are relative to the config file.
    http: config.http.tls
      ? {
          ...config.http,
          tls: {
            cert: resolve(baseDir, config.http.tls.cert),
            key: resolve(baseDir, config.http.tls.key),
          },
        }
      : config.http,
    // An engine module and a worker binary are relative to the config file.
    media: {
      ...config.media,
      ...(typeof config.media.engine === 'object'
        ? { engine: { module: resolve(baseDir, config.media.engine.module) } }
        : {}),
      mediasoup: {
        ...config.media.mediasoup,
        ...(config.media.mediasoup.workerBin
          ? { workerBin: resolve(baseDir, config.media.mediasoup.workerBin) }
          : {}),
      },
    },
    // Flow modules and prompt directories are relative to the config file.
    flows: Object.fromEntries(
      Object.entries(config.flows).map(([name, flow]) => [
        name,
        !Array.isArray(flow) && 'module' in flow
          ? { module: { ...flow.module, path: resolve(baseDir, flow.module.path) } }
          : flow,
      ]),
    ),
    prompts: { ...config.prompts, dirs: config.prompts.dirs.map((dir) => resolve(baseDir, dir)) },
    // A trunk password may come from the environment: read here, the only reader.
    trunks: Object.fromEntries(
      Object.entries(config.trunks).map(([id, t]) => [
        id,
        t.auth?.passwordEnv === undefined
          ? t
          : { ...t, auth: { ...t.auth, password: env[t.auth.passwordEnv] ?? '' } },
      ]),
    ),
    // The PostgreSQL and Redis passwords may come from the environment: read here, the only reader.
    storage: withPostgresPassword(config.storage, env),
    shared: withRedisPassword(config.shared, env),
    tokens: {
      ...config.tokens,
      encryptionKeys: config.tokens.encryptionKeys.map((k, i) =>
        readJwk(k, baseDir, `tokens.encryptionKeys.${i}`),
      ),
    },
    tenants: Object.fromEntries(
      Object.entries(config.tenants).map(([id, t]) => [
        id,
        {
          ...t,
          jwks: t.jwks.map((k, i) => readJwk(k, baseDir, `tenants.${id}.jwks.${i}`)),
          // Module paths are relative to the config file.
          ...(t.routing?.algorithm.kind === 'module'
            ? {
                routing: {
                  ...t.routing,
                  algorithm: {
                    ...t.routing.algorithm,
                    path: resolve(baseDir, t.routing.algorithm.path),
                  },
                },
              }
            : {}),
        },
      ]),
    ),
  };
  const problems: string[] = [];
  resolved.tokens.encryptionKeys.forEach((k, i) => {
    if (typeof k.d !== 'string')
      problems.push(`tokens.encryptionKeys.${i}: must be a private key (no "d")`);
    if (typeof k.kid !== 'string') problems.push(`tokens.encryptionKeys.${i}: needs a kid`);
  });
  for (const [id, t] of Object.entries(resolved.tenants)) {
    if (t.jwks.length === 0 && !t.jwksUrl) problems.push(`tenants.${id}: give jwks or jwksUrl`);
    t.jwks.forEach((k, i) => {
      if ('d' in k)
        problems.push(`tenants.${id}.jwks.${i}: is a private key; give the public half`);
    });
  }
  for (const [name, queue] of Object.entries(resolved.queues)) {
    if (!resolved.tenants[queue.tenant])
      problems.push(`queues.${name}.tenant: no tenant "${queue.tenant}"`);
    if (queue.businessHours) {
      try {
        compileBusinessHours(queue.businessHours, `queues.${name}.businessHours`);
      } catch (error) {
        problems.push((error as Error).message);
      }
    }
  }
  for (const ref of flowReferences(resolved)) {
    if (!Object.hasOwn(resolved.flows, ref.flow))
      problems.push(`${ref.path}: no flow "${ref.flow}"`);
  }
  const agentIds = new Set<string>();
  resolved.agents.forEach((agent, i) => {
    if (agentIds.has(agent.id)) problems.push(`agents.${i}.id: "${agent.id}" is used twice`);
    agentIds.add(agent.id);
    if (!resolved.tenants[agent.tenant])
      problems.push(`agents.${i}.tenant: no tenant "${agent.tenant}"`);
    for (const queue of agent.queues) {
      const q = resolved.queues[queue];
      if (!q) problems.push(`agents.${i}.queues: no queue "${queue}"`);
      else if (q.tenant !== agent.tenant)
        problems.push(`agents.${i}.queues: "${queue}" belongs to tenant "${q.tenant}"`);
    }
  });
  try {
    new NumberIndex(resolved.numbers.ranges);
  } catch (error) {
    problems.push(`numbers.ranges: ${(error as Error).message}`);
  }
  problems.push(...numberProblems(resolved));
  problems.push(...marketplaceProblems(resolved.marketplace, (t) => !!resolved.tenants[t]));
  problems.push(...trunkProblems(resolved));
  problems.push(...agentPhoneProblems(resolved));
  problems.push(...callbackProblems(resolved));
  problems.push(...clusterProblems(resolved));
  if (resolved.media.portMin >= resolved.media.portMax)
    problems.push('media: portMin must be below portMax');
  for (const file of resolved.http.tls ? [resolved.http.tls.cert, resolved.http.tls.key] : []) {
    try {
      readFileSync(file);
    } catch (error) {
      problems.push(`http.tls: cannot read ${file}: ${(error as Error).message}`);
    }
  }
  if (resolved.sip.t2Ms < resolved.sip.t1Ms) problems.push('sip: t2Ms must not be below t1Ms');
  if (problems.length > 0) throw invalid(problems);
  return deepFreeze(resolved) as Config;
}

function withPostgresPassword(
  storage: ParsedConfig['storage'],
  env: Readonly<Record<string, string | undefined>>,
): ParsedConfig['storage'] {
  const pg = storage.postgres;
  if (pg?.passwordEnv === undefined) return storage;
  const password = env[pg.passwordEnv];
  return { ...storage, postgres: { ...pg, ...(password ? { password } : {}) } };
}

function withRedisPassword(
  shared: ParsedConfig['shared'],
  env: Readonly<Record<string, string | undefined>>,
): ParsedConfig['shared'] {
  const redis = shared.redis;
  if (redis?.passwordEnv === undefined) return shared;
  const password = env[redis.passwordEnv];
  if (!password) return shared;
  const url = new URL(redis.url);
  url.password = encodeURIComponent(password);
  return { ...shared, redis: { ...redis, url: url.toString() } };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
