/** Queue definitions from the validated config (`queues.<name>`), business hours compiled. */
import { compileBusinessHours, type BusinessHours } from '@parley/shared/screening';
import type { Config } from '../config/index.js';
import type { QueueDefinition } from './queue-service.js';

export function queueDefinitions(
  config: Pick<Config, 'queues' | 'tenants'>,
): Record<string, QueueDefinition> {
  return Object.fromEntries(
    Object.entries(config.queues).map(([name, q]) => [
      name,
      {
        tenant: q.tenant,
        ringTimeoutSeconds: q.ringTimeoutSeconds,
        waiting: q.waiting,
        flows: q.flows ?? {},
        voicemail: q.voicemail !== undefined,
        defaultFlow: config.tenants[q.tenant]?.defaultFlow,
        businessHours: q.businessHours
          ? compileBusinessHours(
              {
                timeZone: q.businessHours.timeZone, // The config's DeepReadonly turns the [start, end] tuples into lists; the schema checked them.
                weekly: q.businessHours.weekly as BusinessHours['weekly'],
                closed: q.businessHours.closed,
              },
              `queues.${name}.businessHours`,
            )
          : undefined,
      } satisfies QueueDefinition,
    ]),
  );
}
