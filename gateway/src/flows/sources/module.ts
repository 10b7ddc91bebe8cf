/**
 * A flow written as the company's own ES module: its default export is a
 * function of a {@link FlowRequest} (the same JSON a webhook gets) returning
 * verbs (or `{ verbs }`, or a promise of either; `undefined` after an action
 * means "go on"). Loaded once at start-up like value modules
 * (`routing/value/module-loader.ts`); a bad module stops the gateway with a
 * clear message. Each call has a time limit; a module that throws, returns
 * nonsense or takes too long gives no verbs and the fallback runs.
 *
 * Like value modules, a module that blocks the event loop (a synchronous
 * endless loop) cannot be stopped by the time limit: that would take a worker.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ParleyError } from '@parley/shared/errors';
import { readAnswer } from './answer.js';
import type { FlowRequest, FlowSource, SourceAnswer } from './source.js';

export type FlowFunction = (request: FlowRequest) => unknown;

export interface ModuleSettings {
  readonly timeoutMs: number;
  readonly fallback: string | undefined;
}

export async function loadFlowModule(path: string, baseDir: string): Promise<FlowFunction> {
  const file = resolve(baseDir, path);
  let loaded: { default?: unknown };
  try {
    loaded = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (error) {
    throw new ParleyError(
      'invalid_config',
      `flow module ${file}: cannot load: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  if (typeof loaded.default !== 'function')
    throw new ParleyError(
      'invalid_config',
      `flow module ${file}: the default export must be a function (request) => verbs`,
    );
  return loaded.default as FlowFunction;
}

export class ModuleSource implements FlowSource {
  readonly kind = 'module' as const;
  readonly name: string;
  readonly fallback: string | undefined;
  readonly #fn: FlowFunction;
  readonly #timeoutMs: number;

  constructor(name: string, fn: FlowFunction, settings: ModuleSettings) {
    this.name = name;
    this.#fn = fn;
    this.#timeoutMs = settings.timeoutMs;
    this.fallback = settings.fallback;
  }

  start(request: FlowRequest, signal: AbortSignal): Promise<SourceAnswer> {
    return this.#ask(request, signal, false);
  }

  action(_hook: true | string, request: FlowRequest, signal: AbortSignal): Promise<SourceAnswer> {
    return this.#ask(request, signal, true);
  }

  async #ask(request: FlowRequest, signal: AbortSignal, isAction: boolean): Promise<SourceAnswer> {
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const limit = new Promise<SourceAnswer>((resolveLimit) => {
      timer = setTimeout(
        () =>
          resolveLimit({
            ok: false,
            reason: 'timeout',
            detail: `no answer in ${this.#timeoutMs} ms`,
          }),
        this.#timeoutMs,
      );
      onAbort = () => resolveLimit({ ok: true, verbs: [] });
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    const work = (async (): Promise<SourceAnswer> => {
      let value: unknown;
      try {
        // A copy: the module cannot change what the gateway holds.
        value = await this.#fn(structuredClone(request));
      } catch (error) {
        return {
          ok: false,
          reason: 'module_threw',
          detail: (error as Error)?.message ?? String(error),
        };
      }
      if (value === undefined && isAction) return { ok: true, verbs: undefined };
      return readAnswer(value, null);
    })();
    try {
      return await Promise.race([work, limit]);
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }
}
