/**
 * What the desk says about a call's flow before it reached the agent (the
 * phone menu, a recording, what the caller said): one line per stored flow
 * event, no DOM, so it is unit-tested and the element only lists the lines.
 */
import type { FlowEvent, VerbResults } from '@parley/shared/protocol';

/** The line for one flow event; undefined for events the desk does not show (verb starts). */
export function flowStepText(event: FlowEvent): string | undefined {
  switch (event.type) {
    case 'verb.result':
      return resultText(event.verb, event.result);
    case 'verb.error':
      return `${event.verb} failed (${event.error.code})`;
    case 'source.error':
      return `The flow could not be loaded (${event.reason}); ${event.fallback} ran instead`;
    case 'transcript.final':
      return `Said: “${event.text}”`;
    case 'transcript.error':
      return `Transcription failed (${event.error.code})`;
    default:
      return undefined;
  }
}

function resultText(verb: string, result: unknown): string {
  const r = result as Partial<VerbResults[keyof VerbResults]> & Record<string, unknown>;
  if (r['status'] === 'hangup') return `Hung up during ${verb}`;
  switch (verb) {
    case 'say':
    case 'play':
      return r['status'] === 'interrupted' && typeof r['key'] === 'string'
        ? `Pressed ${r['key']} during a prompt`
        : 'Heard a prompt';
    case 'gather': {
      const digits = typeof r['digits'] === 'string' ? r['digits'] : '';
      return digits ? `Pressed ${digits}` : 'Pressed no key';
    }
    case 'record': {
      const seconds = typeof r['durationSeconds'] === 'number' ? r['durationSeconds'] : 0;
      return `Left a recording (${Math.round(seconds)} s)`;
    }
    case 'dial':
      return `Dialled: ${String(r['status'])}${typeof r['answeredBy'] === 'string' ? ` (${r['answeredBy']})` : ''}`;
    case 'enqueue':
      return `Waited in ${String(r['queue'])}: ${String(r['status'])}, ${Math.round(Number(r['waitSeconds'] ?? 0))} s`;
    case 'voicemail':
      return `Voicemail: ${String(r['status'])}`;
    case 'transcribe':
      return typeof r['text'] === 'string' && r['text'] ? `Said: “${r['text']}”` : 'Transcribed';
    default:
      return `${verb}: ${String(r['status'])}`;
  }
}
