import { z } from 'zod';
import type { DeviceContact } from '../gated/devices/device-presence.js';
import type { SharedSignIn } from './device-mirror.js';

/**
 * What the gated devices' shared presence (`device-sync.ts`) keeps in Redis
 * and says on the `devices` channel: the fields' and messages' schemas, and
 * the Lua scripts that write them.
 * Each write that another gateway's may race when Redis comes back compares
 * times (epoch ms; the gateways' clocks agree): a sign-in (`signIn.at`), a
 * sign-out (the `signedOut` field, `{at}`, kept in the hash so a gateway
 * cut off while it was made does not write its older sign-in back), and
 * each gateway's contacts (every contact carries the `at` of its write).
 */

/** `at`: when written (none from a gateway before this field). */
export const contactSchema = z.object({
  uri: z.string(),
  expiresAt: z.number(),
  at: z.number().optional(),
});
export const signInSchema = z.object({
  residentId: z.string(),
  until: z.number(),
  by: z.string(),
  at: z.number(),
});
export const messageSchema = z.object({
  instance: z.string(),
  tenant: z.string(),
  address: z.string(),
  change: z.discriminatedUnion('kind', [
    z.object({
      kind: z.literal('contacts'),
      contacts: z.array(contactSchema),
      at: z.number().optional(),
    }),
    // `at`: a sign-out's time (a sign-in carries its own).
    z.object({
      kind: z.literal('signIn'),
      signIn: signInSchema.nullable(),
      at: z.number().optional(),
    }),
    z.object({ kind: z.literal('forget'), at: z.number().optional() }),
  ]),
});
export type DeviceMessage = z.infer<typeof messageSchema>;
export const signedOutSchema = z.object({ at: z.number() });

/** `later(field, at)`: the hash's field holds a time after `at` (its `at`, or its items' latest). */
const LATER = `
local function written(text)
  local ok, value = pcall(cjson.decode, text)
  if not ok or type(value) ~= 'table' then return 0 end
  if tonumber(value.at) then return tonumber(value.at) end
  local latest = 0
  for _, item in ipairs(value) do
    if type(item) == 'table' and tonumber(item.at) and tonumber(item.at) > latest then
      latest = tonumber(item.at)
    end
  end
  return latest
end
local function later(field, at)
  local current = redis.call('HGET', KEYS[1], field)
  return current ~= false and written(current) > at
end
`;

/**
 * A sign-in made through this gateway, unless the hash holds a later sign-in
 * or sign-out (made through another gateway while this one was cut off).
 * KEYS: the hash. ARGV: the sign-in, its time, the channel, the message.
 * Resolves to 1 when written (and published), 0 when skipped.
 */
export const SIGN_IN = `${LATER}
local at = tonumber(ARGV[2])
if later('signIn', at) or later('signedOut', at) then return 0 end
redis.call('HSET', KEYS[1], 'signIn', ARGV[1])
redis.call('HDEL', KEYS[1], 'signedOut')
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1`;

/**
 * A sign-out (also one that could not be written, once Redis is back):
 * unless the hash holds a later sign-in. Leaves `signedOut` in a hash that
 * exists (it lasts as long as the hash, so at least as long as the sign-in it
 * ended; none in a Redis that lost the hash, which has no sign-in to end).
 * KEYS: the hash. ARGV: when signed out, the channel, the message.
 */
export const SIGN_OUT = `${LATER}
local at = tonumber(ARGV[1])
if later('signIn', at) then return 0 end
-- Set before the sign-in goes: the hash (with its expiry) stays even if nothing else is in it.
if redis.call('EXISTS', KEYS[1]) == 1 and not later('signedOut', at) then
  redis.call('HSET', KEYS[1], 'signedOut', cjson.encode({at = at}))
end
redis.call('HDEL', KEYS[1], 'signIn')
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`;

