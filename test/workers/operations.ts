/**
 * Every operation table by the path the Worker mounts its routes at (workers/tables.ts): the
 * table-driven tests walk it, and {@link call} types an answer's body by it.
 */
import { TABLES } from "../../workers/tables.ts";

type Tables = typeof TABLES;
type Mounted = { [C in keyof Tables as Tables[C]["mount"]]: Tables[C]["operations"] };

export const MOUNTED = Object.fromEntries(
  Object.values(TABLES).map(({ mount, operations }) => [mount, operations]),
) as Mounted;
