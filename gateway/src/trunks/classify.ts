/**
 * Is this INVITE a call from the telephone network? Decided on the packet's
 * source address (a trunk's peers and `inbound.allow`), never on the message
 * itself, which anyone can write:
 *
 * - from a trunk's address: a trunk call. Its called number (Request-URI, else
 *   To) must be one of that trunk's DIDs (else 404), the SDP offer must allow
 *   one of its codecs (else 488), and the trunk must have a free slot (else 503);
 * - from elsewhere, to a number some trunk answers: 403 (a trunk's numbers are
 *   reached only through the trunk);
 * - anything else (a browser, a SIP visitor with a call token): not ours; the
 *   visitor pipeline takes it.
 *
 * A refusal runs nothing: no slot, no media, no flow.
 */
import type { ErrorCode } from '@parley/shared/errors';
import { mediaEndpoint, parseSdp } from '../media/index.js';
import {
  clientOf,
  parseNameAddr,
  type Flow,
  type NameAddr,
  type SipRequest,
  type Uri,
} from '../sip/index.js';
import { numberInUri, toE164 } from './e164.js';
import type { Trunk, TrunkCodec, TrunkPeerInfo, TrunkSlot } from './trunk.js';

/** Who called, as the carrier said (P-Asserted-Identity first, else From). */
export type InboundCaller =
  | {
      readonly kind: 'number';
      /** E.164. */
      readonly number: string;
      /** The carrier asked to keep it from the called party (`Privacy: id`). */
      readonly private: boolean;
    }
  | {
      readonly kind: 'anonymous';
      /** What the carrier sent instead of a number, if anything (`anonymous`, a short code). */
      readonly raw: string | undefined;
    };

/** An accepted call from the telephone network, for the flow that answers it. */
export interface InboundTrunkCall {
  /** Trunk id (`trunks.<id>`). */
  readonly trunk: string;
  /** The configured peer it came from; undefined when it came from an `inbound.allow` address. */
  readonly peer: TrunkPeerInfo | undefined;
  readonly source: { readonly address: string; readonly port: number; readonly protocol: string };
  /** The DID called, E.164. */
  readonly called: string;
  readonly caller: InboundCaller;
  readonly tenant: string;
  /** The flow the DID names. */
  readonly flow: string;
  /** Codecs the leg may answer with (the trunk's, in its order of preference). */
  readonly codecs: readonly TrunkCodec[];
  /** The trunk slot this call holds: release it when the call ends. */
  readonly slot: TrunkSlot;
}

/** The codes a trunk INVITE is refused with (each in the error registry). */
export type TrunkRefusalCode = Extract<
  ErrorCode,
  'trunk_source_not_allowed' | 'trunk_unknown_number' | 'trunk_call_limit' | 'offer_required'
>;

export type TrunkClassification =
  /** Not from a trunk and not to a trunk's number: the visitor pipeline's. */
  | { readonly kind: 'not-trunk' }
  | { readonly kind: 'accepted'; readonly call: InboundTrunkCall }
  | {
      readonly kind: 'refused';
      readonly code: TrunkRefusalCode;
      /** The trunk concerned (undefined when none could be named). */
      readonly trunk: string | undefined;
      readonly detail: string;
    };

export function classifyInvite(
  trunks: readonly Trunk[],
  invite: SipRequest,
  flow: Flow,
): TrunkClassification {
  // Behind a trusted edge proxy, the carrier is the client it names (sip/transport/edge.ts).
  const client = clientOf(invite, flow);
  if (client.protocol === 'WS' || client.protocol === 'WSS') return { kind: 'not-trunk' };
  const source = client.address;
  const fromTrunk = trunks.filter((t) => t.allowsSource(source));
  const called = calledNumber(invite);

  if (fromTrunk.length === 0) {
    const owner =
      called === undefined ? undefined : trunks.find((t) => routeOf(t, called) !== undefined);
    if (!owner) return { kind: 'not-trunk' };
    return {
      kind: 'refused',
      code: 'trunk_source_not_allowed',
      trunk: owner.id,
      detail: `${source} is not on the access list of trunk ${owner.id}`,
    };
  }

  let match: { trunk: Trunk; e164: string; route: { tenant: string; flow: string } } | undefined;
  for (const trunk of fromTrunk) {
    const e164 = called === undefined ? undefined : trunk.normalise(called);
    const route = e164 === undefined ? undefined : trunk.route(e164);
    if (e164 !== undefined && route) {
      match = { trunk, e164, route };
      break;
    }
  }
  const first = fromTrunk[0] as Trunk;
  if (!match) {
    return {
      kind: 'refused',
      code: 'trunk_unknown_number',
      trunk: first.id,
      detail: `no inbound number ${called ?? '(none)'} on trunk ${fromTrunk.map((t) => t.id).join(', ')}`,
    };
  }
  const { trunk, e164, route } = match;
  const codecProblem = offerProblem(invite, trunk.codecs);
  if (codecProblem) {
    return { kind: 'refused', code: 'offer_required', trunk: trunk.id, detail: codecProblem };
  }
  const slot = trunk.acquire('inbound');
  if (!slot) {
    return {
      kind: 'refused',
      code: 'trunk_call_limit',
      trunk: trunk.id,
      detail: `trunk ${trunk.id} holds ${trunk.activeCalls} of ${trunk.maxCalls} calls`,
    };
  }
  return {
    kind: 'accepted',
    call: {
      trunk: trunk.id,
      peer: trunk.peerAt(source),
      source: { address: source, port: client.port, protocol: client.protocol },
      called: e164,
      caller: callerOf(invite, trunk),
      tenant: route.tenant,
      flow: route.flow,
      codecs: trunk.codecs,
      slot,
    },
  };
}

