/** CSeq (RFC 3261 §20.16): a sequence number below 2**31 and the request method. */
import { SipParseError, excerpt } from './sip-parse-error.js';
import { isToken, isWsp, trimWsp } from './lexer.js';

export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

/** RFC 3261 §8.1.1.5: the sequence number MUST be less than 2**31. */
export const MAX_CSEQ = 2 ** 31 - 1;

export function parseCSeq(value: string): CSeq {
  const v = trimWsp(value);
  let i = 0;
  while (i < v.length && v.charCodeAt(i) >= 0x30 && v.charCodeAt(i) <= 0x39) i++;
  const digits = v.slice(0, i);
  if (i === 0 || !isWsp(v.charCodeAt(i)))
    throw new SipParseError(`CSeq: bad value ${excerpt(value)}`);
  const method = trimWsp(v.slice(i));
  if (!isToken(method)) throw new SipParseError(`CSeq: bad method in ${excerpt(value)}`);
  // Leading zeros are allowed (RFC 4475 §3.1.1.1); the value is what is bounded.
  const significant = digits.replace(/^0+(?=\d)/, '');
  if (significant.length > 10 || Number(significant) > MAX_CSEQ) {
    throw new SipParseError(`CSeq: sequence number ${excerpt(digits, 24)} is not below 2**31`);
  }
  return { seq: Number(significant), method };
}

export function formatCSeq(cseq: CSeq): string {
  if (!Number.isInteger(cseq.seq) || cseq.seq < 0 || cseq.seq > MAX_CSEQ)
    throw new TypeError(`bad CSeq number ${cseq.seq}`);
  if (!isToken(cseq.method)) throw new TypeError(`bad CSeq method ${cseq.method}`);
  return `${cseq.seq} ${cseq.method}`;
}
