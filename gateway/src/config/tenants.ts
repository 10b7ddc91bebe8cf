/** The `tenants` section: each company, its token keys, origins, value routing and numbers. */
import { z } from 'zod';
import { flowName } from './flow-config.js';
import { gatedTenantSchema } from './gated.js';
import { e164Range } from './primitives.js';
import { voicemailTenant } from './voicemail.js';

const jwk = z.looseObject({ kty: z.string(), kid: z.string().optional() });

/** A JWK given inline or as a path to a JWK file (relative to the config file). */
export const jwkOrFile = z.union([jwk, z.string().min(1)]);

const provider = z.strictObject({
  /** The company's scoring endpoint: POST { tenant, customerId, history } → { score }. */
  url: z.url(),
  timeoutMs: z.number().int().min(10).max(10_000).default(300),
  retries: z.number().int().min(0).max(3).default(1),
  cacheSeconds: z.number().int().min(0).max(3600).default(60),
  /** The score used when the provider fails (the decision records that it did). */
  default: z.number().default(0),
  /** Sent as `Authorization: Bearer <secret>`. */
  secret: z.string().optional(),
});

const valueAlgorithm = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('weighted'),
    version: z.string().default('1'),
    weights: z
      .strictObject({
        benefit: z.number().default(1),
        burden: z.number().default(1),
        calls: z.number().default(0),
        minutes: z.number().default(0),
        repeatContacts: z.number().default(0),
      })
      .prefault({}),
    /** Highest first; a tier without minValue catches everything below the others. */
    tiers: z
      .array(z.strictObject({ name: z.string().min(1), minValue: z.number().optional() }))
      .min(1)
      .default([{ name: 'high', minValue: 100 }, { name: 'standard' }]),
  }),
  z.strictObject({
    kind: z.literal('module'),
    /** An ES module whose default export is { name, version, compute(input) }, relative to the config file. */
    path: z.string().min(1),
  }),
]);

const tenantRouting = z.strictObject({
  benefit: provider.optional(),
  burden: provider.optional(),
  algorithm: valueAlgorithm.default({
    kind: 'weighted',
    version: '1',
    weights: { benefit: 1, burden: 1, calls: 0, minutes: 0, repeatContacts: 0 },
    tiers: [{ name: 'high', minValue: 100 }, { name: 'standard' }],
  }),
  /** How far back Parley's own history of the customer counts. */
  historyWindowDays: z.number().int().min(1).max(3650).default(30),
  /** How long the algorithm's compute() may take before the built-in formula decides instead. */
  algorithmTimeoutMs: z.number().int().min(10).max(10_000).default(1000),
});

/** A tenant: a company whose pages place calls, its keys, origins, routing and numbers. */
export const tenant = z.strictObject({
  name: z.string().optional(),
  /** Public signing keys, inline or files. */
  jwks: z.array(jwkOrFile).default([]),
  /** Or a JWKS URL, cached and refetched on an unknown kid. */
  jwksUrl: z.url().optional(),
  /**
   * Page origins allowed to place calls (empty: any origin the token names). The
   * token's `origin` claim must be one of them over every transport (WebSocket,
   * UDP, TCP), and a WebSocket's `Origin` header must match the claim.
   */
  origins: z.array(z.string()).default([]),
  /** Refuse calls over a WebSocket whose handshake had no `Origin` (browsers always send one). */
  requireWebSocketOrigin: z.boolean().default(false),
  /**
   * Hosts an API-made agent's `contact` may point at: addresses, CIDRs
   * (`10.1.0.0/16`) or host names (`pbx.example.com`, `*.example.com`).
   * Empty: any host.
   */
  agentContactHosts: z.array(z.string().min(1)).default([]),
  /**
   * Agent ids and usernames an API key bound to this tenant may create start
   * with this prefix, so tenants cannot learn each other's ids and usernames
   * by trying to take them. Default: the tenant id and a dot (`acme.`).
   */
  agentNamespace: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/)
    .optional(),
  /** Calls of this tenant at once; more are refused with 503. */
  maxConcurrentCalls: z.number().int().min(1).default(100),
  /** Value-based routing: the customer's value decides which agents ring first. */
  routing: tenantRouting.optional(),
  /**
   * The company's own numbers (S6): a call token's `callerNumber` claim inside
   * these blocks is the session's caller ID; any other is refused and the
   * session gets a number from the pool.
   */
  callerNumbers: z.array(e164Range).default([]),
  /** The flow for this tenant's calls that nothing else gives one (docs/flows.md). */
  defaultFlow: flowName.optional(),
  /**
   * A gated facility (S4, docs/gated.md): residents reached only by callers on
   * approved inbound calling accounts, through the authenticating server.
   */
  gated: gatedTenantSchema.optional(),
  /** The company's voicemail webhook (docs/voicemail.md). */
  voicemail: voicemailTenant.optional(),
});
