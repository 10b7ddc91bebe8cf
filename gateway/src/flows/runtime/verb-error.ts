import type { VerbFailure } from '../verbs/results.js';

/** A verb that could not run: becomes its `verb.error` event; the flow goes on. */
export class VerbError extends Error {
  override readonly name = 'VerbError';
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What any error thrown by a verb or a port becomes in the record. */
export function verbFailure(error: unknown): VerbFailure {
  if (error instanceof VerbError) return { code: error.code, message: error.message };
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return {
    code: typeof code === 'string' && /^[a-z][a-z0-9_]*$/.test(code) ? code : 'verb_failed',
    message: message.slice(0, 500),
  };
}
