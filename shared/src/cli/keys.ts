#!/usr/bin/env -S node --import tsx
/**
 * parley-keys: writes key pairs as JWK files.
 *
 *   parley-keys tenant  [--alg ES256|EdDSA] [--out DIR] [--name NAME]
 *   parley-keys gateway [--crv P-256|X25519] [--out DIR] [--name NAME]
 *
 * The private file is written with mode 0600 and never overwritten.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  type KeyPairFiles,
} from '../tokens/keys.js';

const USAGE = `usage: parley-keys tenant  [--alg ES256|EdDSA] [--out DIR] [--name NAME]
       parley-keys gateway [--crv X25519|P-256] [--out DIR] [--name NAME]`;

export async function main(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        alg: { type: 'string', default: 'ES256' },
        crv: { type: 'string', default: 'X25519' },
        out: { type: 'string', default: '.' },
        name: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const kind = positionals[0];
  if (values.help || (kind !== 'tenant' && kind !== 'gateway') || positionals.length !== 1) {
    process.stderr.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  let pair: KeyPairFiles;
  if (kind === 'tenant') {
    if (values.alg !== 'ES256' && values.alg !== 'EdDSA') {
      process.stderr.write(`--alg must be ES256 or EdDSA, got ${values.alg}\n`);
      return 2;
    }
    pair = await generateSigningKeyPair(values.alg);
  } else {
    if (values.crv !== 'P-256' && values.crv !== 'X25519') {
      process.stderr.write(`--crv must be P-256 or X25519, got ${values.crv}\n`);
      return 2;
    }
    pair = await generateEncryptionKeyPair(values.crv);
  }
  const dir = resolve(values.out);
  const name = values.name ?? kind;
  await mkdir(dir, { recursive: true });
  const privatePath = join(dir, `${name}.private.jwk.json`);
  const publicPath = join(dir, `${name}.public.jwk.json`);
  try {
    await writeFile(privatePath, `${JSON.stringify(pair.privateJwk, null, 2)}\n`, {
      mode: 0o600,
      flag: 'wx',
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      process.stderr.write(`${privatePath} exists; not overwriting a private key\n`);
      return 1;
    }
    throw error;
  }
  await writeFile(publicPath, `${JSON.stringify(pair.publicJwk, null, 2)}\n`);
  process.stdout.write(
    `${JSON.stringify({ kind, kid: pair.publicJwk.kid, private: privatePath, public: publicPath })}\n`,
  );
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('keys.ts')) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(`parley-keys: ${(error as Error).message}\n`);
      process.exit(1);
    },
  );
}