/**
 * A forget (the device deleted, a new credential), also one replayed once
 * Redis is back: removes each field written before it (a gateway's contacts,
 * the sign-in), so a registration made through another gateway since stays;
 * a sign-in it ends leaves `signedOut` (a gateway cut off meanwhile does not
 * write it back); the hash's index entry goes with the hash.
 * KEYS: the hash, the index. ARGV: when forgotten, the channel, the message.
 */
export const FORGET = `${LATER}
local at = tonumber(ARGV[1])
-- A sign-in it ends leaves its time, as a sign-out does (the hash lasts as long as that sign-in).
if redis.call('HEXISTS', KEYS[1], 'signIn') == 1 and not later('signIn', at - 1)
  and not later('signedOut', at) then
  redis.call('HSET', KEYS[1], 'signedOut', cjson.encode({at = at}))
end
local fields = redis.call('HKEYS', KEYS[1])
for _, field in ipairs(fields) do
  if not later(field, at - 1) then redis.call('HDEL', KEYS[1], field) end
end
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], KEYS[1]) end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1`;

/**
 * Every device hash still listed (those lapsed dropped from the list first),
 * with its name: `{key, fields, key, fields, …}`. One round trip: the keys are
 * read from the list, so they are not declared (a single Redis, not Redis
 * Cluster, like the rest of `cluster/`).
 */
export const LOAD = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local out = {}
for _, k in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  out[#out + 1] = k
  out[#out + 1] = redis.call('HGETALL', k)
end
return out`;

/** A device's hash as read by `LOAD`: every gateway's contacts, the sign-in and the last sign-out. */
export interface LoadedDevice {
  readonly tenant: string;
  readonly address: string;
  readonly contacts: Map<string, DeviceContact[]>;
  /** When each instance's contacts were written (0 when not known). */
  readonly contactsAt: Map<string, number>;
  readonly signIn: SharedSignIn | undefined;
  /** When the resident was last signed out (0 none). */
  readonly signedOutAt: number;
}

/** `LOAD`'s reply (key, fields, key, fields, …): the devices it holds, unreadable fields told to `warn`. */
export function parseDevices(
  reply: readonly unknown[],
  /** The device keys' prefix (`<keyPrefix>device:`). */
  prefix: string,
  warn: (error: unknown, key: string, field: string) => void,
): LoadedDevice[] {
  const devices: LoadedDevice[] = [];
  for (let i = 0; i + 1 < reply.length; i += 2) {
    const key = reply[i];
    const fields = reply[i + 1];
    if (typeof key !== 'string' || !key.startsWith(prefix) || !Array.isArray(fields)) continue;
    const [tenant, address] = key.slice(prefix.length).split(':').map(decoded);
    if (tenant === undefined || address === undefined) continue;
    const contacts = new Map<string, DeviceContact[]>();
    const contactsAt = new Map<string, number>();
    let signIn: SharedSignIn | undefined;
    let signedOutAt = 0;
    for (let f = 0; f + 1 < fields.length; f += 2) {
      const field = String(fields[f]);
      try {
        const value: unknown = JSON.parse(String(fields[f + 1]));
        if (field === 'signIn') signIn = signInSchema.parse(value);
        else if (field === 'signedOut') signedOutAt = signedOutSchema.parse(value).at;
        else if (field.startsWith('contacts:')) {
          const listed = z.array(contactSchema).parse(value);
          const instance = field.slice('contacts:'.length);
          contacts.set(instance, remote(listed));
          contactsAt.set(instance, Math.max(0, ...listed.map((c) => c.at ?? 0)));
        }
      } catch (error) {
        warn(error, key, field);
      }
    }
    devices.push({ tenant, address, contacts, contactsAt, signIn, signedOutAt });
  }
  return devices;
}

/** Contacts heard from another gateway: no connection here (sent to their URI). */
export function remote(contacts: readonly { uri: string; expiresAt: number }[]): DeviceContact[] {
  return contacts.map((c) => ({ uri: c.uri, expiresAt: c.expiresAt, flowId: undefined }));
}

/** A key part as written (undefined for one this code did not write: never throws in a load). */
function decoded(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}
