/** The `sip` section: listeners, RFC 3261 timers, limits, the edge proxy, the registrar. */
import { z } from 'zod';
import { port } from './primitives.js';

export const sip = z.strictObject({
  /** The gateway's SIP domain: digest realm, host of the agent leg's From. */
  domain: z.string().min(1).default('parley.invalid'),
  /** UDP and TCP listeners. */
  listen: z
    .array(
      z.strictObject({
        protocol: z.enum(['udp', 'tcp']),
        host: z.string().default('127.0.0.1'),
        port: port.default(5060),
      }),
    )
    .default([]),
  /** SIP over WebSocket (RFC 7118) on the HTTP server, at this path. */
  wsPath: z.string().startsWith('/').default('/sip'),
  /** Host put in Via and Contact (default: the listener's host). */
  advertisedHost: z.string().optional(),
  maxMessageBytes: z.number().int().min(1024).max(65535).default(16384),
  /** RFC 3261 timer base values. */
  t1Ms: z.number().int().min(50).max(5000).default(500),
  t2Ms: z.number().int().min(500).max(32000).default(4000),
  t4Ms: z.number().int().min(500).max(32000).default(5000),
  /** Requests per second per source address (token bucket), and the burst allowed. */
  rateLimit: z
    .strictObject({
      perSecond: z.number().positive().default(20),
      burst: z.number().int().positive().default(60),
      /** Sources never limited (addresses or CIDRs): a SIP proxy in front, such as Kamailio. */
      exempt: z.array(z.string().min(1)).default([]),
      /**
       * An established dialog's own requests (BYE, re-INVITE, INFO, UPDATE,
       * their ACKs) are counted per dialog with this budget, not per source:
       * visitors behind one NAT do not share one budget for their calls.
       * Requests for dialogs the gateway does not know still count per source.
       */
      perDialog: z
        .strictObject({
          perSecond: z.number().positive().default(10),
          burst: z.number().int().positive().default(30),
        })
        .prefault({}),
      /**
       * All the established dialogs of one source together (after each
       * dialog's own budget): k answered calls do not give one address
       * k × perDialog. Generous, for the visitors behind one NAT: 100 calls
       * each sending 4 requests a second pass.
       */
      perSourceDialogs: z
        .strictObject({
          perSecond: z.number().positive().default(400),
          burst: z.number().int().positive().default(1000),
        })
        .prefault({}),
    })
    .prefault({}),
  /**
   * A SIP edge proxy in front (Kamailio, deploy/kamailio/): requests from
   * these addresses or CIDRs may say who the client really is, in
   * `X-Parley-Source` (its transport, address and port) and
   * `X-Parley-Origin` (the Origin of its WebSocket handshake); from anyone
   * else those headers are removed unread.
   */
  edge: z
    .strictObject({
      trusted: z.array(z.string().min(1)).default([]),
    })
    .prefault({}),
  /** SIP over TCP against slow and greedy clients. */
  tcp: z
    .strictObject({
      /** Open connections at most, all sources together. */
      maxConnections: z.number().int().min(1).default(10_000),
      /** Open connections from one address (exempt sources are not counted). */
      maxConnectionsPerSource: z.number().int().min(1).default(32),
      /** A message must be complete (headers and body) this long after its first byte. */
      messageTimeoutMs: z.number().int().min(100).max(120_000).default(10_000),
      /**
       * A connection with no complete message (or keep-alive) this long is
       * closed; bytes of an unfinished message do not count. Phones
       * re-register or ping well within it.
       */
      idleTimeoutMs: z
        .number()
        .int()
        .min(1000)
        .default(15 * 60_000),
    })
    .prefault({}),
  userAgent: z.string().default('Parley'),
  /**
   * Overload protection: new INVITEs get 503 + Retry-After when this many calls
   * are being set up, or when the event loop lags more than maxLagMs, instead
   * of everyone's retransmissions making it worse.
   */
  overload: z
    .strictObject({
      maxSetupsInProgress: z.number().int().min(1).default(300),
      maxLagMs: z.number().int().min(10).default(300),
    })
    .prefault({}),
  /**
   * Digest algorithms challenged, most preferred first (RFC 8760). Some phones
   * fail on the first challenge they cannot do instead of skipping it
   * (baresip 1.0 with SHA-256): list MD5 alone for those, here or per agent.
   */
  digestAlgorithms: z
    .array(z.enum(['SHA-256', 'MD5']))
    .min(1)
    .default(['SHA-256', 'MD5']),
  /** Registration lifetimes the registrar grants, in seconds (RFC 3261 §10.3). */
  registration: z
    .strictObject({
      minExpires: z.number().int().min(1).default(60),
      maxExpires: z.number().int().min(1).default(3600),
      defaultExpires: z.number().int().min(1).default(3600),
      /** How long a digest nonce is good for; an older one is answered `stale=true`. */
      nonceSeconds: z.number().int().min(10).max(3600).default(300),
      /**
       * Password guessing, per digest username whatever the source: after
       * `backoffAfter` failures in a row each attempt waits twice as long
       * (from 1 s, at most 60 s) and, after `lockoutAfter`, the account is
       * locked for `lockoutSeconds` (even the right password is refused).
       */
      backoffAfter: z.number().int().min(1).default(5),
      lockoutAfter: z.number().int().min(1).default(20),
      lockoutSeconds: z.number().int().min(1).default(900),
    })
    .prefault({}),
});
