/** docs/errors.md documents every code in ERROR_CODES, and nothing else (Fastify's discipline). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from './codes.js';

const DOC = readFileSync(new URL('../../../docs/errors.md', import.meta.url), 'utf8');

describe('docs/errors.md', () => {
  const documented = [...DOC.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]);

  it('documents every error code', () => {
    expect(Object.keys(ERROR_CODES).filter((code) => !documented.includes(code))).toEqual([]);
  });

  it('documents no code that does not exist', () => {
    expect(documented.filter((code) => !(code! in ERROR_CODES))).toEqual([]);
  });

  it('gives each code the HTTP and SIP status the code has', () => {
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      const line = DOC.split('\n').find((l) => l.startsWith(`| \`${code}\` |`));
      expect(line, code).toContain(`| ${info.http} | ${info.sip} |`);
    }
  });
});
