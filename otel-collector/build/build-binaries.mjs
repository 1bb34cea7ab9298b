#!/usr/bin/env node
// Builds the Go binaries the push path runs for real: our OpenTelemetry Collector distribution (from
// otelcol-builder.yaml, with the Collector Builder `ocb`), Prometheus 3 + promtool (from the
// github.com/prometheus/prometheus Go module) and Thanos (github.com/thanos-io/thanos: Receive, Query, Rule, Store,
// Compactor and the bucket tools are one binary). The ONE build script: `.ci/run`, `npm run stack`, the fleet stack
// and the tests' hints all go through it.
// Owns: module versions of Prometheus, Thanos and ocb, the cache layout, build flags.
// Must not: download anything but Go modules (through the go command and its module proxy), or write into the repo.
//
// Binaries go to a cache folder OUTSIDE the repository,
//   ${OBM_CACHE_DIR:-$HOME/.cache/otel-business-metrics}/<name>-<hash of that binary's recipe (+ the manifest)>/
// so a fresh clone on the same machine (CI) reuses them, and a change to one binary's inputs rebuilds that binary
// only (adding Thanos did not rebuild Prometheus).
//
// Usage:
//   node otel-collector/build/build-binaries.mjs            build what is missing (one at a time), print paths
//   node otel-collector/build/build-binaries.mjs --paths    print the JSON path table, build nothing
//   node otel-collector/build/build-binaries.mjs --only otelcol|prometheus|thanos
//   node otel-collector/build/build-binaries.mjs --help     this usage, builds nothing
// Environment: OBM_CACHE_DIR (cache root), OBM_BUILD_JOBS (go build -p, default 1: CI machines have 2 cores and
// the tests run after), GOTOOLCHAIN, GOMODCACHE, GOCACHE as the go command reads them.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, mkdtempSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const MANIFEST = join(HERE, 'otelcol-builder.yaml');
// ocb at the same release as the core modules in the manifest.
const OCB_MODULE = 'go.opentelemetry.io/collector/cmd/builder@v0.165.0';

/**
 * Binaries built inside a Go module's own source tree, so its go.mod/go.sum (and its `replace` lines: Thanos has
 * them, which `go install module@version` refuses) pin every dependency exactly as released. Everything that
 * shapes the output is here: a change to a recipe changes that binary's cache folder.
 */
const MODULE_RECIPES = {
  prometheus: {
    module: 'github.com/prometheus/prometheus',
    version: 'v0.316.0', // Prometheus 3.16.0 (the module's VERSION file)
    // Every service discovery is left out (we only use static_configs): shorter build, smaller binary.
    tags: 'remove_all_sd',
    commands: ['prometheus', 'promtool'],
  },
  thanos: {
    module: 'github.com/thanos-io/thanos',
    // v0.42.5 needs Go >= 1.26.10; v0.42.4 builds with the machines' Go 1.26.8.
    version: 'v0.42.4',
    // The tags of Thanos's own release build (.promu.yml): the pure-Go resolver and slice-backed labels.
    tags: 'netgo,slicelabels',
    commands: ['thanos'],
  },
};

export function cacheRoot() {
  return resolve(process.env.OBM_CACHE_DIR || join(homedir(), '.cache', 'otel-business-metrics'));
}

/** The build steps' revision: bump it when a change to the code below changes what a build produces. */
const BUILD_REVISION = 2;

function recipeHash(recipe, ...files) {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ BUILD_REVISION, recipe }));
  for (const file of files) hash.update(readFileSync(file));
  return hash.digest('hex').slice(0, 12);
}

/** Where each binary lives for the current inputs; nothing is built. */
export function binaryPaths() {
  const root = cacheRoot();
  const otelcolDir = join(root, `otelcol-${recipeHash({ ocb: OCB_MODULE }, MANIFEST)}`);
  const moduleDir = (name) => join(root, `${name}-${recipeHash(MODULE_RECIPES[name])}`);
  const table = {
    cacheRoot: root,
    otelcol: join(otelcolDir, 'otelcol-obm'),
    prometheus: join(moduleDir('prometheus'), 'prometheus'),
    promtool: join(moduleDir('prometheus'), 'promtool'),
    thanos: join(moduleDir('thanos'), 'thanos'),
  };
  return Object.fromEntries(
    Object.entries(table).map(([name, path]) => [
      name,
      name === 'cacheRoot' ? path : { path, present: existsSync(path) },
    ]),
  );
}

function log(message) {
  process.stderr.write(`[build-binaries] ${message}\n`);
}

