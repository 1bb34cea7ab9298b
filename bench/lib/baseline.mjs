/**
 * The previous build of the package, measured beside the current one (as prom-client's benchmarks measure its
 * last release), so a regression shows as a ratio in the same interleaved run.
 *
 * Owns: choosing the baseline git ref, building it once into a cache folder (bench/.cache/baseline/<commit>/:
 * `git archive` of that commit, the current node_modules linked in, its own `npm run build`) and reusing that
 * build while the commit is the same. Must not touch: the working tree, the repository's dist/, what a case does.
 *
 * Which ref, first match wins:
 *   1. `--baseline=<git-ref>` (or `--baseline <git-ref>`); `--no-baseline` measures the current build only;
 *   2. the newest `v*` tag reachable from HEAD (the last release);
 *   3. the last commit before package.json's "version" last changed to its current value (the previous
 *      version's last commit), when the version has changed since package.json was created.
 * Smoke mode (CI) measures no baseline unless `--baseline` is given: it checks that cases run, not timings.
 *
 * The baseline reuses the current node_modules (linked, not installed): the baseline runs with today's
 * dependency versions, so a ratio isolates changes in this package's own code. Its own compiler settings and
 * build script are used.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const git = (repo, args) => execFileSync('git', args, { cwd: repo, encoding: 'utf8', stdio: 'pipe' }).trim();
const tryGit = (repo, args) => {
  try {
    return git(repo, args);
  } catch {
    return undefined;
  }
};

/** The `version` field of package.json at a commit (undefined where package.json is missing or unreadable). */
function versionAt(repo, commit) {
  const text = tryGit(repo, ['show', `${commit}:package.json`]);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text).version;
  } catch {
    return undefined;
  }
}

/** `--baseline=<ref>`, `--baseline <ref>`, `--no-baseline`, or undefined for the default. */
export function baselineOption(argv) {
  if (argv.includes('--no-baseline')) return { off: true };
  const inline = argv.find((arg) => arg.startsWith('--baseline='));
  if (inline) return { ref: inline.slice('--baseline='.length) };
  const at = argv.indexOf('--baseline');
  if (at >= 0) {
    const ref = argv[at + 1];
    if (!ref || ref.startsWith('--')) throw new Error('--baseline expects a git ref (tag, branch or commit)');
    return { ref };
  }
  return undefined;
}

/**
 * The baseline to measure: `{ ref, commit, version, reason }`, or `{ none: reason }` when there is none.
 * Throws when an explicitly given ref does not resolve.
 */
export function resolveBaseline(repo, argv, mode) {
  const option = baselineOption(argv);
  if (option?.off) return { none: '--no-baseline' };
  const describe = (ref, reason) => {
    const commit = git(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
    return { ref, commit, short: commit.slice(0, 7), version: versionAt(repo, commit), reason };
  };
  if (option?.ref) {
    if (!tryGit(repo, ['rev-parse', '--verify', '--quiet', `${option.ref}^{commit}`]))
      throw new Error(`--baseline ${option.ref}: not a commit in this repository`);
    return describe(option.ref, '--baseline');
  }
  if (mode === 'smoke') return { none: 'smoke mode (pass --baseline <ref> to include one)' };
  if (!tryGit(repo, ['rev-parse', '--git-dir'])) return { none: 'not a git checkout' };

  const tag = tryGit(repo, ['describe', '--tags', '--abbrev=0', '--match', 'v*', 'HEAD']);
  if (tag) return describe(tag, 'the newest v* tag reachable from HEAD');

  // The commits that touched package.json, newest first (first parent: the history of this branch).
  const current = versionAt(repo, 'HEAD');
  const commits = (tryGit(repo, ['log', '--first-parent', '--format=%H', 'HEAD', '--', 'package.json']) ?? '')
    .split('\n')
    .filter(Boolean);
  for (const commit of commits) {
    const parent = tryGit(repo, ['rev-parse', '--verify', '--quiet', `${commit}^`]);
    if (!parent) break;
    const before = versionAt(repo, parent);
    if (before !== undefined && before !== versionAt(repo, commit)) {
      if (versionAt(repo, commit) === current)
        return describe(
          parent,
          `the last commit of ${before}, before package.json's version became ${current}`,
        );
      break;
    }
  }
  return {
    none:
      `no v* tag, and package.json's version (${current}) has not changed since it was added; ` +
      'pass --baseline <ref> or tag the last release (git tag v<version> <commit>)',
  };
}

/**
 * Builds the baseline once into bench/.cache/baseline/<commit>/ and returns the directory of its dist/ (what
 * `--dist` / BENCH_DIST expects). Later runs reuse the build; delete the folder to rebuild.
 */
export function buildBaseline(repo, baseline, log = console.log) {
  const root = join(repo, 'bench', '.cache', 'baseline', baseline.commit);
  const dist = join(root, 'dist');
  const marker = join(root, 'built.json');
  if (existsSync(marker) && existsSync(join(dist, 'index.js'))) return dist;

  log(`bench: building the baseline ${baseline.ref} (${baseline.short}, ${baseline.version}) into ${root}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const archive = spawnSync('git', ['archive', '--format=tar', baseline.commit], {
    cwd: repo,
    maxBuffer: 512 * 1024 * 1024,
  });
  if (archive.status !== 0) throw new Error(`git archive ${baseline.commit}: ${archive.stderr}`);
  const untar = spawnSync('tar', ['-x', '-C', root], { input: archive.stdout });
  if (untar.status !== 0) throw new Error(`tar: ${untar.stderr}`);
  symlinkSync(join(repo, 'node_modules'), join(root, 'node_modules'), 'dir');
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0 || !existsSync(join(dist, 'index.js'))) {
    throw new Error(`the baseline's npm run build failed:\n${build.stdout}${build.stderr}`.slice(0, 2000));
  }
  writeFileSync(
    marker,
    `${JSON.stringify({ ref: baseline.ref, commit: baseline.commit, version: baseline.version, builtAt: new Date().toISOString() }, null, 2)}\n`,
  );
  return dist;
}
