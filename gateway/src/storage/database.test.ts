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
