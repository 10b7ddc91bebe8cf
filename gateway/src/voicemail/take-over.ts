/**
 * An agent takes the call of a voicemail being recorded: their phone (or
 * desk softphone) is rung with the codec the gateway answered the caller
 * with; when they answer, the recording stops (what was said is kept), the
 * caller's media endpoint is closed and the two legs are bridged (audio both
 * ways, as any answered call). The agent's leg is owned here: its BYE ends
 * the call, the call's end hangs it up.
 */
import { ParleyError } from '@parley/shared/errors';
import type { AgentDirectory } from '../agents/index.js';
import { agentLeg, callerIdentity } from '../calls/agent-request.js';
import type { Call, ChosenCodec, OutboundLeg } from '../calls/index.js';
import type { Logger } from '../observability/index.js';
import type { SipStack } from '../sip/index.js';

export interface TakeOverDeps {
  readonly stack: SipStack;
  readonly agents: AgentDirectory;
  readonly domain: string;
  readonly tenantName: (tenant: string) => string | undefined;
  readonly logger: Logger;
}

/** Rings `agentId` for `call`; resolves with the agent's answered leg (rejects if they do not answer). */
export async function ringTaker(
  deps: TakeOverDeps,
  call: Call,
  agentId: string,
  codec: ChosenCodec,
): Promise<OutboundLeg> {
  const presence = deps.agents.get(agentId);
  const contact = presence?.contacts[0];
  if (!presence || !contact)
    throw new ParleyError('agent_unreachable', `agent ${agentId} has no phone registered`, {
      expose: true,
    });
  const router = call.router;
  if (!router || router.closed) throw new ParleyError('visitor_gone', 'the caller is gone');
  const record = call.record;
  const leg = await agentLeg({
    stack: deps.stack,
    router,
    logger: deps.logger,
    domain: deps.domain,
    agentId,
    contact,
    caller: call.caller,
    only: codec,
    attempt: record.attempts.length + 1,
    identity: callerIdentity(
      record.sessionNumber,
      call.token?.privateClaims ?? {},
      deps.tenantName(record.tenant),
    ),
    call: { id: call.id, sessionId: record.sessionId, tenant: record.tenant },
  });
  const gone = () => leg.close('visitor_gone');
  call.once('ended', gone);
  try {
    await new Promise<void>((resolve, reject) => {
      leg.once('answered', () => resolve());
      leg.once('failed', (failure) =>
        reject(new ParleyError('agent_no_answer', `the agent did not answer (${failure.status})`)),
      );
      leg.once('ended', () => reject(new ParleyError('agent_no_answer', 'the agent leg ended')));
      leg.start();
    });
    await leg.acceptAnswer();
  } catch (error) {
    call.off('ended', gone);
    leg.close('normal_clearing');
    throw error;
  }
  return leg;
}

/** Bridges the answered taker to the caller; the call ends with either leg. */
export function joinTaker(deps: TakeOverDeps, call: Call, leg: OutboundLeg, agentId: string): void {
  const done = deps.agents.callStarted(agentId);
  call.bridge(call.caller, leg);
  leg.once('ended', () =>
    call.end({ outcome: 'answered', endedBy: 'agent', reason: 'normal_clearing' }),
  );
  call.once('ended', () => {
    leg.close('normal_clearing');
    done();
  });
}
