/**
 * The STUN/TURN servers browsers use to reach this gateway's media. Static
 * servers come from config as they are; with `media.turn`, each request mints
 * short-lived TURN credentials (coturn's shared-secret scheme), so no
 * long-lived TURN password is ever handed to a browser.
 */
import { turnRestCredentials } from '@parley/shared/turn';

export interface IceServerEntry {
  readonly urls: string | readonly string[];
  readonly username?: string | undefined;
  readonly credential?: string | undefined;
}

export type IceTransportPolicy = 'all' | 'relay';

export interface IceServersConfig {
  readonly iceServers: readonly IceServerEntry[];
  readonly turn?:
    | { readonly urls: readonly string[]; readonly secret: string; readonly ttlSeconds: number }
    | undefined;
  readonly iceTransportPolicy: IceTransportPolicy;
}

export interface IceServersAnswer {
  readonly iceServers: readonly IceServerEntry[];
  readonly iceTransportPolicy: IceTransportPolicy;
  /** When the minted TURN credentials stop working; null without `media.turn`. */
  readonly expiresAt: Date | null;
}

export interface IceServerSource {
  /** Whether `forVisitor` mints TURN credentials. */
  readonly mintsTurn: boolean;
  /** Servers for one visitor; `user` shows in the TURN server's logs. */
  forVisitor(user: string): IceServersAnswer;
}

export function createIceServerSource(
  config: IceServersConfig,
  now: () => number = Date.now,
): IceServerSource {
  const turn = config.turn;
  return {
    mintsTurn: turn !== undefined,
    forVisitor(user) {
      if (!turn) {
        return {
          iceServers: config.iceServers,
          iceTransportPolicy: config.iceTransportPolicy,
          expiresAt: null,
        };
      }
      const minted = turnRestCredentials({
        secret: turn.secret,
        urls: turn.urls,
        ttlSeconds: turn.ttlSeconds,
        // coturn splits the username at the first ':'; keep the user printable.
        user: user.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 64) || 'parley',
        now: now(),
      });
      const { expiresAt, ...server } = minted;
      return {
        iceServers: [...config.iceServers, server],
        iceTransportPolicy: config.iceTransportPolicy,
        expiresAt,
      };
    },
  };
}
