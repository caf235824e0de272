/**
 * The writer thread's entry (started by sqlite-thread.ts): opens its own connection to the database file,
 * prepares one procedure module on it and runs the calls it is sent, one at a time, in order.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteWriteTurns, openSqliteConnection } from './sqlite.ts';
import type { FromThread, ProcedureModule, Procedures, ThreadData, ToThread } from './sqlite-procedures.ts';

const port = parentPort;
if (!port) throw new Error('sqlite-thread-worker.ts runs only as a worker thread');
const data = workerData as ThreadData;
const exported = (await import(data.moduleUrl)) as Record<string, ProcedureModule<Procedures> | undefined>;
const module = exported[data.exportName];
if (!module) throw new Error(`${data.moduleUrl} exports no ${data.exportName}`);
const raw = openSqliteConnection(data.file);
const procedures = module.prepare(raw);
const turns = new SqliteWriteTurns(data.turns);

port.on('message', (message: ToThread) => {
  if ('close' in message) {
    raw.close();
    port.close();
    return;
  }
  let reply: FromThread;
  try {
    const procedure = procedures[message.name];
    if (!procedure) throw new Error(`no procedure ${message.name}`);
    // The main thread goes first when it wants the lock (it may not sleep; this thread may).
    turns.waitForMain();
    // The arguments are what the host's typed `call` was given for this procedure.
    reply = { id: message.id, ok: true, value: procedure(message.args as never) };
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    const code = (e as { code?: unknown }).code;
    reply = {
      id: message.id,
      ok: false,
      error: { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) },
    };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true } satisfies FromThread);
