/** The `http` and `api` sections: the HTTP server, and the /v1 API's keys with their scopes. */
import { z } from 'zod';
import { port } from './primitives.js';

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

export const http = z.strictObject({
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
});

export const api = z.strictObject({
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
});
