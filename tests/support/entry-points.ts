/**
 * What an entry point (an `index.ts` that only re-exports) exports and where each export comes from, for the
 * direct tests of those files: one assertion then holds the exact list of runtime names (an export added or
 * removed without intent fails it) and that each is the very object its source module exports (not a copy, not
 * a wrapper, not a second definition). Two shapes of the same check: `exportOrigins` names each export's source
 * module (entries that gather several modules); `exportNames` + `notReExported` compare an entry with the one
 * public list it re-exports plus its own definitions (the framework entry points).
 *
 * Owns: that lookup. Must not touch: the modules it is given (it only reads their exports), assertions.
 */

/**
 * For every runtime export of `entry`, sorted by name: the key of `sources` whose module exports the very same
 * value under the same name, or `'<key> as <name>'` when the source exports it under another name, or
 * `'(not from any source)'`. Primitive constants match by name only (two modules may hold the same number).
 */
export function exportOrigins(
  entry: object,
  sources: Readonly<Record<string, object>>,
): Record<string, string> {
  const origins: Record<string, string> = {};
  for (const name of Object.keys(entry).sort()) {
    const value = (entry as Record<string, unknown>)[name];
    const sameName = Object.entries(sources).find(
      ([, module]) => name in module && (module as Record<string, unknown>)[name] === value,
    );
    let origin = sameName?.[0];
    if (
      origin === undefined &&
      (typeof value === 'function' || (typeof value === 'object' && value !== null))
    ) {
      for (const [path, module] of Object.entries(sources)) {
        const renamed = Object.keys(module).find((key) => (module as Record<string, unknown>)[key] === value);
        if (renamed !== undefined) {
          origin = `${path} as ${renamed}`;
          break;
        }
      }
    }
    origins[name] = origin ?? '(not from any source)';
  }
  return origins;
}

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
  const named = Object.fromEntries(sources.map((source, i) => [String(i), source]));
  return Object.entries(exportOrigins(entry, named))
    .filter(([name, origin]) => !own.includes(name) && !/^\d+$/.test(origin))
    .map(([name]) => name);
}
