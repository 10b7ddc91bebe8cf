import { z } from 'zod';
import {
  businessHours,
  flowDefinition,
  flowName,
  prompts,
  queueFlows,
  queueWaiting,
} from './flow-config.js';
import { gatedTenantSchema } from './gated.js';
import { speech } from './speech.js';
import { callbacks } from './callbacks.js';
import { voicemailSection, voicemailSettings, voicemailTenant } from './voicemail.js';
import { shared, storage } from './cluster.js';
import { marketplace } from './marketplace.js';
import { e164Range, port } from './primitives.js';
import { trunk } from './trunks.js';
import { agentEntry } from './agents.js';

/**
 * What an API key may do: `read` agents, sessions and calls; change `agents`;
 * join calls' `messages` (the agent-side WebSocket); mint `ice-servers`;
 * manage the `marketplace` (advertisers, publishers, listings, refunds);
 * upload `call-entries` (a content provider's call log); cancel `callbacks`.
 */
export const API_SCOPES = [
  'read',
  'agents',
  'messages',
  'ice-servers',
  'marketplace',
  'call-entries',
  'gated',
  'callbacks',
  'voicemails',
] as const;
export type ApiScope = (typeof API_SCOPES)[number];

const jwk = z.looseObject({ kty: z.string(), kid: z.string().optional() });

/** A JWK given inline or as a path to a JWK file (relative to the config file). */
const jwkOrFile = z.union([jwk, z.string().min(1)]);

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

