/** Where the cluster benchmark cases live (workers are forked by path). Owns: that path only. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
