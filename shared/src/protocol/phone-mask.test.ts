import { describe, expect, it } from 'vitest';
import { maskPhone } from './callbacks.js';

describe('maskPhone', () => {
  it('keeps the first two and the last three digits', () => {
    expect(maskPhone('+14155550123')).toBe('+14••••••123');
    expect(maskPhone('+442079460958')).toBe('+44•••••••958');
    expect(maskPhone('0301234567')).toBe('03•••••567');
  });
  it('a short number keeps only its last two digits', () => {
    expect(maskPhone('112')).toBe('•12');
    expect(maskPhone('')).toBe('');
  });
});
