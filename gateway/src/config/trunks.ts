/** `trunks.<id>`: carriers' SIP trunks, their peers, numbers and outbound rules (docs/trunks.md). */
import { z } from 'zod';
import { e164, port } from './primitives.js';

/** The start of an E.164 number: `+` and 1 to 15 digits, the first not 0. */
const e164Prefix = z.string().regex(/^\+[1-9]\d{0,14}$/, 'an E.164 prefix, e.g. +1 or +1900');

const trunkPeer = z.strictObject({
  /** The carrier's SIP address (an IP, or a name resolved when a request goes). */
  host: z.string().min(1),
  port: port.default(5060),
  transport: z.enum(['udp', 'tcp']).default('udp'),
  /** Lower first; a peer is tried only when those before it are down or failed. */
  priority: z.number().int().min(0).max(65535).default(10),
  /** Among peers of one priority, the share of calls each gets first. */
  weight: z.number().int().min(1).max(1000).default(1),
});

/** An inbound number (a DID) or a block of them, and what answers it. */
const trunkNumber = z
  .strictObject({
    number: e164.optional(),
    from: e164.optional(),
    to: e164.optional(),
    tenant: z.string().min(1),
    /** The flow that answers the call (flows come with issue 10 item 4). */
    flow: z.string().min(1),
  })
  .refine(
    (n) => (n.number !== undefined) !== (n.from !== undefined && n.to !== undefined),
    'give either number, or from and to',
  );

/** `trunks.<id>`: a carrier's SIP trunk (docs/trunks.md). */
export const trunk = z.strictObject({
  name: z.string().optional(),
  peers: z.array(trunkPeer).min(1),
  /** Digest credentials the carrier challenges outbound INVITEs for (401/407). */
  auth: z
    .strictObject({
      username: z.string().min(1),
      password: z.string().min(1).optional(),
      /** Or the name of an environment variable holding it (read at start-up). */
      passwordEnv: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
        .optional(),
      /** Answer only challenges of this realm (default: any). */
      realm: z.string().min(1).optional(),
    })
    .refine(
      (a) => (a.password === undefined) !== (a.passwordEnv === undefined),
      'give password or passwordEnv',
    )
    .optional(),
  /** OPTIONS to each peer; a peer that stops answering is skipped until it answers again. */
  keepAlive: z
    .strictObject({
      /** 0: no keep-alive (peers always count as up). */
      intervalSeconds: z.number().int().min(0).max(3600).default(30),
      /** An OPTIONS unanswered this long counts as a failure. */
      timeoutMs: z.number().int().min(100).max(32000).default(2000),
      failuresBeforeDown: z.number().int().min(1).max(100).default(2),
    })
    .prefault({}),
  inbound: z
    .strictObject({
      /**
       * Source addresses (IPs or CIDRs) INVITEs may come from, besides the peers'
       * own IP hosts; an INVITE to one of the numbers from anywhere else gets 403.
       */
      allow: z.array(z.string().min(1)).default([]),
      numbers: z.array(trunkNumber).default([]),
    })
    .prefault({}),
  /** Calls through this trunk at once, inbound and outbound together; more get 503. */
  maxConcurrentCalls: z.number().int().min(1).default(30),
  /** Codecs allowed toward the carrier. */
  codecs: z
    .array(z.enum(['PCMU', 'PCMA']))
    .min(1)
    .default(['PCMU', 'PCMA']),
  /**
   * ISO 3166 country (e.g. `US`, `GB`) for numbers the carrier sends without
   * `+` in national form; without it such numbers are read as E.164 without the `+`.
   */
  defaultCountry: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .optional(),
  outbound: z
    .strictObject({
      /** How numbers are written in the Request-URI, To, From and P-Asserted-Identity. */
      numberFormat: z.enum(['e164', 'e164-digits', 'national']).default('e164'),
      /** Host of the Request-URI and To (default: the peer's host and port). */
      domain: z.string().min(1).optional(),
      /** Host of From and P-Asserted-Identity (default: the gateway's SIP address). */
      fromDomain: z.string().min(1).optional(),
      /** Tenants that may call out through this trunk (empty: every tenant). */
      tenants: z.array(z.string().min(1)).default([]),
      /** E.164 prefixes the trunk may call (`+1`, `+44`); empty: every number not denied. */
      allowPrefixes: z.array(e164Prefix).default([]),
      /** E.164 prefixes the trunk never calls (`+1900`), whatever `allowPrefixes` says. */
      denyPrefixes: z.array(e164Prefix).default([]),
    })
    .prefault({}),
});
