import { describe, expect, it } from 'vitest';
import { isParleyError } from '../errors/index.js';
import { turnRestCredentials, turnUserName } from './index.js';

const secret = 'abcdefghijklmnopqrstuvwx';
const urls = ['turn:127.0.0.1:3478?transport=udp'];

describe('turnRestCredentials', () => {
  it('makes the username expiry:user and the password base64(HMAC-SHA1(secret, username))', () => {
    // Expected value from: printf '1700000600:parley' | openssl dgst -sha1 -hmac <secret> -binary | base64
    const c = turnRestCredentials({ secret, urls, ttlSeconds: 600, now: 1_700_000_000_000 });
    expect(c).toEqual({
      urls,
      username: '1700000600:parley',
      credential: 'wbtxPmgvIVnQOikEXBE02uzGzLk=',
      expiresAt: new Date(1_700_000_600_000),
    });
  });

  it('puts the user after the expiry', () => {
    const c = turnRestCredentials({ secret, urls, ttlSeconds: 60, user: 'acme', now: 0 });
    expect(c.username).toBe('60:acme');
  });

  it.each([
    ['acme', 'acme'],
    ['a:b', 'a_b'],
    ['tenant with spaces', 'tenant_with_spaces'],
    ['caf\u00e9', 'caf_'],
    ['x'.repeat(100), 'x'.repeat(64)],
    ['', 'parley'],
  ])('turns the name %j into the user %j, which it then accepts', (name, user) => {
    expect(turnUserName(name)).toBe(user);
    const c = turnRestCredentials({
      secret,
      urls,
      ttlSeconds: 60,
      user: turnUserName(name),
      now: 0,
    });
    expect(c.username).toBe(`60:${user}`);
  });

  it.each([
    [{ secret: 'short', urls, ttlSeconds: 60 }, /secret/],
    [{ secret, urls: [], ttlSeconds: 60 }, /urls/],
    [{ secret, urls: ['stun:127.0.0.1'], ttlSeconds: 60 }, /urls/],
    [{ secret, urls, ttlSeconds: 0 }, /ttlSeconds/],
    [{ secret, urls, ttlSeconds: 1.5 }, /ttlSeconds/],
    [{ secret, urls, ttlSeconds: 60, user: 'a:b' }, /user/],
    [{ secret, urls, ttlSeconds: 60, user: '' }, /user/],
    [{ secret, urls, ttlSeconds: 60, user: 'x'.repeat(65) }, /user/],
    [{ secret, urls, ttlSeconds: 60, user: 'caf\u00e9' }, /user/],
    [{ secret, urls, ttlSeconds: 60, user: 'a\r\nb' }, /user/],
    [{ secret, urls, ttlSeconds: 60, now: Number.NaN }, /now/],
  ])('refuses bad options with invalid_config (%#)', (options, message) => {
    let error: unknown;
    try {
      turnRestCredentials(options);
    } catch (e) {
      error = e;
    }
    expect(isParleyError(error) && error.code === 'invalid_config').toBe(true);
    expect((error as Error).message).toMatch(message);
  });
});
