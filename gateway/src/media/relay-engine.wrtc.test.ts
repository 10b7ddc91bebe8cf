/**
 * The media engine contract (engine-contract.ts) on the relay engine: plain RTP
 * relayed in Node, browsers terminated by werift.
 */
import { pino } from 'pino';
import { describeEngineContract } from './engine-contract.js';
import { createRelayEngine } from './relay-engine.js';

describeEngineContract('relay', (ports) =>
  Promise.resolve(
    createRelayEngine({ address: '127.0.0.1', ...ports, logger: pino({ level: 'silent' }) }),
  ),
);
