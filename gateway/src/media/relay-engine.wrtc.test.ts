/**
 * The media engine contract (engine-contract/) on the relay engine: plain RTP
 * relayed in Node, browsers terminated by werift.
 */
import { pino } from 'pino';
import { describeEngineContract, type EngineFactory } from './engine-contract/index.js';
import { describeEndpointContract } from './endpoint-contract.js';
import { createRelayEngine } from './relay-engine.js';

const factory: EngineFactory = (ports) =>
  Promise.resolve(
    createRelayEngine({ address: '127.0.0.1', ...ports, logger: pino({ level: 'silent' }) }),
  );

describeEngineContract('relay', factory);
describeEndpointContract('relay', factory);
