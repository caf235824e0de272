import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.ts';
import { openDatabase } from './connect.ts';
import { SQLITE_CACHE_MIB } from './sqlite.ts';
import { createTestDatabase } from './testing.ts';

/** The page cache's size in KiB of the server's connection to a fresh file, opened with `options`. */
async function cacheKiB(options: Parameters<typeof openDatabase>[1]): Promise<number> {
  const file = await createTestDatabase('sqlite');
  const database = openDatabase(file.url, options);
  try {
    const { rows } = await sql<{ cache_size: number }>`pragma cache_size`.execute(database.db);
    // SQLite reports a size in KiB as a negative number.
    return -(rows[0]?.cache_size ?? 0);
  } finally {
    await database.close();
    await file.drop();
  }
}

describe('the SQLite connection', () => {
  it('keeps a page cache of the stated size, and of the configured one', async () => {
    expect(await cacheKiB({})).toBe(SQLITE_CACHE_MIB * 1024);
    expect(await cacheKiB({ sqliteCacheMiB: 2 })).toBe(2 * 1024);
  });

  it('takes its size from CANOPY_SQLITE_CACHE_MIB', () => {
    expect(loadConfig({}).sqliteCacheMiB).toBe(SQLITE_CACHE_MIB);
    expect(loadConfig({ CANOPY_SQLITE_CACHE_MIB: '64' }).sqliteCacheMiB).toBe(64);
    expect(() => loadConfig({ CANOPY_SQLITE_CACHE_MIB: '0' })).toThrow(/CANOPY_SQLITE_CACHE_MIB/);
    expect(() => loadConfig({ CANOPY_SQLITE_CACHE_MIB: 'lots' })).toThrow(/CANOPY_SQLITE_CACHE_MIB/);
  });
});
