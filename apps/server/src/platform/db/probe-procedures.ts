/** Procedures over `probe_items` (probe-repository.ts) that exercise the writer thread in sqlite-thread.int.test.ts. */
import type SQLite from 'better-sqlite3';
import type { ProcedureModule } from './sqlite-procedures.ts';

interface ProbeProcedures {
  [name: string]: (args: { tenantId: string; id: string }) => unknown;
  add(args: { tenantId: string; id: string }): number;
  /** Ends the thread in the middle of a call, as a crash would. */
  crash(args: { tenantId: string; id: string }): never;
}

export const probeProcedures: ProcedureModule<ProbeProcedures> = {
  url: import.meta.url,
  exportName: 'probeProcedures',
  prepare(raw: SQLite.Database): ProbeProcedures {
    const insert = raw.prepare<[string, string, string, number]>(
      'insert into probe_items (tenant_id, id, label, created_at) values (?, ?, ?, ?)',
    );
    const count = raw.prepare<[string], { n: number }>(
      'select count(*) as n from probe_items where tenant_id = ?',
    );
    const add = raw.transaction(({ tenantId, id }: { tenantId: string; id: string }) => {
      insert.run(tenantId, id, 'from the writer thread', 0);
      return count.get(tenantId)?.n ?? 0;
    });
    return {
      add: (args) => add.immediate(args),
      crash: () => process.exit(7),
    };
  },
};
