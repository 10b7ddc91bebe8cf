import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from './keys.js';

describe('parley-keys', () => {
  it('writes a tenant signing pair and a gateway encryption pair, never overwriting a private key', async () => {
    const out = mkdtempSync(join(tmpdir(), 'parley-keys-'));
    vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await main(['tenant', '--alg', 'EdDSA', '--out', out])).toBe(0);
    expect(await main(['gateway', '--out', out])).toBe(0);
    const tenant = JSON.parse(readFileSync(join(out, 'tenant.private.jwk.json'), 'utf8')) as Record<
      string,
      string
    >;
    expect(tenant).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig' });
    expect(statSync(join(out, 'tenant.private.jwk.json')).mode & 0o777).toBe(0o600);
    const gatewayPublic = JSON.parse(
      readFileSync(join(out, 'gateway.public.jwk.json'), 'utf8'),
    ) as Record<string, string>;
    expect(gatewayPublic).toMatchObject({ kty: 'OKP', crv: 'X25519', alg: 'ECDH-ES+A256KW' });
    expect(gatewayPublic['d']).toBeUndefined();
    expect(await main(['tenant', '--out', out])).toBe(1);
    expect(await main(['tenant', '--alg', 'RS256'])).toBe(2);
    expect(await main(['nonsense'])).toBe(2);
    expect(stderr).toHaveBeenCalled();
    vi.restoreAllMocks();
  });
});
