/** Recognises a unique-constraint violation on every dialect (SQLite, PostgreSQL 23505, MySQL 1062). */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; errno?: unknown };
  return (
    e.code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    e.code === '23505' ||
    e.code === 'ER_DUP_ENTRY' ||
    e.errno === 1062
  );
}

/**
 * A transaction the database gave up to break a lock conflict, which may simply be run again: PostgreSQL
 * deadlock (40P01) or serialization failure (40001), MySQL deadlock (1213) or lock wait timeout (1205).
 */
export function isLockConflict(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; errno?: unknown };
  return e.code === '40P01' || e.code === '40001' || e.errno === 1213 || e.errno === 1205;
}
