/**
 * Which gateway instances are gone: those, among the ones a database still
 * names (open calls, voicemails left `recording`, rows in a shared index),
 * whose lease in Redis lapsed (`GatewayPresence.alive`, docs/scaling.md).
 */

/** Whether an instance holds its lease (`GatewayPresence.alive`). */
export type InstanceAlive = (instance: string) => Promise<boolean>;

/**
 * The candidates whose lease lapsed, in order. Each is asked when reached,
 * so a caller that works on one before taking the next asks about the next
 * after that work (a lease renewed meanwhile counts). Ends early once
 * `stopped()` says so (a sweeper closing).
 */
export async function* lapsedInstances(
  candidates: Iterable<string>,
  alive: InstanceAlive,
  stopped: () => boolean = () => false,
): AsyncGenerator<string, void, undefined> {
  for (const instance of candidates) {
    if (stopped()) return;
    if (!(await alive(instance))) yield instance;
  }
}

/** {@link lapsedInstances} all at once. */
export async function lapsedInstanceList(
  candidates: Iterable<string>,
  alive: InstanceAlive,
): Promise<string[]> {
  const lapsed: string[] = [];
  for await (const instance of lapsedInstances(candidates, alive)) lapsed.push(instance);
  return lapsed;
}
