/** A CodedError given its code's entry is what a ParleyError of the code is. */
import { describe, expect, it } from 'vitest';
import { CodedError } from './coded-error.js';
import { WIDGET_CODES } from './codes/widget.js';
import { ParleyError, isParleyError } from './parley-error.js';

describe('CodedError', () => {
  it('answers like the ParleyError of its code', () => {
    for (const [detail, expose] of [
      [undefined, false],
      ['too large', false],
      ['too large', true],
    ] as const) {
      const coded = new CodedError('message_rejected', WIDGET_CODES.message_rejected, detail, {
        expose,
      });
      const parley = new ParleyError('message_rejected', detail, { expose });
      expect(coded.message).toBe(parley.message);
      expect([coded.code, coded.detail, coded.exposeDetail]).toEqual([
        parley.code,
        parley.detail,
        parley.exposeDetail,
      ]);
      expect([coded.httpStatus, coded.sipStatus]).toEqual([400, 400]);
      expect([parley.httpStatus, parley.sipStatus]).toEqual([400, 400]);
      expect(coded.toJSON()).toEqual(parley.toJSON());
    }
  });

  it('keeps the cause, and is no ParleyError', () => {
    const cause = new Error('socket');
    const coded = new CodedError('call_failed', WIDGET_CODES.call_failed, 'x', { cause });
    expect(coded.cause).toBe(cause);
    expect(coded).toBeInstanceOf(Error);
    expect(isParleyError(coded)).toBe(false);
    expect(isParleyError(new ParleyError('call_failed'))).toBe(true);
  });
});
