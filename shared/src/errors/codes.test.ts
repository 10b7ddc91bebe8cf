/** ERROR_CODES is the domain files joined: no code lost or written twice. */
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from './codes.js';
import { CALL_CODES } from './codes/call.js';
import { CALLBACK_CODES } from './codes/callback.js';
import { CONFIG_CODES } from './codes/config.js';
import { FLOW_CODES } from './codes/flow.js';
import { GATED_CODES } from './codes/gated.js';
import { REQUEST_CODES } from './codes/request.js';
import { SCREENING_CODES } from './codes/screening.js';
import { SPEECH_CODES } from './codes/speech.js';
import { TOKEN_CODES } from './codes/token.js';
import { TRUNK_CODES } from './codes/trunk.js';
import { WIDGET_CODES } from './codes/widget.js';

const DOMAIN_FILES = [
  TOKEN_CODES,
  SCREENING_CODES,
  CALL_CODES,
  TRUNK_CODES,
  CALLBACK_CODES,
  FLOW_CODES,
  GATED_CODES,
  WIDGET_CODES,
  REQUEST_CODES,
  SPEECH_CODES,
  CONFIG_CODES,
];

describe('ERROR_CODES', () => {
  it('holds every code of every domain file, none written in two', () => {
    const written = DOMAIN_FILES.flatMap((codes) => Object.keys(codes));
    expect(Object.keys(ERROR_CODES)).toEqual(written);
  });

  it('keeps each code the entry its domain file gives it', () => {
    for (const codes of DOMAIN_FILES)
      for (const [code, info] of Object.entries(codes))
        expect(ERROR_CODES[code as keyof typeof ERROR_CODES], code).toBe(info);
  });
});
