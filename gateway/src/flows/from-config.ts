/**
 * The flow runner from the validated config, for the composition root: the
 * flows of `flows`, prompts from `prompts`, recordings under
 * `storage.recordingsDir`. The adapters (speech, the queue service, the event
 * sinks) are passed in.
 */
import type { Config } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import type { FlowEventSink } from './events.js';
import type { SpeechSynthesizer } from './ports.js';
import type { WaitingQueues } from './queue-port.js';
import { FlowRunner } from './runner.js';
import { PromptLoader } from './runtime/prompts.js';
import { createFlowCatalog, type FlowDefinition } from './sources/catalog.js';

export async function createFlowRunner(
  config: Pick<Config, 'flows' | 'prompts' | 'storage'>,
  deps: {
    speech: SpeechSynthesizer;
    queues?: WaitingQueues;
    sink: FlowEventSink;
    logger: Logger;
    onVerb?: (verb: string, outcome: string, seconds: number) => void;
  },
): Promise<FlowRunner> {
  const catalog = await createFlowCatalog(
    config.flows as Readonly<Record<string, FlowDefinition>>,
    {
      logger: deps.logger,
    },
  );
  return new FlowRunner({
    catalog,
    speech: deps.speech,
    prompts: new PromptLoader(config.prompts),
    queues: deps.queues,
    recordingsDir: config.storage.recordingsDir,
    sink: deps.sink,
    logger: deps.logger,
    ...(deps.onVerb ? { onVerb: deps.onVerb } : {}),
  });
}