/** A block of E.164 numbers, both ends included. */
const tenant = z.strictObject({
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

export const configSchema = z.strictObject({
  /** This gateway's id: tokens must name it in `aud`. */
  gatewayId: z.string().min(1),
  /**
   * On SIGTERM the gateway drains: OPTIONS are answered 503 (a SIP proxy in
   * front stops sending it calls), new calls are refused, and calls in
   * progress get this long to finish before the rest are ended with
   * `gateway_shutdown` (docs/scaling.md).
   */
  drainTimeoutSeconds: z.number().int().min(0).max(86_400).default(30),
  /** Visitors whose connection drops mid-call (docs/scaling.md, "Visitors that survive the network"). */
  visitors: z
    .strictObject({
      /**
       * A browser visitor's answered call outlives its WebSocket this long:
       * the widget reconnects and rebinds the call (with a proof only its
       * token can make); 0 ends the call when the connection closes.
       */
      reconnectGraceSeconds: z.number().int().min(0).max(300).default(20),
    })
    .prefault({}),
  http: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: port.default(8080),
      /** The URL browsers use to reach this gateway (for links and the widget). */
      publicUrl: z.url().optional(),
      /** Serve HTTPS (and SIP over WSS) with this certificate and key (PEM files). */
      tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
      /**
       * Proxies (addresses or CIDRs) whose `X-Forwarded-For` is believed: the
       * client address is the last one added before a trusted hop. Empty: the
       * header is ignored and the socket's peer is the client.
       */
      trustProxy: z.array(z.string().min(1)).default([]),
      /** A request's headers (an upgrade's too) must arrive within this time. */
      headersTimeoutMs: z.number().int().min(1000).max(120_000).default(10_000),
      /** A whole request (headers and body) must arrive within this time. */
      requestTimeoutMs: z.number().int().min(1000).max(600_000).default(30_000),
      /** Open connections from one client address (trusted proxies are not counted). */
      maxConnectionsPerSource: z.number().int().min(1).default(200),
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
  sip: z
    .strictObject({
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
    })
    .prefault({}),
  agents: z.array(agentEntry).default([]),
  queues: z
    .record(
      z.string().regex(/^[A-Za-z0-9._-]+$/),
      z.strictObject({
        tenant: z.string().min(1),
        /** How long one agent rings before the next is tried. */
        ringTimeoutSeconds: z.number().int().min(1).max(300).default(20),
        /** How many agents are tried before the visitor is told no one answered. */
        maxAttempts: z.number().int().min(1).max(50).default(3),
        /** One agent at a time, or the top `ringAtOnce` at once (first to answer wins). */
        strategy: z.enum(['sequential', 'simultaneous']).default('sequential'),
        /** With `simultaneous`: how many ring together. The only default (routing/queues.ts adds none). */
        ringAtOnce: z.number().int().min(1).max(10).default(2),
        /** Customer value band → agent tiers that serve it, best first (value routing). */
        bands: z.record(z.string(), z.array(z.string()).min(1)).default({}),
        /** After a call, the agent gets this long without calls (wrap-up). */
        wrapUpSeconds: z.number().int().min(0).max(3600).default(0),
        /** Callers wait when every agent is busy (music, announcements); absent: refused as before. */
        waiting: queueWaiting.optional(),
        /** Flows run when no agent takes the call (names in `flows`). */
        flows: queueFlows.optional(),
        /** Outside these hours callers get `flows.closed` (or the built-in apology). */
        businessHours: businessHours.optional(),
        /** Live voicemail when every agent rang out, none is signed in, outside `businessHours`, or at `waiting.maxWaitSeconds` (docs/voicemail.md). */
        voicemail: voicemailSettings.optional(),
      }),
    )
    .default({}),
  /** Flows by name: verbs, a webhook or a module (docs/flows.md). */
  flows: z.record(flowName, flowDefinition).default({}),
  /** Where `play` and queue music may read audio. */
  prompts: prompts.prefault({}),
  /** Carrier SIP trunks to the telephone network (docs/trunks.md). */
  trunks: z.record(z.string().regex(/^[A-Za-z0-9._-]+$/), trunk).default({}),
  numbers: z
    .strictObject({
      ranges: z
        .array(z.strictObject({ from: z.string(), to: z.string() }))
        .default([{ from: '+15550100', to: '+15550198' }]),
      fallback: z
        .string()
        .regex(/^\+[1-9]\d{1,14}$/)
        .default('+15550199'),
      graceSeconds: z.number().int().min(0).default(1800),
    })
    .prefault({}),
  media: z
    .strictObject({
      /** Address media sockets bind to. */
      address: z.string().default('127.0.0.1'),
      /** Address put in SDP (default: address). */
      announcedAddress: z.string().optional(),
      portMin: port.default(20000),
      portMax: port.default(20999),
      /** UDP ports for browsers' WebRTC media (ICE-lite, one per call). */
      webrtcPortMin: port.default(40000),
      webrtcPortMax: port.default(40999),
      /** STUN/TURN servers browsers should use (handed to the widget with the token). */
      iceServers: z
        .array(
          z.strictObject({
            urls: z.union([z.string(), z.array(z.string()).min(1)]),
            username: z.string().optional(),
            credential: z.string().optional(),
          }),
        )
        .default([]),
      /**
       * A TURN server (coturn with `use-auth-secret`) whose short-lived
       * credentials the gateway mints on each `POST /v1/ice-servers`.
       */
      turn: z
        .strictObject({
          urls: z.array(z.string().regex(/^turns?:\S+$/, 'a turn: or turns: URL')).min(1),
          /** coturn's `static-auth-secret` (or PARLEY_TURN_SECRET). */
          secret: z.string().min(16),
          /** How long minted credentials work. */
          ttlSeconds: z.number().int().min(60).max(86400).default(3600),
        })
        .optional(),
      /** `relay`: browsers send media through TURN only (ICE relay candidates). */
      iceTransportPolicy: z.enum(['all', 'relay']).default('all'),
      /**
       * Answer a browser visitor while the agents ring (180 with SDP), so its
       * ICE and DTLS are done when an agent answers: `off`, a codec (agents
       * are offered it alone), or `auto` (Opus when every registered agent of
       * the queue is a desk softphone, else PCMU).
       */
      earlyAnswer: z.enum(['off', 'auto', 'PCMU', 'PCMA', 'opus']).default('off'),
      /** A call whose media stopped this long is hung up (0: never). */
      inactivityTimeoutSeconds: z.number().int().min(0).default(30),
      /**
       * The media engine: `mediasoup` (its C++ workers: browsers' legs and the
       * SIP legs piped to them), `relay` (built in: plain RTP relay and werift
       * WebRTC), `auto` (mediasoup where its worker is installed, else relay),
       * or `{ module }`, an ES module (path relative to the config file) whose
       * `createMediaEngine(options)` returns a MediaEngine.
       */
      engine: z
        .union([
          z.enum(['auto', 'mediasoup', 'relay']),
          z.strictObject({ module: z.string().min(1) }),
        ])
        .default('auto'),
      /** The mediasoup engine (`engine` auto or mediasoup). */
      mediasoup: z
        .strictObject({
          /** Worker processes (one per core the gateway may use, by default). */
          workers: z.number().int().min(1).max(128).optional(),
          /**
           * The worker binary. Default: MEDIASOUP_WORKER_BIN, else the one in
           * mediasoup's package (where scripts/setup.sh installs Parley's build).
           */
          workerBin: z.string().min(1).optional(),
          /** The workers' own log level (their lines go to the gateway's log at debug). */
          logLevel: z.enum(['debug', 'warn', 'error', 'none']).default('error'),
          /**
           * Longest interval between reads of the workers' packet counters (call
           * records, the inactivity timer; a quarter of inactivityTimeoutSeconds
           * when that is shorter).
           */
          statsIntervalSeconds: z.number().min(0.25).max(60).default(5),
        })
        .prefault({}),
    })
    .refine((media) => media.portMin < media.portMax, {
      message: 'portMin must be below portMax',
      path: ['portMax'],
    })
    .refine((media) => media.webrtcPortMin < media.webrtcPortMax, {
      message: 'webrtcPortMin must be below webrtcPortMax',
      path: ['webrtcPortMax'],
    })
    .refine(
      (media) =>
        media.iceTransportPolicy !== 'relay' ||
        media.turn !== undefined ||
        media.iceServers.some((server) => [server.urls].flat().some((url) => /^turns?:/.test(url))),
      {
        message:
          'iceTransportPolicy "relay" needs a TURN server (media.turn or a turn: URL in media.iceServers)',
        path: ['iceTransportPolicy'],
      },
    )
    .prefault({}),
  api: z
    .strictObject({
      /** Keys for the /v1 API: `Authorization: Bearer <key>`. */
      keys: z
        .array(
          z.strictObject({
            id: z.string().min(1),
            key: z.string().min(16),
            /** Limit the key to one tenant's data. */
            tenant: z.string().optional(),
            /** May read the decrypted private claims of sessions. */
            privateClaims: z.boolean().default(false),
            /** What the key may do; default every scope. `["ice-servers"]` for a token endpoint. */
            scopes: z
              .array(z.enum(API_SCOPES))
              .min(1)
              .default(() => [...API_SCOPES]),
          }),
        )
        .default([]),
    })
    .prefault({}),
  desk: z
    .strictObject({
      /** The built desk bundle (widget/dist, with desk.js). Default: the workspace's widget/dist. */
      assetsDir: z.string().optional(),
      /** Signs desk session cookies; random per start when absent (sessions end on restart). */
      sessionSecret: z.string().min(16).optional(),
    })
    .prefault({}),
  marketplace: marketplace.prefault({}),
  /** What must last: SQLite (default) or PostgreSQL (docs/scaling.md). */
  storage: storage.prefault({}),
  /** The hot state several gateways share (Redis), and each gateway's lease. */
  shared: shared.prefault({}),
  /** Text to speech (flite) and speech to text (pocketsphinx or a company's recogniser). */
  speech: speech.prefault({}),
  /** Voicemail records: retention, webhook retries (docs/voicemail.md). */
  voicemail: voicemailSection.prefault({}),
  /** Callbacks: the customer is called first, the advertiser after "1" (docs/callbacks.md). */
  callbacks,
});

export type ConfigInput = z.input<typeof configSchema>;
type Parsed = z.output<typeof configSchema>;
export type TenantConfig = Parsed['tenants'][string];
export type TrunkConfig = Parsed['trunks'][string];
export type { Parsed as ParsedConfig };
