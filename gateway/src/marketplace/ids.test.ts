import { describe, expect, it } from 'vitest';
import { isId, newId } from './ids.js';

describe('isId', () => {
  it('knows the shape newId gives, and nothing else', () => {
    const id = newId('ls');
    expect(isId('ls', id)).toBe(true);
    expect(isId('ad', id)).toBe(false);
    expect(isId('ls', `${id}x`)).toBe(false);
    expect(isId('ls', 'ls_abc')).toBe(false);
    expect(isId('ls', "ls_'; DROP--x.")).toBe(false);
    expect(isId('ls', 'sales')).toBe(false);
  });
});
