/**
 * The estimated wait of a caller at `position` (1 is next): `position ×
 * AHT / N`, N the agents staffing the queue and AHT their mean recent handle
 * time. Why: with handle times taken as exponential (memoryless), each of N
 * busy agents still needs AHT on average, the first of them is free after
 * AHT / N, and every later one after another AHT / N; the caller at
 * `position` gets the `position`-th agent to come free. Without a handle
 * time yet (a new queue), the queue's `defaultHandleSeconds`. Without a staffed
 * agent there is no estimate (null): nobody is coming.
 */
export function estimatedWaitSeconds(
  position: number,
  staffing: { readonly agents: number; readonly meanHandleSeconds: number | undefined },
  defaultHandleSeconds: number,
): number | null {
  if (staffing.agents <= 0 || position < 1) return null;
  const handle = staffing.meanHandleSeconds ?? defaultHandleSeconds;
  return Math.round((position * handle) / staffing.agents);
}
