/** What the registrar reads of a REGISTER beyond its credentials: Path support, Contact parameters, Expires. */
import type { NameAddr, SipRequest } from '../message/index.js';

export function supportsPath(request: SipRequest): boolean {
  return request.headers.getAll('supported').some((tag) => tag.trim().toLowerCase() === 'path');
}

export function paramOf(addr: NameAddr, name: string): string | undefined {
  const found = addr.params.find(([key]) => key.toLowerCase() === name);
  return found?.[1] ?? undefined;
}

export function parseExpires(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,10}$/.test(value.trim())) return undefined;
  return Math.min(Number(value.trim()), 2 ** 31 - 1);
}