function routeOf(trunk: Trunk, called: string) {
  const e164 = trunk.normalise(called);
  return e164 === undefined ? undefined : trunk.route(e164);
}

/** The number dialled: the Request-URI's (RFC 3261 §8.2.2.1), else To's when the carrier puts its own host there. */
function calledNumber(invite: SipRequest): string | undefined {
  const fromUri = safeNumber(() => invite.uri);
  return fromUri ?? safeNumber(() => invite.to.uri);
}

function safeNumber(uri: () => Uri): string | undefined {
  try {
    const number = numberInUri(uri());
    return number === '' ? undefined : number;
  } catch {
    return undefined;
  }
}

/**
 * RFC 3325 §9.1: a trusted network's P-Asserted-Identity names the caller; RFC
 * 3323: `Privacy: id` asks us not to pass it on, and an `anonymous` From hides it.
 */
function callerOf(invite: SipRequest, trunk: Trunk): InboundCaller {
  const privacy = invite.headers
    .getAll('privacy')
    .flatMap((v) => v.split(';'))
    .map((v) => v.trim().toLowerCase());
  const hidden = privacy.includes('id') || privacy.includes('user') || privacy.includes('header');
  const asserted = invite.headers
    .getAll('p-asserted-identity')
    .map((value) => safeNameAddr(value))
    .filter((n): n is NameAddr => n !== undefined);
  for (const identity of asserted) {
    const raw = numberInUri(identity.uri);
    const e164 = raw === undefined ? undefined : toE164(raw, trunk.defaultCountry);
    if (e164) return { kind: 'number', number: e164, private: hidden };
  }
  const from = safeNameAddr(invite.headers.get('from') ?? '');
  const raw = from ? numberInUri(from.uri) : undefined;
  const e164 = raw === undefined ? undefined : toE164(raw, trunk.defaultCountry);
  if (e164) return { kind: 'number', number: e164, private: hidden };
  return { kind: 'anonymous', raw: raw === '' ? undefined : raw };
}

function safeNameAddr(value: string): NameAddr | undefined {
  try {
    return parseNameAddr(value);
  } catch {
    return undefined;
  }
}

/**
 * An offer must give the trunk's codecs a chance: an INVITE without SDP (a
 * late offer) passes, the leg offers in its 200; an offer without PCMU/PCMA
 * allowed on the trunk is refused 488 before anything is set up.
 */
function offerProblem(invite: SipRequest, codecs: readonly TrunkCodec[]): string | undefined {
  if (invite.body.length === 0) return undefined;
  const type = (invite.contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/sdp') return `body is ${type || 'untyped'}, not SDP`;
  try {
    const sdp = parseSdp(invite.body.toString('utf8'));
    const index = sdp.media.findIndex((m) => m.media === 'audio');
    const endpoint = index >= 0 ? mediaEndpoint(sdp, index) : undefined;
    if (!endpoint || endpoint.rejected) return 'no audio stream in the offer';
    const offered = endpoint.codecs.map((c) => c.name.toUpperCase());
    if (!codecs.some((c) => offered.includes(c)))
      return `offer has ${offered.join(', ') || 'no codec'}, the trunk allows ${codecs.join(', ')}`;
    return undefined;
  } catch {
    return 'unparseable SDP';
  }
}
