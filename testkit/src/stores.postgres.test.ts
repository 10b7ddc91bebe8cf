import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type Postgres } from './postgres.js';

describe('startPostgres', () => {
  let pg: Postgres;
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.stop();
  });

  it('answers SQL on its port, and makes databases', async () => {
    expect((await pg.psql('SELECT 40 + 2')).trim()).toBe('42');
    const url = await pg.createDatabase('second');
    expect(url).toBe(`postgres://parley@127.0.0.1:${pg.port}/second`);
    expect((await pg.psql('SELECT current_database()', 'second')).trim()).toBe('second');
  });
});
