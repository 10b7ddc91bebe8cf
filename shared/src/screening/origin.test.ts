import { describe, expect, it } from 'vitest';
import { normaliseOrigin } from './origin.js';

describe('normaliseOrigin', () => {
  it('normalises case, default ports and IDN', () => {
    expect(normaliseOrigin('https://Shop.Example')).toBe('https://shop.example');
    expect(normaliseOrigin('https://shop.example:443')).toBe('https://shop.example');
    expect(normaliseOrigin('http://shop.example:80')).toBe('http://shop.example');
    expect(normaliseOrigin('https://shop.example:8443')).toBe('https://shop.example:8443');
    expect(normaliseOrigin('https://bücher.example')).toBe('https://xn--bcher-kva.example');
    expect(normaliseOrigin('http://[::1]:3000')).toBe('http://[::1]:3000');
  });

  it('refuses what is not an http(s) origin', () => {
    for (const bad of [
      '',
      'null',
      'shop.example',
      'ftp://shop.example',
      'chrome-extension://abcdef',
      'https://shop.example/',
      'https://shop.example/path',
      'https://shop.example?x',
      'https://shop.example#x',
      'https://user:pw@shop.example',
    ]) {
      expect(normaliseOrigin(bad), bad).toBeUndefined();
    }
  });

  it('accepts a trailing slash only when asked (configuration)', () => {
    expect(normaliseOrigin('https://shop.example/', true)).toBe('https://shop.example');
    expect(normaliseOrigin('https://shop.example/a', true)).toBeUndefined();
  });
});
