// How an error message names a value it did not expect.

/** 'null', 'an array of length 3', a class name ('Uint8Array'), or the type and value ('number 5'). */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === 'object') return (value as object).constructor?.name ?? 'an object';
  return `${typeof value} ${String(value)}`;
}
