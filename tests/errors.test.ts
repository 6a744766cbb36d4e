import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { describe, expect, test } from 'vitest';
import { UserError, explainFailure } from '../src/errors.js';
import { tempDir } from './audience/databases.js';

describe('explainFailure', () => {
  test('says a database locked by another process in one line, keeping what SQLite said as the cause', async () => {
    const file = join(await tempDir(), 'locked.db');
    const holder = new BetterSqlite3(file);
    holder.pragma('journal_mode = WAL');
    holder.exec('CREATE TABLE t (x)');
    holder.exec('BEGIN IMMEDIATE');
    const waiter = new BetterSqlite3(file, { timeout: 0 });
    let failure: unknown;
    try {
      waiter.exec('BEGIN IMMEDIATE');
    } catch (error) {
      failure = error;
    } finally {
      waiter.close();
      holder.close();
    }
    const explained = explainFailure(failure);
    expect(explained).toBeInstanceOf(UserError);
    expect(explained).toMatchObject({ code: 'database-busy', cause: failure });
    expect(explained!.message).toMatch(/locked: another process has held its write lock/);
  });

  test('knows a full disk and the variants of a known code; leaves anything else to be reported as a bug', () => {
    expect(explainFailure(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }))?.code).toBe('disk-full');
    expect(explainFailure(Object.assign(new Error('write failed'), { code: 'ENOSPC' }))?.code).toBe('disk-full');
    expect(explainFailure(Object.assign(new Error('snapshot'), { code: 'SQLITE_BUSY_SNAPSHOT' }))?.code).toBe('database-busy');
    expect(explainFailure(new TypeError('x is undefined'))).toBeUndefined();
    expect(explainFailure(Object.assign(new Error('constraint'), { code: 'SQLITE_CONSTRAINT_CHECK' }))).toBeUndefined();
    const own = new UserError('bad input');
    expect(explainFailure(own)).toBe(own);
  });
});
