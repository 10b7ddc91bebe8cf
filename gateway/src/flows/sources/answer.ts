/**
 * Reads what a webhook or module answered: a list of verbs, or `{ verbs }`.
 * Every verb is checked with the flow schema, and an `actionHook` URL must
 * stay on the webhook's own origin (a flow must not make the gateway post
 * the caller's context elsewhere).
 */
import { parseVerbs } from '../verbs/schema.js';
import type { SourceAnswer } from './source.js';

export function readAnswer(value: unknown, hookOrigin: string | null): SourceAnswer {
  const list =
    typeof value === 'object' && value !== null && !Array.isArray(value) && 'verbs' in value
      ? (value as { verbs: unknown }).verbs
      : value;
  const parsed = parseVerbs(list);
  if (!parsed.ok) return { ok: false, reason: parsed.reason, detail: parsed.detail };
  for (const [index, verb] of parsed.verbs.entries()) {
    const hook = 'actionHook' in verb ? verb.actionHook : undefined;
    if (typeof hook !== 'string') continue;
    if (hookOrigin === null)
      return {
        ok: false,
        reason: 'invalid_options',
        detail: `${index}.actionHook: a module flow takes actionHook: true only`,
      };
    if (new URL(hook).origin !== hookOrigin)
      return {
        ok: false,
        reason: 'invalid_options',
        detail: `${index}.actionHook: must be on ${hookOrigin}`,
      };
  }
  return { ok: true, verbs: parsed.verbs };
}
