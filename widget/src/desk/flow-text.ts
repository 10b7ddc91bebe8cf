/**
 * What the desk says about a call's flow before it reached the agent (the
 * phone menu, a recording, what the caller said): one line per stored flow
 * event, no DOM, so it is unit-tested and the element only lists the lines.
 */
import type { FlowEvent, VerbResults } from '@parley/shared/protocol';

/**
 * What a verb that just started is doing (the desk's live view of a flow,
 * `flow` frames): "Playing a prompt", "Waiting for keys", "Dialling agent1"…
 */
export function verbStartText(event: FlowEvent): string | undefined {
  if (event.type !== 'verb.start') return undefined;
  const o = event.options;
  switch (event.verb) {
    case 'say':
    case 'play':
      return 'Playing a prompt';
    case 'gather':
      return 'Waiting for keys';
    case 'record':
      return 'Recording the caller';
    case 'transcribe':
      return 'Transcribing';
    case 'dial':
      return `Dialling ${dialTargetText(o['target'])}`;
    case 'enqueue':
      return `Joining queue ${String(o['queue'] ?? '')}`.trim();
    case 'pause':
      return 'Pausing';
    case 'hangup':
      return 'Hanging up';
    case 'redirect':
      return `Going to flow ${String(o['flow'] ?? '')}`.trim();
    case 'voicemail':
      return 'Recording a voicemail';
    case 'gate':
      return 'Asking the facility’s gate';
  }
}

function dialTargetText(target: unknown): string {
  if (typeof target !== 'object' || target === null) return '';
  const t = target as Record<string, unknown>;
  const name = t['agent'] ?? t['queue'] ?? t['number'] ?? t['uri'];
  return typeof name === 'string' ? name : '';
}

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
