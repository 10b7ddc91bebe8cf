import { describe, expect, it } from 'vitest';
import { sipWebSocketUrl } from './gateway-url.js';

describe('sipWebSocketUrl', () => {
  const page = 'https://shop.example/products/1';
  it.each([
    ['http://127.0.0.1:5080', 'ws://127.0.0.1:5080/sip'],
    ['https://gw.example', 'wss://gw.example/sip'],
    ['https://gw.example/parley/', 'wss://gw.example/parley/sip'],
    ['wss://gw.example/custom', 'wss://gw.example/custom'],
    ['/gateway', 'wss://shop.example/gateway/sip'],
  ])('%s → %s', (url, expected) => {
    expect(sipWebSocketUrl(url, page)).toBe(expected);
  });

  it('refuses what is not a web URL', () => {
    expect(sipWebSocketUrl('ftp://gw.example', page)).toBeUndefined();
    expect(sipWebSocketUrl('http://[bad', page)).toBeUndefined();
  });
});
