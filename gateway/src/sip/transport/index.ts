export {
  TransportLayer,
  type ListenerConfig,
  type Target,
  type TransportLayerOptions,
} from './transport-layer.js';
export { formatEndpoint, isReliable, type Endpoint, type Flow, type SipProtocol } from './flow.js';
export { addressList, inList } from './address-list.js';
export type { TcpLimits } from './tcp-transport.js';
export {
  EDGE_ORIGIN_HEADER,
  EDGE_SOURCE_HEADER,
  EdgeTrust,
  clientOf,
  parseEdgeSource,
  type RequestClient,
} from './edge.js';
