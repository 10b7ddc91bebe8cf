/** SIP header names the gateway sets on the agent leg (and strips from visitors). */
export const HEADER_SESSION = 'X-Parley-Session';
export const HEADER_CALL = 'X-Parley-Call';
export const HEADER_TENANT = 'X-Parley-Tenant';

/**
 * Reads the Parley error code from a SIP Reason header
 * (`SIP;cause=403;text="expired"`), if there is one.
 */
export function reasonCode(reason: string | undefined): string | undefined {
  if (!reason) return undefined;
  const match = /text\s*=\s*"([a-z_]+)"/i.exec(reason);
  return match?.[1];
}
