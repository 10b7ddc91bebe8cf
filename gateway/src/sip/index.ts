export {
  SipStack,
  ALLOWED_METHODS,
  type DialogUsage,
  type InviteHandler,
  type RegisterHandler,
  type StatelessScreen,
  type SipStackOptions,
} from './sip-stack.js';
export { Dialog, dialogId, uriTarget } from './dialog/dialog.js';
export * from './message/index.js';
export type { Flow, Target, SipProtocol, Endpoint, TcpLimits } from './transport/index.js';
export {
  addressList,
  inList,
  clientOf,
  EdgeTrust,
  EDGE_ORIGIN_HEADER,
  EDGE_SOURCE_HEADER,
  type RequestClient,
} from './transport/index.js';
export type {
  ServerTransaction,
  ClientTransaction,
  InviteClientTransaction,
  InviteServerTransaction,
  TimerBase,
} from './transaction/index.js';
