import { z } from 'zod';

const port = z.number().int().min(0).max(65535);
const jwk = z.looseObject({ kty: z.string(), kid: z.string().optional() });

/** A JWK given inline or as a path to a JWK file (relative to the config file). */
const jwkOrFile = z.union([jwk, z.string().min(1)]);

const tenant = z.strictObject({
  name: z.string().optional(),
  /** Public signing keys, inline or files. */
  jwks: z.array(jwkOrFile).default([]),
  /** Or a JWKS URL, cached and refetched on an unknown kid. */
  jwksUrl: z.url().optional(),
  /** Page origins allowed to place calls (empty: any origin the token names). */
  origins: z.array(z.string()).default([]),
});

export const configSchema = z.strictObject({
  /** This gateway's id: tokens must name it in `aud`. */
  gatewayId: z.string().min(1),
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: port.default(8080),
      /** The URL browsers use to reach this gateway (for links and the widget). */
      publicUrl: z.url().optional(),
    })
    .prefault({}),
  log: z
    .strictObject({
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
  tokens: z.strictObject({
    /** The gateway's private encryption keys (ECDH-ES+A256KW), inline or files; the first is current. */
    encryptionKeys: z.array(jwkOrFile).min(1),
    clockToleranceSeconds: z.number().int().min(0).max(60).default(5),
    maxTokenBytes: z.number().int().min(512).max(65536).default(8192),
  }),
  tenants: z.record(z.string().min(1), tenant).refine((t) => Object.keys(t).length > 0, {
    message: 'at least one tenant is required',
  }),
  storage: z
    .strictObject({
      /** SQLite file; `:memory:` for tests. */
      path: z.string().default('.var/parley.sqlite'),
    })
    .prefault({}),
});

export type ConfigInput = z.input<typeof configSchema>;
type Parsed = z.output<typeof configSchema>;
export type TenantConfig = Parsed['tenants'][string];
export type { Parsed as ParsedConfig };
