/**
 * The media engine contract (engine-contract/) on the mediasoup engine: one
 * worker built with scripts/mediasoup-worker-build.sh (scripts/setup.sh installs
 * it); counters read every 200 ms so the contract's stats checks need not wait.
 */
import { pino } from 'pino';
import { describeEngineContract, type EngineFactory } from '../engine-contract/index.js';
import { describeEndpointContract } from '../endpoint-contract.js';
import { createMediasoupEngine } from './engine.js';

const factory: EngineFactory = (ports) =>
  createMediasoupEngine({
    address: '127.0.0.1',
    ...ports,
    workers: 1,
    statsIntervalMs: 200,
    logger: pino({ level: process.env['PARLEY_TEST_LOG'] ?? 'silent' }),
  });

describeEngineContract('mediasoup', factory);
describeEndpointContract('mediasoup', factory);
