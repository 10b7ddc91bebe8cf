import type { InviteMiddleware } from '../invite-pipeline.js';

/**
 * Headers only the gateway may assert. A visitor who sets them is ignored, not
 * refused: the headers are removed before anything reads the INVITE, and the
 * agent leg is built from scratch (topology hiding by construction).
 */
export const FORBIDDEN_HEADERS = [
  'P-Asserted-Identity',
  'P-Preferred-Identity',
  'Remote-Party-ID',
  'P-Charging-Vector',
  'History-Info',
  'Diversion',
] as const;

export const scrubHeaders: InviteMiddleware = ({ invite }) => {
  for (const name of FORBIDDEN_HEADERS) invite.headers.delete(name);
  for (const name of new Set(invite.headers.lines().map((l) => l.key))) {
    if (name.startsWith('x-parley-')) invite.headers.delete(name);
  }
  return undefined;
};
