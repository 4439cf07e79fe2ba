// Settings merged over defaults: a key the config leaves out arrives as undefined, and spread
// as such it would erase the default.

/** The object without its undefined fields, so spreading it over defaults keeps the defaults. */
export function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
