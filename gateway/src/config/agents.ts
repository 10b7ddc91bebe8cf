/**
 * The `agents` section: each agent of the config file, and the values checked
 * in its SIP headers. Where an agent is reached when not through a registered
 * phone or the desk: a fixed SIP `contact` (a PBX extension), or a `phone`
 * number called through the tenant's trunk (docs/trunks.md, "Agents on the
 * telephone network").
 */
import { z } from 'zod';
import { checkAgentContact } from '../sip/message/agent-contact.js';
import { toE164 } from '../trunks/e164.js';
import { voicemailSettings } from './voicemail.js';

/** A SIP URI an agent is reached at: no URI headers, no control characters. */
export const sipContact = z
  .string()
  .max(512)
  .refine((value) => checkAgentContact(value) === undefined, {
    error: (issue) => checkAgentContact(String(issue.input)) ?? 'not a SIP URI',
  });
/** A display name that goes into SIP headers: printable text only. */
export const displayName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[^\p{Cc}\p{Zl}\p{Zp}]+$/u, 'no control characters');

/**
 * A telephone number in E.164 that the trunks' parsing (libphonenumber-js,
 * `trunks/e164.ts`) takes as it is: `+` and digits, a length the country's
 * plan allows.
 */
export const phoneNumber = z
  .string()
  .max(16)
  .refine((value) => toE164(value) === value, {
    error: (issue) =>
      `${JSON.stringify(issue.input)} is no E.164 telephone number (give it as +<country><number>, e.g. +14155550100)`,
  });

export const agent = z
  .strictObject({
    id: z.string().regex(/^[A-Za-z0-9._-]+$/),
    tenant: z.string().min(1),
    /** Digest username (default: id). */
    username: z.string().min(1).optional(),
    password: z.string().min(1),
    displayName: displayName.optional(),
    queues: z.array(z.string().min(1)).min(1),
    /**
     * A fixed contact (a PBX extension, a trunk): the agent is reachable there
     * without registering, e.g. `sip:2001@pbx.example:5060;transport=tcp`.
     */
    contact: sipContact.optional(),
    /**
     * A telephone number the agent answers (a mobile, a landline): rung
     * through the tenant's trunk with the web session's number as caller ID,
     * reachable without registering. Not with `contact`.
     */
    phone: phoneNumber.optional(),
    /** With `phone`: `trunks.<id>` to call it through (default: the tenant's first outbound trunk). */
    trunk: z.string().min(1).optional(),
    /** Seniority band queues match to customer value (`senior`, `junior`…). */
    tier: z.string().optional(),
    skills: z.array(z.string()).optional(),
    /** Overrides sip.digestAlgorithms for this agent's phone. */
    digestAlgorithms: z
      .array(z.enum(['SHA-256', 'MD5']))
      .min(1)
      .optional(),
    /** Calls at once before the agent counts as busy. */
    maxCalls: z.number().int().min(1).max(10).default(1),
    /** The agent's own box: a direct call (a flow's `dial` of this agent) they do not answer (docs/voicemail.md). */
    voicemail: voicemailSettings.optional(),
  })
  .superRefine((entry, ctx) => {
    if (entry.contact !== undefined && entry.phone !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['phone'],
        message:
          'give either contact (a SIP URI the gateway sends the INVITE to) or phone (a number called through a trunk), not both',
      });
    if (entry.trunk !== undefined && entry.phone === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['trunk'],
        message: 'trunk names the trunk a phone agent is called through: give phone too',
      });
  });
