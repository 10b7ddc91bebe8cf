/**
 * Last-resort cleanup when the test process exits (a failing test, a crashed
 * worker, `process.exit()` from a runner): every child process group is killed
 * and every port lock is removed, synchronously, from one `exit` listener.
 *
 * This is the testkit's only module-level state, on purpose: the `exit` event
 * belongs to the whole process, and one listener for everything avoids
 * MaxListenersExceeded warnings when a benchmark starts hundreds of peers.
 * Orderly teardown (`stop()`, `stopAll()`) does not depend on it.
 */
type SyncCleanup = () => void;

const exitCleanups = new Set<SyncCleanup>();
let hooked = false;

function runExitCleanups(): void {
  for (const fn of [...exitCleanups]) {
    try {
      fn();
    } catch {
      // Exit path: nothing useful can be done with a failure here.
    }
  }
  exitCleanups.clear();
}

/**
 * Runs `fn` (synchronously) when the process exits, unless the returned
 * function is called first.
 */
export function onProcessExit(fn: SyncCleanup): () => void {
  if (!hooked) {
    hooked = true;
    process.on('exit', runExitCleanups);
  }
  exitCleanups.add(fn);
  return () => {
    exitCleanups.delete(fn);
  };
}
