/**
 * A typed wrapper over a Durable Object's SQLite: placeholders only, rows typed by the caller,
 * and failures that name the statement (never shown to clients, only logged).
 */

type Binding = string | number | null | ArrayBuffer;

/** A SQLite error with the statement that raised it. */
export class SqlError extends Error {
  override readonly name = "SqlError";
  readonly statement: string;
  constructor(statement: string, cause: unknown) {
    super(`${cause instanceof Error ? cause.message : String(cause)} in: ${statement}`, { cause });
    this.statement = statement;
  }
}

export class Sql {
  private readonly storage: SqlStorage;
  constructor(storage: SqlStorage) {
    this.storage = storage;
  }

  /** Every row of a query. */
  all<Row extends Record<string, SqlStorageValue>>(statement: string, ...bindings: Binding[]): Row[] {
    return this.cursor<Row>(statement, bindings).toArray();
  }

  /** The first row of a query, or undefined. */
  one<Row extends Record<string, SqlStorageValue>>(
    statement: string,
    ...bindings: Binding[]
  ): Row | undefined {
    return this.cursor<Row>(statement, bindings).toArray()[0];
  }

  /** Runs a statement. */
  run(statement: string, ...bindings: Binding[]): void {
    this.cursor(statement, bindings);
  }

  /**
   * Runs an INSERT, UPDATE or DELETE and returns how many rows it changed. (The cursor's
   * `rowsWritten` counts index entries too: two rows into a table with three indexes read 8.)
   */
  count(statement: string, ...bindings: Binding[]): number {
    this.cursor(statement, bindings);
    return this.one<{ n: number }>("SELECT changes() AS n")?.n ?? 0;
  }

  private cursor<Row extends Record<string, SqlStorageValue>>(
    statement: string,
    bindings: Binding[],
  ): SqlStorageCursor<Row> {
    try {
      return this.storage.exec<Row>(statement, ...bindings);
    } catch (err) {
      throw new SqlError(statement, err);
    }
  }
}

/**
 * Brings the schema up to date: `steps[i]` moves it from version i to i + 1. Idempotent; run
 * once per object start, inside `blockConcurrencyWhile`.
 */
export function migrate(sql: Sql, steps: readonly string[]): void {
  sql.run("CREATE TABLE IF NOT EXISTS _schema (version INTEGER NOT NULL)");
  const row = sql.one<{ version: number }>("SELECT version FROM _schema");
  const from = row?.version ?? 0;
  if (!row) sql.run("INSERT INTO _schema (version) VALUES (0)");
  for (let v = from; v < steps.length; v++) {
    sql.run(steps[v] as string);
    sql.run("UPDATE _schema SET version = ?", v + 1);
  }
}

/**
 * Runs `setup` under `blockConcurrencyWhile` without letting an exception escape it (which would
 * reset the object); the error is rethrown instead to every caller that awaits the result.
 */
export function startUp(ctx: DurableObjectState, setup: () => void | Promise<void>): Promise<void> {
  let failure: unknown;
  const ready = ctx.blockConcurrencyWhile(async () => {
    try {
      await setup();
    } catch (err) {
      failure = err;
    }
  });
  return ready.then(() => {
    if (failure) throw failure;
  });
}