function run(command, args, options = {}) {
  log(`$ ${command} ${args.join(' ')}${options.cwd ? `   (in ${options.cwd})` : ''}`);
  // nice: the machines have 2 cores and other work (tests, other builds) shares them.
  const result = spawnSync('nice', ['-n', '10', command, ...args], {
    stdio: options.capture ? ['ignore', 'pipe', 'inherit'] : 'inherit',
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw new Error(`${command} could not start: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`${command} ${args[0]} failed with exit code ${result.status}`);
  return result.stdout;
}

function goEnv() {
  const jobs = process.env.OBM_BUILD_JOBS || '1';
  const inherited = (spawnSync('go', ['env', 'GOFLAGS'], { encoding: 'utf8' }).stdout || '').trim();
  return { GOFLAGS: `${inherited} -p=${jobs}`.trim(), GOWORK: 'off', CGO_ENABLED: '0' };
}

/** Build into a scratch folder beside the target, then rename: an interrupted build never leaves a half binary. */
function publish(scratch, targetDir) {
  rmSync(targetDir, { recursive: true, force: true });
  renameSync(scratch, targetDir);
}

function buildOtelcol(paths) {
  const target = dirname(paths.otelcol.path);
  const scratch = mkdtempSync(`${target}.tmp-`);
  try {
    const env = goEnv();
    // ocb itself, compiled once per cache root.
    const ocbDir = join(cacheRoot(), 'ocb-v0.165.0');
    const ocb = join(ocbDir, 'builder');
    if (!existsSync(ocb)) run('go', ['install', OCB_MODULE], { env: { ...env, GOBIN: ocbDir } });
    const src = join(scratch, 'src');
    run(ocb, ['--config', MANIFEST, '--output-path', src], { env });
    mkdirSync(scratch, { recursive: true });
    renameSync(join(src, 'otelcol-obm'), join(scratch, 'otelcol-obm'));
    rmSync(src, { recursive: true, force: true });
    publish(scratch, target);
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
}

/** `go build` each command of a module inside that module's own source tree, into `targetDir`. */
function buildModule(recipe, targetDir) {
  const scratch = mkdtempSync(`${targetDir}.tmp-`);
  try {
    const env = goEnv();
    const info = JSON.parse(
      run('go', ['mod', 'download', '-json', `${recipe.module}@${recipe.version}`], {
        env,
        capture: true,
      }),
    );
    if (!info.Dir) throw new Error(`go mod download gave no source folder: ${JSON.stringify(info)}`);
    const version = readFileSync(join(info.Dir, 'VERSION'), 'utf8').trim();
    // What `--version` prints, as the projects' own release builds set it (both use prometheus/common/version).
    const ldflags = [
      '-s -w',
      `-X github.com/prometheus/common/version.Version=${version}`,
      `-X github.com/prometheus/common/version.Revision=${recipe.version}`,
      '-X github.com/prometheus/common/version.Branch=go-module',
      '-X github.com/prometheus/common/version.BuildUser=otel-business-metrics',
    ].join(' ');
    for (const name of recipe.commands) {
      run(
        'go',
        [
          'build',
          '-trimpath',
          '-tags',
          recipe.tags,
          '-ldflags',
          ldflags,
          '-o',
          join(scratch, name),
          `./cmd/${name}`,
        ],
        { env: { ...env, GOFLAGS: `${env.GOFLAGS} -mod=readonly` }, cwd: info.Dir },
      );
    }
    publish(scratch, targetDir);
  } catch (error) {
    rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
}

const USAGE = `Usage: node otel-collector/build/build-binaries.mjs [--paths | --only otelcol|prometheus|thanos | --help]

Builds, from their Go modules, what the push-path and fleet tests run: our OpenTelemetry Collector (otelcol),
Prometheus 3 with promtool (prometheus) and Thanos (thanos); each binary that is not cached yet, one at a time.
Cold builds take minutes each (Go >= 1.26 and the Go module proxy); cached ones are reused.

  (no argument)   build what is missing, then print the JSON path table
  --paths         print the JSON path table (where each binary is, and whether it is there); build nothing
  --only NAME     build only otelcol, prometheus or thanos
  --help, -h      print this and exit

Cache: \${OBM_CACHE_DIR:-$HOME/.cache/otel-business-metrics}/<name>-<hash of its recipe>/ (now: ${cacheRoot()})
Environment: OBM_CACHE_DIR, OBM_BUILD_JOBS (go build -p, default 1), GOTOOLCHAIN, GOMODCACHE, GOCACHE.
`;

/** Known flags; anything else is a mistake said before any build starts. */
function checkArguments(argv) {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--only') i++;
    else if (!['--paths', '--help', '-h'].includes(argv[i])) {
      throw Object.assign(new Error(`unknown argument ${JSON.stringify(argv[i])}\n\n${USAGE}`), {
        usage: true,
      });
    }
  }
}

function main(argv) {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(USAGE);
    return;
  }
  checkArguments(argv);
  const paths = binaryPaths();
  if (argv.includes('--paths')) {
    process.stdout.write(`${JSON.stringify(paths, null, 2)}\n`);
    return;
  }
  const onlyIndex = argv.indexOf('--only');
  const only = onlyIndex >= 0 ? argv[onlyIndex + 1] : undefined;
  if (only !== undefined && !['otelcol', 'prometheus', 'thanos'].includes(only)) {
    throw new Error(`--only takes otelcol, prometheus or thanos, not ${only}`);
  }
  if (spawnSync('go', ['version']).status !== 0) {
    throw new Error(
      'the go command is missing: install Go >= 1.26 (see docs/otlp.md, "Building the Collector, Prometheus 3 and Thanos")',
    );
  }
  mkdirSync(paths.cacheRoot, { recursive: true });
  const jobs = [
    ['otelcol', () => !paths.otelcol.present, buildOtelcol],
    [
      'prometheus',
      () => !paths.prometheus.present || !paths.promtool.present,
      () => buildModule(MODULE_RECIPES.prometheus, dirname(paths.prometheus.path)),
    ],
    [
      'thanos',
      () => !paths.thanos.present,
      () => buildModule(MODULE_RECIPES.thanos, dirname(paths.thanos.path)),
    ],
  ];
  for (const [name, missing, build] of jobs) {
    if (only && only !== name) continue;
    if (!missing()) {
      log(`${name}: cached`);
      continue;
    }
    const started = Date.now();
    log(`${name}: building (cold builds take minutes)`);
    build(paths);
    log(`${name}: built in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  process.stdout.write(`${JSON.stringify(binaryPaths(), null, 2)}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (error) {
    log(`FAILED: ${error.message}`);
    process.exit(error.usage ? 2 : 1);
  }
}
