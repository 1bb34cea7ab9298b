/**
 * What an entry point (`index.ts`, `public.ts`) exports at run time, for the tests that hold an entry point to its
 * list: the names, sorted, and whether each re-export is the very object of the module that defines it (a wrapper
 * or a copy would be a second thing with the same name).
 *
 * Owns: reading a module namespace's runtime names and comparing objects. Must not touch: assertions (the tests
 * say what the list is).
 */

/** Names written as words (whitespace between them), the way the tests write an entry point's list. */
export function words(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

/** The runtime names a module exports (types leave none), sorted. */
export function exportNames(entry: object): string[] {
  return Object.keys(entry).sort();
}

/**
 * The names of `entry` that are not the very same object as the export of that name of one of `sources` (the
 * modules that define them): `[]` when every name is a re-export. List an entry point's own definitions in `own`.
 */
export function notReExported(
  entry: object,
  sources: readonly object[],
  own: readonly string[] = [],
): string[] {
  const values = entry as Record<string, unknown>;
  return exportNames(entry).filter(
    (name) =>
      !own.includes(name) &&
      !sources.some(
        (source) => Object.hasOwn(source, name) && (source as Record<string, unknown>)[name] === values[name],
      ),
  );
}
