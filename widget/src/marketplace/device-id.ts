/**
 * The visitor's device id for marketplace placements (S3's device
 * identifier): random, kept in localStorage so reloads and other publisher
 * pages of the same site keep it; a page that knows its own id sets the
 * `device-id` attribute instead.
 */
const KEY = 'parley-device-id';

export function deviceId(
  storage: Pick<Storage, 'getItem' | 'setItem'> | undefined = safeStorage(),
): string {
  const kept = storage?.getItem(KEY);
  if (kept && /^[A-Za-z0-9._:-]{8,128}$/.test(kept)) return kept;
  const fresh = `d-${crypto.randomUUID()}`;
  try {
    storage?.setItem(KEY, fresh);
  } catch {
    // Storage full or refused: the id lives as long as the page.
  }
  return fresh;
}

function safeStorage(): Storage | undefined {
  try {
    return globalThis.localStorage;
  } catch {
    return undefined; // third-party frames with storage blocked
  }
}
