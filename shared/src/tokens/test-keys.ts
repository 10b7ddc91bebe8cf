/**
 * Keys for tests, generated at test time (never committed).
 * @internal
 */
import { generateEncryptionKeyPair, generateSigningKeyPair, type KeyPairFiles } from './keys.js';
import type { SigningAlgorithm } from './claims.js';

export interface TestKeys {
  tenant: KeyPairFiles;
  gateway: KeyPairFiles;
}

export async function makeTestKeys(alg: SigningAlgorithm = 'ES256'): Promise<TestKeys> {
  const [tenant, gateway] = await Promise.all([
    generateSigningKeyPair(alg),
    generateEncryptionKeyPair(alg === 'EdDSA' ? 'X25519' : 'P-256'),
  ]);
  return { tenant, gateway };
}
