/**
 * Waits for something a test cannot await directly (a row a peer wrote, a
 * file growing, a log line): polls `probe` until it returns a value other
 * than `undefined` or `false`, and returns it. Past `timeoutMs` it fails
 * with what it waited for, instead of hanging until the test's own timeout.
 * Await the thing's own event or promise where there is one.
 */
export async function until<T>(
  probe: () => T | false | undefined | Promise<T | false | undefined>,
  what: string,
  timeoutMs = 15_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
