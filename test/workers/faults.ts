/**
 * A real storage fault inside an object: a SQLite trigger that aborts every write of one kind to
 * one table, so that an operation throws midway through its transaction, after its memory may have
 * changed. Tests then check that the object's memory matches its storage.
 */

/** Makes every `write` on `table` fail until the returned function is called. */
export function failWrites(
  storage: DurableObjectStorage,
  table: string,
  write: "INSERT" | "UPDATE" | "DELETE",
): () => void {
  storage.sql.exec(
    `CREATE TRIGGER injected_fault BEFORE ${write} ON ${table} BEGIN SELECT RAISE(ABORT, 'injected fault'); END`,
  );
  return () => storage.sql.exec("DROP TRIGGER injected_fault");
}
