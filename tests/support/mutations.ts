/**
 * Mutations of a JSON-like message, for tests that try every field of a real message with wrong values: every path
 * to a field or array entry, and a clone with one path replaced.
 */

export type Path = Array<string | number>;

/** Every path to a field or array entry of `value` (of each array, its first `arrayEntries` entries). */
export function pathsOf(value: unknown, arrayEntries = Infinity, prefix: Path = []): Path[] {
  if (typeof value !== 'object' || value === null) return [];
  const keys: Array<string | number> = Array.isArray(value)
    ? value.slice(0, arrayEntries).map((_, i) => i)
    : Object.keys(value);
  return keys.flatMap((key) => {
    const path = [...prefix, key];
    return [path, ...pathsOf((value as Record<string | number, unknown>)[key], arrayEntries, path)];
  });
}

/** A structured clone of `original` with the field at `path` set to `value`. */
export function mutated(original: unknown, path: Path, value: unknown): unknown {
  const copy = structuredClone(original);
  let node = copy as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]] = value;
  return copy;
}
