import type { JWK } from 'jose';
import { CallTokenError } from './errors.js';
import { importSigningKey, publicJwkOf, type ImportedKey, type JwkSet } from './keys.js';

/** Finds the public key a tenant signed a token with. */
export interface TenantKeyResolver {
  /**
   * The key of tenant `issuer` with id `kid`. Rejects with CallTokenError
   * `wrong_issuer` (tenant unknown), `unknown_key` (no such kid) or
   * `key_unavailable` (the tenant's JWKS could not be fetched).
   */
  resolve(issuer: string, kid: string): Promise<ImportedKey>;
}

/** Where one tenant's keys come from: inline public JWKs, a JWKS URL, or both. */
export interface TenantKeySource {
  readonly jwks?: readonly JWK[];
  readonly jwksUrl?: string;
}

export interface RemoteJwksOptions {
  /** How long a fetched set is trusted before it is fetched again. */
  readonly maxAgeMs?: number;
  /** Minimum time between two fetches prompted by an unknown kid. */
  readonly cooldownMs?: number;
  readonly timeoutMs?: number;
  /** The largest JWKS body accepted. */
  readonly maxBytes?: number;
  readonly fetch?: typeof fetch;
  readonly now?: () => number;
}

async function importSet(keys: readonly unknown[]): Promise<Map<string, ImportedKey>> {
  const byKid = new Map<string, ImportedKey>();
  for (const jwk of keys) {
    if (typeof jwk !== 'object' || jwk === null) continue;
    const candidate = jwk as JWK;
    if (candidate.use !== undefined && candidate.use !== 'sig') continue;
    try {
      const imported = importSigningKey(publicJwkOf(candidate));
      byKid.set(imported.kid, imported);
    } catch {
      // A key we cannot use (RSA, no kid, private-only...) is skipped, not fatal:
      // the set may hold keys for other consumers.
    }
  }
  return byKid;
}

/**
 * A JWKS URL, cached. An unknown kid triggers a refetch (at most once per
 * cooldown), so a tenant can rotate keys without the gateway restarting.
 */
export class RemoteJwks {
  readonly #url: string;
  readonly #maxAgeMs: number;
  readonly #cooldownMs: number;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  #keys = new Map<string, ImportedKey>();
  #fetchedAt = Number.NEGATIVE_INFINITY;
  /** Why the last fetch failed (undefined: it did not). */
  #failure: unknown;
  #inflight: Promise<void> | undefined;

  constructor(url: string, options: RemoteJwksOptions = {}) {
    this.#url = url;
    this.#maxAgeMs = options.maxAgeMs ?? 10 * 60_000;
    this.#cooldownMs = options.cooldownMs ?? 30_000;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#maxBytes = options.maxBytes ?? 64 * 1024;
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.now ?? Date.now;
  }

  async get(kid: string): Promise<ImportedKey | undefined> {
    const age = this.#now() - this.#fetchedAt;
    const known = this.#keys.get(kid);
    if (known && age < this.#maxAgeMs) return known;
    if (!known && age < this.#cooldownMs) {
      // Never fetched successfully and the last try failed: still cut off from
      // the keys (key_unavailable, a 503 a proxy fails over on), not a token
      // with an unknown kid (403) for the whole cooldown.
      if (this.#keys.size === 0 && this.#failure !== undefined) this.#unavailable();
      return undefined;
    }
    try {
      await this.#refresh();
    } catch {
      // Stale keys beat no keys: keep serving what we had.
      if (known) return known;
      if (this.#keys.size === 0) this.#unavailable();
      return undefined;
    }
    return this.#keys.get(kid);
  }

  #unavailable(): never {
    throw new CallTokenError('key_unavailable', this.#url, { cause: this.#failure });
  }

  #refresh(): Promise<void> {
    this.#inflight ??= this.#load()
      .then(
        () => {
          this.#failure = undefined;
        },
        (cause: unknown) => {
          this.#failure = cause ?? new Error(`JWKS ${this.#url}: fetch failed`);
          throw cause;
        },
      )
      .finally(() => {
        this.#inflight = undefined;
      });
    return this.#inflight;
  }

  async #load(): Promise<void> {
    // Mark the attempt first so a failing URL is not hammered.
    this.#fetchedAt = this.#now();
    const response = await this.#fetch(this.#url, {
      signal: AbortSignal.timeout(this.#timeoutMs),
      headers: { accept: 'application/jwk-set+json, application/json' },
    });
    if (!response.ok) throw new Error(`JWKS ${this.#url}: HTTP ${response.status}`);
    const text = await response.text();
    if (text.length > this.#maxBytes) throw new Error(`JWKS ${this.#url}: body too large`);
    const body = JSON.parse(text) as Partial<JwkSet>;
    if (!Array.isArray(body.keys)) throw new Error(`JWKS ${this.#url}: no keys array`);
    this.#keys = await importSet(body.keys);
  }
}

/** Resolves keys of the tenants named in config, inline or by JWKS URL. */
export class ConfiguredTenantKeys implements TenantKeyResolver {
  readonly #tenants = new Map<
    string,
    { inline: Promise<Map<string, ImportedKey>>; remote: RemoteJwks | undefined }
  >();

  constructor(
    tenants: Readonly<Record<string, TenantKeySource>>,
    remoteOptions: RemoteJwksOptions = {},
  ) {
    for (const [issuer, source] of Object.entries(tenants)) {
      const inline = importSet(source.jwks ?? []);
      // Imported eagerly; a failure surfaces at resolve time as unknown_key.
      inline.catch(() => undefined);
      this.#tenants.set(issuer, {
        inline,
        remote: source.jwksUrl ? new RemoteJwks(source.jwksUrl, remoteOptions) : undefined,
      });
    }
  }

  has(issuer: string): boolean {
    return this.#tenants.has(issuer);
  }

  async resolve(issuer: string, kid: string): Promise<ImportedKey> {
    const tenant = this.#tenants.get(issuer);
    if (!tenant) throw new CallTokenError('wrong_issuer', issuer);
    const inline = (await tenant.inline).get(kid);
    if (inline) return inline;
    const remote = await tenant.remote?.get(kid);
    if (remote) return remote;
    throw new CallTokenError('unknown_key', kid);
  }
}
