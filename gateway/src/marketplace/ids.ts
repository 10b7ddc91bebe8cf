import { randomBytes } from 'node:crypto';

/** A random id with a type prefix: `ad_…` advertiser, `pb_…` publisher, `ls_…` listing, `im_…` impression, `pl_…` placement. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(9).toString('base64url')}`;
}

/** Whether `id` has the shape {@link newId} gives ids of `prefix` (checked before any lookup). */
export function isId(prefix: string, id: string): boolean {
  return (
    id.length === prefix.length + 13 && id.startsWith(`${prefix}_`) && /^[A-Za-z0-9_-]+$/.test(id)
  );
}

/** A publisher's placement key: public (it is in the page), unguessable, rotatable. */
export function newPlacementKey(): string {
  return `pk_${randomBytes(18).toString('base64url')}`;
}
