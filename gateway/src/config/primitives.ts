/** Value schemas several sections of the configuration share. */
import { z } from 'zod';

export const port = z.number().int().min(0).max(65535);

export const e164 = z.string().regex(/^\+[1-9]\d{1,14}$/, 'an E.164 number, e.g. +14155550100');

export const e164Range = z.strictObject({ from: e164, to: e164 });
