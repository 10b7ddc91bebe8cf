import type { CallStore } from '../../storage/index.js';
import type { CustomerHistory } from './types.js';

const DAY = 86_400_000;

/** Parley's own history of a customer: calls, talk minutes and call-backs within a day. */
export function customerHistory(store: CallStore) {
  return async (
    tenant: string,
    customerId: string,
    sinceMs: number,
    windowDays: number,
  ): Promise<CustomerHistory> => {
    const calls = await store.listByCustomer(tenant, customerId, sinceMs);
    let minutes = 0;
    let answered = 0;
    let repeats = 0;
    calls.forEach((call, i) => {
      if (call.answeredAt !== null) {
        answered += 1;
        minutes += ((call.endedAt ?? call.answeredAt) - call.answeredAt) / 60_000;
      }
      const previous = calls[i - 1];
      if (previous && call.createdAt - previous.createdAt < DAY) repeats += 1;
    });
    return {
      windowDays,
      calls: calls.length,
      answeredCalls: answered,
      minutes: Math.round(minutes * 10) / 10,
      repeatContacts: repeats,
    };
  };
}
