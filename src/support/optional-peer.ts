/**
 * Loading the optional packages the package uses only when asked to (`ioredis` for the Redis store, the gRPC OTLP
 * exporter, the Node runtime instrumentation; web frameworks for the integrations), with an error that tells the
 * two failures apart: the package is not installed (install it), or it is installed and failed to load (a broken
 * install, a missing dependency of its own, a version that throws at load: the cause is kept, never reported as
 * "not installed").
 *
 * Owns: resolving and requiring an optional peer, the missing-or-broken decision and its message. Must not touch:
 * what the caller does without the package (throw at init, or warn and fall back: the caller decides).
 */
import { printable } from './describe';

/** An optional package, as a message about it needs it. */
export interface OptionalPeer {
  /** The package name, as required: `ioredis`. */
  readonly name: string;
  /** What needs it, as the user asked for it: `activeUsers.redis.url`, `otlp.protocol 'grpc'`. */
  readonly neededBy: string;
  /** What to install: `ioredis`, `@opentelemetry/instrumentation-runtime-node@~0.36.1`. Default: `name`. */
  readonly install?: string;
  /** A note after the package name: `0.36.x for Node 20`. */
  readonly note?: string;
  /** The other way to get what the user wanted, if any: `pass your own client as activeUsers.redis.client`. */
  readonly alternative?: string;
  /** Resolve from these folders instead of this package's (a dependency of another optional package). */
  readonly paths?: readonly string[];
}

/** Why an optional package could not be used. */
export type OptionalPeerProblem = 'missing' | 'broken';

/** An optional package that is not installed (`missing`) or failed to load (`broken`, with the `cause`). */
export class OptionalPeerError extends Error {
  readonly packageName: string;
  readonly problem: OptionalPeerProblem;

  constructor(peer: OptionalPeer, problem: OptionalPeerProblem, cause: unknown) {
    const install = `npm install ${peer.install ?? peer.name}`;
    const what = `${peer.neededBy} needs the optional package ${peer.name}${peer.note ? ` (${peer.note})` : ''}`;
    const or = peer.alternative ? `; or ${peer.alternative}` : '';
    super(
      problem === 'missing'
        ? `${what}, which is not installed: ${install}${or}`
        : `${what}, which is installed but failed to load (${firstLine(cause)}): reinstall it (${install})${or}`,
      { cause },
    );
    this.name = 'OptionalPeerError';
    this.packageName = peer.name;
    this.problem = problem;
  }
}

/**
 * `require` of an optional package. Throws {@link OptionalPeerError}: `missing` only when the package itself
 * cannot be found; anything else (a dependency of it missing, an exception at load, a bad `main`) is `broken`.
 */
export function loadOptionalPeer<T>(peer: OptionalPeer): T {
  try {
    return (peer.paths ? require(resolvePeer(peer)) : require(peer.name)) as T;
  } catch (error) {
    throw new OptionalPeerError(peer, isAbsent(error, peer) ? 'missing' : 'broken', error);
  }
}

/**
 * The file `require` would load for the optional package, without loading it (to resolve its own dependencies
 * from its folder). Throws {@link OptionalPeerError} as {@link loadOptionalPeer} does.
 */
export function resolveOptionalPeer(peer: OptionalPeer): string {
  try {
    return resolvePeer(peer);
  } catch (error) {
    throw new OptionalPeerError(peer, isAbsent(error, peer) ? 'missing' : 'broken', error);
  }
}

/** Whether the optional package can be found, without loading it. Throws for anything but "not found". */
export function optionalPeerInstalled(peer: Pick<OptionalPeer, 'name' | 'paths'>): boolean {
  try {
    resolvePeer(peer);
    return true;
  } catch (error) {
    if (isAbsent(error, peer)) return false;
    throw error;
  }
}

function resolvePeer(peer: Pick<OptionalPeer, 'name' | 'paths'>): string {
  return peer.paths ? require.resolve(peer.name, { paths: [...peer.paths] }) : require.resolve(peer.name);
}

/**
 * Whether `error` (from resolving or loading the peer) means the package is not there: a "not found" naming the
 * package, and its package.json not found either (a package whose `main` file is missing also fails to resolve,
 * and some resolvers then name the package rather than the file).
 */
function isAbsent(error: unknown, peer: Pick<OptionalPeer, 'name' | 'paths'>): boolean {
  if (!isNotFound(error, peer.name)) return false;
  try {
    resolvePeer({ name: `${peer.name}/package.json`, paths: peer.paths });
    return false;
  } catch (again) {
    // A package whose `exports` hide package.json answers ERR_PACKAGE_PATH_NOT_EXPORTED: it is there.
    return isNotFound(again, `${peer.name}/package.json`);
  }
}

/**
 * Node's "not found" for `name` itself: code MODULE_NOT_FOUND (or ERR_MODULE_NOT_FOUND) and a message naming that
 * specifier. The same code for another module (a dependency of the package, a missing `main` file) is a broken
 * install, not an absent package.
 */
function isNotFound(error: unknown, name: string): boolean {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_MODULE_NOT_FOUND') return false;
  const first = firstLine(error);
  return first.includes(`'${name}'`) || first.includes(`"${name}"`);
}

/** The first line of an error's message (Node's "Cannot find module" goes on with the require stack). */
function firstLine(error: unknown): string {
  let text: string;
  try {
    text = error instanceof Error ? String(error.message) : String(error);
  } catch {
    text = 'an unprintable error';
  }
  return printable(text.split('\n')[0], 200);
}
