/**
 * Which errors a policy handles, given as error classes or a function, as cockatiel's
 * `handleType` / `handleWhen` do in one option.
 */

/** A class of errors: matches its instances and those of its subclasses. */
// biome-ignore lint/suspicious/noExplicitAny: constructor parameters are irrelevant to `instanceof`
export type ErrorClass = abstract new (...args: any[]) => Error;

/** Error classes (any of which matches), or a function that decides. */
export type ErrorFilter = ErrorClass | readonly ErrorClass[] | ((error: unknown) => boolean);

function isErrorClass(f: unknown): f is ErrorClass {
  return typeof f === "function" && (f === Error || f.prototype instanceof Error);
}

/**
 * Turns a filter into a predicate; no filter matches every error.
 * @example toPredicate([TypeError, TimeoutError])(err)
 */
export function toPredicate(filter: ErrorFilter | undefined): (error: unknown) => boolean {
  if (filter === undefined) return () => true;
  if (Array.isArray(filter)) {
    const classes = filter as readonly ErrorClass[];
    return (error) => classes.some((c) => error instanceof c);
  }
  if (isErrorClass(filter)) return (error) => error instanceof filter;
  return filter as (error: unknown) => boolean;
}
