import { describe, expect, it } from 'vitest';
import { DidTable } from './did-table.js';
import { SourceAcl } from './source-acl.js';

describe('DidTable', () => {
  const table = new DidTable([
    { from: '+14155550100', to: '+14155550199', tenant: 'acme', flow: 'main' },
    { number: '+14155550142', tenant: 'acme', flow: 'sales' },
    { from: '+14155550100', to: '+14155550299', tenant: 'other', flow: 'x' },
    { number: '+442079460000', tenant: 'uk', flow: 'uk-main' },
  ]);

  it('routes single numbers before blocks, and blocks in order', () => {
    expect(table.lookup('+14155550142')).toEqual({ tenant: 'acme', flow: 'sales' });
    expect(table.lookup('+14155550100')).toEqual({ tenant: 'acme', flow: 'main' });
    expect(table.lookup('+14155550250')).toEqual({ tenant: 'other', flow: 'x' });
    expect(table.lookup('+442079460000')).toEqual({ tenant: 'uk', flow: 'uk-main' });
  });

  it('knows nothing else', () => {
    expect(table.lookup('+14155550300')).toBeUndefined();
    expect(table.lookup('+1415555010')).toBeUndefined();
    expect(table.lookup('4155550100')).toBeUndefined();
  });
});

describe('SourceAcl', () => {
  const acl = new SourceAcl(['127.0.0.2', '192.0.2.0/24', '2001:db8::/32', 'carrier.example']);

  it('admits the listed addresses and networks only', () => {
    expect(acl.allows('127.0.0.2')).toBe(true);
    expect(acl.allows('192.0.2.77')).toBe(true);
    expect(acl.allows('::ffff:192.0.2.77')).toBe(true);
    expect(acl.allows('2001:db8::5')).toBe(true);
    expect(acl.allows('127.0.0.3')).toBe(false);
    expect(acl.allows('198.51.100.1')).toBe(false);
    expect(acl.allows('carrier.example')).toBe(false);
  });
});
