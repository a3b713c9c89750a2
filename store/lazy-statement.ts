// A statement that SQLite compiles when it first runs rather than when the store opens: a start
// then compiles only the statements it runs. Compiling all of them at open took some 2 ms of
// every start without the JIT, most of them for OCPP, which many chargers never use.
import type { Database, SQLQueryBindings, Statement } from "bun:sqlite";

/** What the store uses of a statement. */
export type LazyStatement<R, P extends SQLQueryBindings[]> = Pick<Statement<R, P>, "get" | "all" | "run">;

// `any[]` as Database.query's own type has it, so that the statement types are the same.
type Params<P> = P extends any[] ? P : [P];

export function lazyStatement<R, P extends SQLQueryBindings | SQLQueryBindings[]>(db: Database, sql: string): LazyStatement<R, Params<P>> {
  let compiled: Statement<R, Params<P>> | null = null;
  const statement = (): Statement<R, Params<P>> => (compiled ??= db.query<R, P>(sql));
  return {
    get: (...params) => statement().get(...params),
    all: (...params) => statement().all(...params),
    run: (...params) => statement().run(...params),
  };
}
