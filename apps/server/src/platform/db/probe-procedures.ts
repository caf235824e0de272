/** Procedures over `probe_items` (probe-repository.ts) that exercise the procedure host in sqlite-procedures.int.test.ts. */
import type SQLite from 'better-sqlite3';
import type { ProcedureModule } from './sqlite-procedures.ts';

interface ProbeProcedures {
  [name: string]: (args: { tenantId: string; id: string }) => unknown;
  add(args: { tenantId: string; id: string }): number;
}

export const probeProcedures: ProcedureModule<ProbeProcedures> = {
  prepare(raw: SQLite.Database): ProbeProcedures {
    const insert = raw.prepare<[string, string, string, number]>(
      'insert into probe_items (tenant_id, id, label, created_at) values (?, ?, ?, ?)',
    );
    const count = raw.prepare<[string], { n: number }>(
      'select count(*) as n from probe_items where tenant_id = ?',
    );
    const add = raw.transaction(({ tenantId, id }: { tenantId: string; id: string }) => {
      insert.run(tenantId, id, 'from a procedure', 0);
      return count.get(tenantId)?.n ?? 0;
    });
    return { add: (args) => add.immediate(args) };
  },
};
