/** Codes of configuration (gateway start-up, CLI). Joined into ERROR_CODES by `../codes.ts`. */
import type { DomainCodes } from './info.js';

export const CONFIG_CODES = {
  invalid_config: {
    domain: 'config',
    http: 500,
    sip: 500,
    message: 'The configuration is invalid.',
    human: 'Calling is not available.',
  },
  store_move_conflict: {
    domain: 'config',
    http: 500,
    sip: 500,
    message:
      'PostgreSQL already holds a different row under a key the move copies from the SQLite file; that module was not moved.',
    human: 'Calling is not available.',
  },
  store_move_busy: {
    domain: 'config',
    http: 500,
    sip: 500,
    message:
      'Another process is writing to the SQLite file the move reads (a gateway still running on it); nothing was moved.',
    human: 'Calling is not available.',
  },
} as const satisfies DomainCodes<'config'>;
