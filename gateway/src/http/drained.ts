/**
 * Waiting for a response's write buffer to drain, without waiting forever: a
 * client that stops reading and then goes away never drains its response, so
 * a handler streaming a long answer (call entries) would hold what it streams
 * from (the body's parser, the matcher's next chunk) for as long as the
 * process lives.
 */
import type { Writable } from 'node:stream';

/** Resolves true once `out` can take more, false if it closed (the client went away) first. */
export function drained(out: Writable): Promise<boolean> {
  if (out.destroyed || out.writableEnded) return Promise.resolve(false);
  if (!out.writableNeedDrain) return Promise.resolve(true);
  return new Promise((resolve) => {
    const settle = (ok: boolean) => {
      out.off('drain', onDrain);
      out.off('close', onClose);
      resolve(ok);
    };
    const onDrain = () => settle(true);
    const onClose = () => settle(false);
    out.on('drain', onDrain);
    out.on('close', onClose);
  });
}
