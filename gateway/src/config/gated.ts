/**
 * `tenants.<id>.gated`: the tenant is a gated facility (S4): its callees are
 * residents reached only by callers on approved inbound calling accounts,
 * through the authenticating server (`gateway/src/gated/`, docs/gated.md).
 * Money is in the currency's minor unit (cents), integers only.
 */
import { z } from 'zod';
import { WEEKDAYS, compileBusinessHours, type BusinessHours } from '@parley/shared/screening';

const HHMM = /^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/;

/**
 * Weekly hours in a time zone (the screening's business hours, reused): when
 * a device may ring. Outside them the device counts as blocked by its schedule.
 */
export const callingHoursSchema = z
  .strictObject({
    /** IANA time zone, e.g. `America/Chicago`. */
    timeZone: z.string().min(1),
    weekly: z.partialRecord(
      z.enum(WEEKDAYS),
      z.array(z.tuple([z.string().regex(HHMM), z.string().regex(HHMM)])).max(24),
    ),
    /** Local dates (`YYYY-MM-DD`) closed all day. */
    closed: z
      .array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/))
      .max(366)
      .optional(),
  })
  .superRefine((hours, ctx) => {
    try {
      compileBusinessHours(hours as BusinessHours, 'callingHours');
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  });
export type CallingHours = z.output<typeof callingHoursSchema>;

/** What callers and residents hear; `{caller}` is replaced by the caller's name. */
const prompts = z
  .strictObject({
    notAvailable: z
      .string()
      .min(1)
      .default('The person you are calling is not available. Goodbye.'),
    enterAccountNumber: z
      .string()
      .min(1)
      .default('Please enter your account number, then press pound.'),
    enterAccountPin: z.string().min(1).default('Please enter your account PIN, then press pound.'),
    chooseResident: z
      .string()
      .min(1)
      .default('Please enter the number of the person you are calling, then press pound.'),
    pleaseWait: z.string().min(1).default('Please wait while we reach the person you are calling.'),
    residentIncoming: z.string().min(1).default('You have a call from {caller}.'),
    residentEnterPin: z
      .string()
      .min(1)
      .default('Enter your PIN, then press pound, to accept the call.'),
    residentWrongPin: z.string().min(1).default('That PIN is not correct.'),
    balanceWarning: z.string().min(1).default('You have one minute remaining.'),
    balanceExhausted: z.string().min(1).default('Your balance is used up. Goodbye.'),
  })
  .prefault({});

const authenticator = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('builtin') }),
  z.strictObject({
    kind: z.literal('http'),
    /** The facility's authenticating server: POST the context, answer `{ allow, … }`. */
    url: z.url(),
    /** Signs each request: `X-Parley-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`. */
    secret: z.string().min(16).optional(),
    /** An answer later than this is a failure. */
    timeoutMs: z.number().int().min(50).max(10_000).default(1000),
    /**
     * On a failure (timeout, error, an answer that is no valid decision):
     * `deny` refuses the call (fail closed); `builtin` lets the built-in checks decide.
     */
    onFailure: z.enum(['deny', 'builtin']).default('deny'),
  }),
]);

export const gatedTenantSchema = z.strictObject({
  /** Who decides: the built-in checks on Parley's own accounts, or the facility's server. */
  authenticator: authenticator.default({ kind: 'builtin' }),
  /** ISO 4217 code of balances and rates. */
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .default('USD'),
  /** Per-minute rate (minor units) of accounts created without their own. */
  defaultRatePerMinute: z.number().int().min(0).max(1_000_000).default(10),
  /** A call rings only when the balance buys at least this many minutes. */
  minimumMinutes: z.number().int().min(1).max(60).default(1),
  pin: z
    .strictObject({
      /** Digits of a resident or account PIN. */
      minLength: z.number().int().min(4).max(12).default(4),
      maxLength: z.number().int().min(4).max(12).default(8),
      /** Wrong PINs in a row before the subject (device, resident, account) is locked. */
      maxFailures: z.number().int().min(1).max(20).default(5),
      /** After a wrong PIN, the next try waits this long, doubling with each failure. */
      delayMs: z.number().int().min(0).max(60_000).default(1000),
      /** How long a lockout lasts. */
      lockoutMinutes: z.number().int().min(1).max(10_080).default(15),
    })
    .prefault({})
    .refine((p) => p.minLength <= p.maxLength, {
      message: 'minLength must not exceed maxLength',
    }),
  /** A resident's sign-in on a Parley resident app lasts this long. */
  signInMinutes: z.number().int().min(1).max(1440).default(480),
  /** The device's proof of a PIN entered on the app (its ticket) is valid this long. */
  ticketSeconds: z.number().int().min(5).max(300).default(60),
  /** An authorisation not followed by its re-verification within this is forgotten. */
  pendingSeconds: z.number().int().min(10).max(600).default(120),
  /** Re-verify connected calls every this many seconds (0: never). */
  reverifyIntervalSeconds: z.number().int().min(0).max(3600).default(0),
  /** PINs keyed by DTMF in one call: a resident's on a SIP phone, a phone caller's account + PIN pairs. */
  dtmfPinAttempts: z.number().int().min(1).max(5).default(3),
  /** Default weekly hours devices may ring (a device's own replace them); absent: any time. */
  callingHours: callingHoursSchema.optional(),
  prompts,
});

export type GatedTenantConfig = z.output<typeof gatedTenantSchema>;
export type GatedPrompts = GatedTenantConfig['prompts'];
