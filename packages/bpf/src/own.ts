/**
 * `table[key]` for the table's own keys only. Keys come from the user's input, where a name such as
 * `constructor` or `toString` must be unknown, not a property every object inherits.
 */
export const own = <T>(table: Readonly<Record<string, T>>, key: string): T | undefined =>
  Object.hasOwn(table, key) ? table[key] : undefined;
