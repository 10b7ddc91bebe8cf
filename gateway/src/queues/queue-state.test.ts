/** The queue state contract (queue-state-contract.ts) on the in-memory state of one gateway. */
import { MemoryQueueState } from './queue-state.js';
import { describeQueueStateContract } from './queue-state-contract.js';

describeQueueStateContract('memory', () => {
  const state = new MemoryQueueState();
  return Promise.resolve({ a: state, b: state, close: () => Promise.resolve() });
});
