/** The `media` section: ports, ICE and TURN, early answer, the media engine. */
import { z } from 'zod';
import { port } from './primitives.js';

export const media = z
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
    earlyAnswer: z.enum(['off', 'auto', 'PCMU', 'PCMA', 'opus']).default('auto'),
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
  // The plain legs' ports and the browsers' are allocated apart: a port in both
  // ranges could be handed to a SIP leg and a browser leg at once.
  .refine((media) => media.webrtcPortMax < media.portMin || media.portMax < media.webrtcPortMin, {
    message: 'the WebRTC port range (webrtcPortMin–webrtcPortMax) overlaps portMin–portMax',
    path: ['webrtcPortMin'],
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
  );
