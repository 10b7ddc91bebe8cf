/**
 * The STUN/TURN servers browsers use to reach this gateway's media. Static
 * servers come from config as they are; with `media.turn`, each request mints
 * short-lived TURN credentials (coturn's shared-secret scheme), so no
 * long-lived TURN password is ever handed to a browser.
 */
import { turnRestCredentials, turnUserName } from '@parley/shared/turn';

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
  /** Their lifetime from now, for callers whose clock may differ; null without `media.turn`. */
  readonly ttlSeconds: number | null;
}

export interface IceServerSource {
  /**
   * Servers with fresh TURN credentials; `user` (cleaned to `[A-Za-z0-9._-]`, at
   * most 64 characters) shows in the TURN server's logs. Whoever holds them may
   * use the relay until they expire: keep `ttlSeconds` short.
   */
  mint(user: string): IceServersAnswer;
}

export function createIceServerSource(
  config: IceServersConfig,
  now: () => number = Date.now,
): IceServerSource {
  const turn = config.turn;
  return {
    mint(user) {
      if (!turn) {
        return {
          iceServers: config.iceServers,
          iceTransportPolicy: config.iceTransportPolicy,
          expiresAt: null,
          ttlSeconds: null,
        };
      }
      const minted = turnRestCredentials({
        secret: turn.secret,
        urls: turn.urls,
        ttlSeconds: turn.ttlSeconds,
        user: turnUserName(user),
        now: now(),
      });
      const { expiresAt, ...server } = minted;
      return {
        iceServers: [...config.iceServers, server],
        iceTransportPolicy: config.iceTransportPolicy,
        expiresAt,
        ttlSeconds: turn.ttlSeconds,
      };
    },
  };
}
