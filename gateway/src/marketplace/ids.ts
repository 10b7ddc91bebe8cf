import { randomBytes } from 'node:crypto';

/** A random id with a type prefix: `ad_…` advertiser, `pb_…` publisher, `ls_…` listing, `im_…` impression, `pl_…` placement. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}

/** A publisher's placement key: public (it is in the page), unguessable, rotatable. */
export function newPlacementKey(): string {
  return `pk_${randomBytes(18).toString('base64url')}`;
}
