/** What `startGateway` (the composition root, `gateway.ts`) is given and what it returns. */
import type { ReplayStore } from '@parley/shared/tokens';
import type { AgentDirectory } from './agents/index.js';
import type { CallbacksModule } from './callbacks/index.js';
import type { CallManager, Telephony } from './calls/index.js';
import type { LostGatewaySweeper, SharedState } from './cluster/index.js';
import type { Config } from './config/index.js';
import type { GatedModule, PinHasher } from './gated/index.js';
import type { Marketplace } from './marketplace/index.js';
import type { MediaApps } from './media/apps/index.js';
import type { MediaEngine } from './media/index.js';
import type { SessionNumberPool } from './numbers/index.js';
import type { Logger, Metrics } from './observability/index.js';
import type { SipStack } from './sip/index.js';
import type { Speech } from './speech/index.js';
import type { CallStore, SessionStore } from './storage/index.js';
import type { TokenService } from './tokens/index.js';
import type { Trunks } from './trunks/index.js';
import type { Voicemails } from './voicemail/index.js';

export interface GatewayOptions {
  readonly logger?: Logger;
  readonly replayStore?: ReplayStore;
  readonly now?: () => number;
  /** scrypt parameters of gated PINs (tests lower them). */
  readonly pins?: PinHasher;
  /** For crash tests: runs inside each marketplace charge's transaction, before the commit. */
  readonly billingBeforeCommit?: (callId: string) => void;
  /** For crash tests: runs inside each callback fee's transaction, before the commit. */
  readonly callbackFeeBeforeCommit?: (callbackId: string) => void;
}

/** A running gateway. `close()` stops everything it started; safe to call twice. */
export interface Gateway {
  readonly config: Config;
  readonly httpUrl: string;
  /** SIP listeners' addresses after start (port 0 becomes the real port). */
  readonly sip: { readonly udp?: string; readonly tcp?: string; readonly ws: string };
  readonly tokens: TokenService;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly stack: SipStack;
  readonly calls: CallManager;
  readonly callStore: CallStore;
  /** Players, recorders, DTMF listeners and transcriber feeds on call legs (one pacer). */
  readonly mediaApps: MediaApps;
  /** Gated facilities (docs/gated.md): `gated.gate` and `gated.meter` are the call path's hooks. */
  readonly gated: GatedModule;
  readonly sessions: SessionStore;
  readonly agents: AgentDirectory;
  readonly numbers: SessionNumberPool;
  readonly media: MediaEngine;
  /** Carrier trunks (`trunks.<id>`); `trunks.setCallHook` decides what answers their calls. */
  readonly trunks: Trunks;
  /** Text to speech and the transcriber (used by flows: say, transcribe). */
  readonly speech: Speech;
  /** Flows on real calls: the runner, queueing, flow events; trunk calls run their DID's flow. */
  readonly telephony: Telephony;
  /** Advertisers, listings, auctions, tracking numbers, billing (its `hooks` are for the call path). */
  readonly marketplace: Marketplace;
  /** Callbacks (docs/callbacks.md): the customer called first, the advertiser after "1". */
  readonly callbacks: CallbacksModule;
  /** Live voicemail (docs/voicemail.md). */
  readonly voicemails: Voicemails;
  /** True from the first `drain()` on. */
  readonly draining: boolean;
  /**
   * Drains, then closes (SIGTERM, docs/scaling.md): OPTIONS are answered 503
   * (a proxy's probing takes the gateway out of its set), new INVITEs are
   * refused 503 `gateway_shutdown`, `/healthz` says draining; the calls in
   * progress get `timeoutMs` (config `drainTimeoutSeconds`) to finish, then
   * the rest are ended with `gateway_shutdown`. Safe twice.
   */
  drain(timeoutMs?: number): Promise<void>;
  /** The state shared with the cluster's other gateways (Redis), and this gateway's instance id. */
  readonly shared: SharedState;
  /** Closes dead gateways' calls (with PostgreSQL and Redis shared; else undefined). */
  readonly lostGateways: LostGatewaySweeper | undefined;
  close(): Promise<void>;
}
