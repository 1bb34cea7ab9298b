/** Environment variables a test sets, and their restoration afterwards. */

/** Sets `values` in process.env; the returned function restores what was there (deleting what was unset). */
export function withEnv(values: Record<string, string>): () => void {
  const saved = Object.fromEntries(Object.keys(values).map((key) => [key, process.env[key]]));
  Object.assign(process.env, values);
  return () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
}
