/**
 * A call's parts, made and wired together once, when the call is made: the
 * stored record (`call-record.ts`, with the session's number leased for S6),
 * the legs and who is joined to whom (`call-legs.ts`), requests within their
 * dialogs (`in-dialog.ts`), the media router (`call-media.ts`), the gateway's
 * own answer (`gateway-answer.ts`), what other modules' legs report
 * (`foreign-legs.ts`) and the queue's agents (`queue-ringing.ts`). The parts
 * reach one another through the closures made here, and their call through
 * `CallOwner`; the call keeps them and closes them when it ends. Kept apart
 * from `Call` so the call's class is about its life, not its wiring.
 */
import type { EventEmitter } from 'node:events';
import { callerNumberClaim } from '../numbers/index.js';
import type { Logger } from '../observability/index.js';
import type { CallState } from '../storage/index.js';
import { CallLegs } from './call-legs.js';
import { CallMedia } from './call-media.js';
import { CallRecordKeeper, type CallEnd } from './call-record.js';
import type { CallerView } from './caller-view.js';
import type { CallDeps, CallEvents, CallInit } from './call-types.js';
import { ForeignLegs } from './foreign-legs.js';
import { GatewayAnswer } from './gateway-answer.js';
import { InDialog } from './in-dialog.js';
import type { InboundLeg } from './inbound-leg.js';
import { QueueRinging } from './queue-ringing.js';

/** What the parts need of their call (the `Call` itself). @internal */
export interface CallOwner extends Pick<EventEmitter<CallEvents>, 'emit'> {
  readonly id: string;
  readonly caller: InboundLeg;
  /** Whether the call is ending or ended. */
  readonly ending: boolean;
  end(how: CallEnd): void;
  agentHold(held: boolean): void;
}

/** What the call was made with, and who called. @internal */
export interface CallPartsInit {
  readonly deps: CallDeps;
  readonly init: CallInit;
  readonly view: CallerView;
  readonly log: Logger;
}

/** @internal */
export interface CallParts {
  readonly keeper: CallRecordKeeper;
  readonly legs: CallLegs;
  readonly inDialog: InDialog;
  readonly media: CallMedia;
  readonly answer: GatewayAnswer;
  readonly foreign: ForeignLegs;
  readonly agents: QueueRinging;
}

/** Makes the call's parts; the caller's leg is adopted last, once they all exist. */
export function callParts(call: CallOwner, made: CallPartsInit): CallParts {
  const { deps, init, view, log } = made;
  const { caller } = call;
  const ending = (): boolean => call.ending;
  const end = (how: CallEnd): void => call.end(how);
  // S6: a visitor's session gets its caller-ID number (the token's `callerNumber` claim when
  // it is inside the tenant's blocks); a trunk call is known by the DID it called.
  const number = init.token
    ? deps.numbers.lease(view.tenant, view.sessionId, callerNumberClaim(init.token))
    : { number: view.trunk?.called ?? '', fallback: false };
  const keeper = new CallRecordKeeper(
    { store: deps.calls, now: deps.now ?? Date.now, log },
    { id: call.id, caller: view, queue: init.queue, invite: init.invite, flow: init.flow, number },
  );
  const transition = (next: CallState): void => {
    if (keeper.state !== next && keeper.transition(next)) call.emit('state', next);
  };
  const legs = new CallLegs({
    caller,
    router: () => media.router,
    agentLeg: () => agents.agent?.leg,
    answered: () => keeper.state === 'answered',
  });
  legs.on('request', (leg, request, tx) => inDialog.handle(leg, request, tx));
  legs.on('callEnds', end);
  const inDialog = new InDialog({
    log,
    caller,
    peerOf: (l) => legs.peerOf(l),
    onHold: (held) => call.agentHold(held),
    onDtmf: (l, digit) => call.emit('dtmf', digit, l),
    onDialogChange: () => keeper.save(),
    onIceRestart: (ok) => call.emit('iceRestart', ok),
  });
  caller.on('reconnect', (outcome, gapMs) => call.emit('reconnect', outcome, gapMs));
  const media = new CallMedia({
    callId: call.id,
    deps,
    caller,
    log,
    events: call,
    silenceEnds: () => keeper.state === 'answered' || answer.codec !== undefined,
    ending,
    end,
  });
  const answer = new GatewayAnswer(caller, keeper, end, log);
  const foreign = new ForeignLegs({
    caller,
    keeper,
    agents: deps.agents,
    events: call,
    ending,
    transition,
  });
  const agents = new QueueRinging({
    callId: call.id,
    deps,
    queue: init.queue,
    view,
    caller,
    keeper,
    log,
    events: call,
    router: () => media.router,
    gatewayCodec: () => answer.codec,
    gatewayRingback: () => answer.ringback,
    gatewayEarlyMedia: () => answer.agentEarlyMedia(),
    gatewayMade: () => answer.made(),
    ending,
    setUpMedia: () => media.setUp(),
    adopt: (leg) => legs.adopt(leg),
    bridge: (a, b) => legs.bridge(a, b),
    transition,
    end,
  });
  legs.adopt(caller);
  return { keeper, legs, inDialog, media, answer, foreign, agents };
}
