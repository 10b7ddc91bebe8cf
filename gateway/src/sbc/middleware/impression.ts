import type { InviteMiddleware } from '../invite-pipeline.js';

/**
 * Impression references are `im_…` and base64url (marketplace/ids.ts), sealed
 * with `.` and a base64url MAC (marketplace/impression-seal.ts); anything else is ignored.
 */
const IMPRESSION = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64})?$/;

/**
 * `X-Parley-Impression` names the marketplace impression a listing's call
 * button was shown with (`<parley-call listing impression>`). Read here,
 * before `scrubHeaders` removes every `X-Parley-*` header a visitor sent, and
 * kept on the context only: it never reaches an agent, and the marketplace
 * checks it (sealed by the gateway, the listing's own impression, inside its
 * lease) before it counts.
 */
export const impressionHeader: InviteMiddleware = (ctx) => {
  const value = ctx.invite.headers.get('x-parley-impression')?.trim();
  if (value !== undefined && IMPRESSION.test(value)) ctx.impression = value;
  return undefined;
};
