import { describe, expect, it } from 'vitest';
import { migrateModule, openDatabase } from './database.js';

describe('module migrations', () => {
  it('applies each module in order once, and refuses a schema newer than the code', () => {
    const first = {
      name: 'example',
      migrations: ['CREATE TABLE example_a (id INTEGER PRIMARY KEY)'],
    };
    const db = openDatabase(':memory:', [first]);
    const second = {
      name: 'example',
      migrations: [...first.migrations, 'ALTER TABLE example_a ADD COLUMN note TEXT'],
    };
    migrateModule(db, second);
    migrateModule(db, second); // nothing left to do
    db.prepare('INSERT INTO example_a (id, note) VALUES (1, ?)').run('kept');
    expect(db.prepare('SELECT note FROM example_a').pluck().get()).toBe('kept');
    expect(() => migrateModule(db, first)).toThrow(/newer than this gateway knows/);
    db.close();
  });
});

describe('page cache', () => {
  it('is 128 MB unless the config says otherwise, and temporary tables stay in memory', () => {
    const db = openDatabase(':memory:');
    expect(db.pragma('cache_size', { simple: true })).toBe(-128 * 1024);
    expect(db.pragma('temp_store', { simple: true })).toBe(2);
    db.close();
    const small = openDatabase(':memory:', [], { cacheMb: 8 });
    expect(small.pragma('cache_size', { simple: true })).toBe(-8 * 1024);
    small.close();
  });
});
