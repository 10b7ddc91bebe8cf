/** What a probe gives while the thing waited for is not there yet. */
type NotYet = false | null | undefined;

/**
 * Waits for something a test cannot await directly (a row a peer wrote, a
 * file growing, a log line): polls `probe` until it returns a value other
 * than `undefined`, `null` or `false`, and returns it. `null` is "not yet"
 * because records and APIs say "not set" with it (a leg's `ringingAt` before
 * the 180): a probe that reads such a field waits for its value. A wait for
 * something to become null or absent says so (`row === null ? 'gone' : undefined`).
 * Past `timeoutMs` it fails with what it waited for, instead of hanging until
 * the test's own timeout. Await the thing's own event or promise where there is one.
 */
export async function until<T>(
  probe: () => T | NotYet | Promise<T | NotYet>,
  what: string,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<Exclude<T, NotYet>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== null && value !== false)
      return value as Exclude<T, NotYet>;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
