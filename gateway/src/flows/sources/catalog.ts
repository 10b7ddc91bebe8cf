/**
 * Every flow by name, built from the config's `flows` once at start-up:
 * fixed verbs, webhooks, and modules (loaded and checked now, so a broken
 * module stops the gateway with a clear message instead of failing calls).
 */
import type { Logger } from '../../observability/index.js';
import type { Verb } from '../verbs/schema.js';
import { loadFlowModule, ModuleSource } from './module.js';
import { configSource, type FlowSource } from './source.js';
import { WebhookSource } from './webhook.js';

/** A flow as the config gives it (after validation; module paths absolute). */
export type FlowDefinition =
  | readonly Verb[]
  | { readonly verbs: readonly Verb[] }
  | {
      readonly webhook: {
        readonly url: string;
        readonly statusUrl?: string | undefined;
        readonly timeoutMs: number;
        readonly secret?: string | undefined;
        readonly statusEvents: boolean;
        readonly fallback?: string | undefined;
      };
    }
  | {
      readonly module: {
        readonly path: string;
        readonly timeoutMs: number;
        readonly fallback?: string | undefined;
      };
    };

export class FlowCatalog {
  readonly #sources: ReadonlyMap<string, FlowSource>;

  constructor(sources: Iterable<FlowSource>) {
    this.#sources = new Map([...sources].map((s) => [s.name, s]));
  }

  get(name: string): FlowSource | undefined {
    return this.#sources.get(name);
  }

  has(name: string): boolean {
    return this.#sources.has(name);
  }

  get names(): readonly string[] {
    return [...this.#sources.keys()];
  }
}

export async function createFlowCatalog(
  flows: Readonly<Record<string, FlowDefinition>>,
  deps: { logger: Logger; fetch?: typeof fetch; baseDir?: string },
): Promise<FlowCatalog> {
  const sources: FlowSource[] = [];
  for (const [name, flow] of Object.entries(flows)) {
    if (Array.isArray(flow)) {
      sources.push(configSource(name, flow as readonly Verb[]));
    } else if ('verbs' in flow) {
      sources.push(configSource(name, flow.verbs));
    } else if ('webhook' in flow) {
      const w = flow.webhook;
      sources.push(
        new WebhookSource(
          name,
          {
            url: w.url,
            statusUrl: w.statusUrl,
            timeoutMs: w.timeoutMs,
            secret: w.secret,
            statusEvents: w.statusEvents,
            fallback: w.fallback,
          },
          { logger: deps.logger, ...(deps.fetch ? { fetch: deps.fetch } : {}) },
        ),
      );
    } else if ('module' in flow) {
      const fn = await loadFlowModule(flow.module.path, deps.baseDir ?? process.cwd());
      sources.push(
        new ModuleSource(name, fn, {
          timeoutMs: flow.module.timeoutMs,
          fallback: flow.module.fallback,
        }),
      );
    }
  }
  return new FlowCatalog(sources);
}
