/**
 * The facility's own authenticating server: each stage is a POST of JSON (the
 * question) answered by JSON (the verdict), signed like a webhook:
 *
 *   X-Parley-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>
 *
 * Anything but a well-formed answer in time is a failure, never an allow: a
 * timeout, a refused connection, a non-2xx status, a body that is not JSON or
 * not the schema (an `allow` that is not `true`/`false`, an allow without the
 * resident and devices it lets ring). The Gate then refuses the call or lets
 * the built-in checks decide (`onFailure`). Device presence (registered,
 * signed in, schedule) stays Parley's: the Gate filters the devices a server
 * allows.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { CHECK_NAMES, type Check, type CheckName } from '../decision.js';
import type {
  AuthorizeContext,
  RecheckQuery,
  ResidentPinQuery,
  SignInQuery,
} from './authenticator.js';

export interface HttpHookSettings {
  readonly url: string;
  readonly secret: string | undefined;
  readonly timeoutMs: number;
}

const ID = z.string().min(1).max(128);

/** What the facility's server answers. Unknown keys are ignored; known ones must be right. */
export const hookAnswerSchema = z.object({
  allow: z.boolean(),
  /** On a refusal: which check failed (a PIN check makes it count toward the lockout). */
  failed: z.enum(CHECK_NAMES).optional(),
  detail: z.string().max(200).optional(),
  accountId: ID.optional(),
  residentId: ID.optional(),
  callerName: z.string().min(1).max(64).optional(),
  /** Device addresses that may ring (authorize) or the one checked. */
  devices: z.array(ID).max(20).optional(),
  ratePerMinute: z.number().int().min(0).optional(),
  balance: z.number().int().min(0).optional(),
});
export type HookAnswer = z.output<typeof hookAnswerSchema>;

export type HookQuestion =
  | ({ readonly stage: 'authorize' } & Omit<AuthorizeContext, 'privateClaims'> & {
        readonly claims: Readonly<Record<string, unknown>> | null;
      })
  | ResidentPinQuery
  | RecheckQuery
  | ({ readonly stage: 'sign-in' } & SignInQuery);

export type HookResult =
  | { readonly ok: true; readonly answer: HookAnswer }
  | {
      readonly ok: false;
      readonly reason: 'timeout' | 'unreachable' | 'status' | 'garbage';
      readonly detail: string;
    };

/** The HMAC header of a body, as the facility's server checks it. */
export function hookSignature(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

export class HttpHook {
  readonly #s: HttpHookSettings;
  readonly #now: () => number;

  constructor(settings: HttpHookSettings, now: () => number) {
    this.#s = settings;
    this.#now = now;
  }

  async ask(question: HookQuestion): Promise<HookResult> {
    const body = JSON.stringify(question);
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: 'application/json',
    };
    if (this.#s.secret !== undefined)
      headers['x-parley-signature'] = hookSignature(
        this.#s.secret,
        body,
        Math.floor(this.#now() / 1000),
      );
    const signal = AbortSignal.timeout(this.#s.timeoutMs);
    let text: string;
    try {
      const response = await fetch(this.#s.url, { method: 'POST', headers, body, signal });
      // The body is read under the same deadline: a server that sends headers then stalls times out too.
      text = await response.text();
      if (!response.ok) return { ok: false, reason: 'status', detail: `HTTP ${response.status}` };
    } catch (error) {
      if (signal.aborted)
        return { ok: false, reason: 'timeout', detail: `no answer in ${this.#s.timeoutMs} ms` };
      return { ok: false, reason: 'unreachable', detail: describe(error) };
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return { ok: false, reason: 'garbage', detail: 'the answer is not JSON' };
    }
    const parsed = hookAnswerSchema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return {
        ok: false,
        reason: 'garbage',
        detail: `${issue?.path.join('.') || 'answer'}: ${issue?.message ?? 'invalid'}`,
      };
    }
    const answer = parsed.data;
    if (
      question.stage === 'authorize' &&
      answer.allow &&
      (!answer.residentId || !answer.devices?.length)
    )
      return { ok: false, reason: 'garbage', detail: 'an allow must name residentId and devices' };
    if (question.stage === 'sign-in' && answer.allow && !answer.residentId)
      return { ok: false, reason: 'garbage', detail: 'an allow must name residentId' };
    return { ok: true, answer };
  }
}

/** The checks a server's answer stands for: its own verdict, as one check or its failure. */
export function hookChecks(answer: HookAnswer): Check[] {
  if (answer.allow) return [{ name: 'authenticator', ok: true, detail: 'the facility allowed' }];
  const failed: CheckName = answer.failed ?? 'authenticator';
  const detail = answer.detail ?? 'the facility refused';
  return failed === 'authenticator'
    ? [{ name: 'authenticator', ok: false, detail }]
    : [
        { name: 'authenticator', ok: true, detail: 'the facility answered' },
        { name: failed, ok: false, detail },
      ];
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}
