/**
 * The `http.route` of a request: the route pattern the app registered (`/api/engagement`, `/product/:id`), never
 * text the client typed. Express matches paths case-insensitively and `req.baseUrl` holds the mount path as the
 * client spelled it (`/API/Engagement`), so a label built from it grows with every letter-case variant.
 *
 * Owns: finding a matched route's full pattern (mount patterns joined with the route's path) through Express's
 * public surface (`app.router.listRoutes()`, router >= 2.3, i.e. Express 5.1+; `app.mountpath` for sub-apps).
 * Must not touch: recording, label caps (http-metrics.ts), request handling.
 */

/** The parts of an Express request this module reads. */
export interface RoutedRequest {
  readonly route?: unknown;
  readonly baseUrl?: string;
  readonly app?: unknown;
}

interface ListedRoute {
  readonly path: unknown;
  readonly router?: unknown;
}

interface ListingRouter {
  listRoutes(): ListedRoute[];
}

/** One place a route path is registered: the mount patterns above it, joined. */
interface Candidate {
  readonly mount: string;
  readonly pattern: string;
  matcher?: RegExp;
}

interface AppRoutes {
  /** Candidates by the route's own path (as `String(route.path)`). */
  readonly byPath: Map<string, Candidate[]>;
  /** Route paths looked up and not found even after re-reading the app: app-defined, so this stays small. */
  readonly missing: Set<string>;
}

// Mounted routers can mount routers; a cycle (a router mounted in itself) must not hang the first request.
const MAX_DEPTH = 16;

const appRoutes = new WeakMap<object, AppRoutes>();

/**
 * The full route pattern of the route that handled `req`, or undefined when Express did not match a route (404s,
 * plain middleware answers) or the pattern cannot be known without reading client text (a route inside a router
 * whose mount pattern Express does not expose, e.g. Express 4). Never throws.
 */
export function routePattern(req: RoutedRequest): string | undefined {
  const route = req.route as { path?: unknown } | undefined;
  if (route === undefined || route === null || typeof route !== 'object') return undefined;
  const key = pathKey(route.path);
  if (key === undefined) return undefined;
  const baseUrl = typeof req.baseUrl === 'string' ? req.baseUrl : '';
  const app = req.app;
  if (typeof app !== 'function' && (typeof app !== 'object' || app === null)) {
    return baseUrl === '' ? key : undefined;
  }
  let routes = appRoutes.get(app);
  let candidates = routes?.byPath.get(key);
  if (candidates === undefined && !routes?.missing.has(key)) {
    // A route registered after the last read (apps may add routes after listening): read the app again, once
    // per route path.
    const missing = routes?.missing ?? new Set<string>();
    routes = { byPath: readRoutes(app), missing };
    appRoutes.set(app, routes);
    candidates = routes.byPath.get(key);
    if (candidates === undefined) missing.add(key);
  }
  if (candidates === undefined) {
    // Not listed (Express 4, or a router Express cannot list): a top-level route's path is its pattern; under a
    // mount, the only mount text available is the client's, so no route is better than an unbounded one.
    return baseUrl === '' ? key : undefined;
  }
  if (candidates.length === 1) return candidates[0]!.pattern;
  // The same route path under several mounts: the mount whose pattern matches the client's base URL. (Express
  // keeps req.baseUrl until the request leaves the router, so it is still set when the response finishes.)
  for (const candidate of candidates) {
    candidate.matcher ??= mountMatcher(candidate.mount);
    if (candidate.matcher.test(baseUrl)) return candidate.pattern;
  }
  return undefined;
}

function pathKey(path: unknown): string | undefined {
  if (typeof path === 'string') return path;
  if (path instanceof RegExp) return String(path);
  if (Array.isArray(path)) return path.map(String).join('|');
  return undefined;
}

function readRoutes(app: object): Map<string, Candidate[]> {
  const byPath = new Map<string, Candidate[]>();
  try {
    const router = (app as { router?: unknown }).router;
    if (!isListing(router)) return byPath;
    collect(router, mountPathOf(app), byPath, 0, new Set());
  } catch {
    // Express 4 throws from the `app.router` getter; a failing listing only means no pattern is known.
  }
  return byPath;
}

function collect(
  router: ListingRouter,
  mount: string,
  byPath: Map<string, Candidate[]>,
  depth: number,
  seen: Set<unknown>,
): void {
  if (depth > MAX_DEPTH || seen.has(router)) return;
  seen.add(router);
  for (const entry of router.listRoutes()) {
    const key = pathKey(entry.path);
    if (key === undefined) continue;
    if (entry.router !== undefined) {
      if (isListing(entry.router)) collect(entry.router, join(mount, key), byPath, depth + 1, seen);
      continue;
    }
    const list = byPath.get(key) ?? [];
    const pattern = join(mount, key);
    if (!list.some((c) => c.pattern === pattern)) list.push({ mount, pattern });
    byPath.set(key, list);
  }
  seen.delete(router);
}

// A sub-app (`app.use('/admin', admin)`) lists its routes relative to its mount path, which Express keeps public.
function mountPathOf(app: object): string {
  let prefix = '';
  let current: unknown = app;
  for (let depth = 0; depth < MAX_DEPTH && current; depth++) {
    const mountpath = (current as { mountpath?: unknown }).mountpath;
    if (typeof mountpath === 'string' && mountpath !== '/') prefix = join(mountpath, prefix || '/');
    current = (current as { parent?: unknown }).parent;
  }
  return prefix === '/' ? '' : prefix;
}

function join(mount: string, path: string): string {
  if (mount === '' || mount === '/') return path || '/';
  if (path === '/' || path === '') return mount;
  return mount.endsWith('/') && path.startsWith('/') ? mount + path.slice(1) : mount + path;
}

function isListing(value: unknown): value is ListingRouter {
  return (
    (typeof value === 'function' || (typeof value === 'object' && value !== null)) &&
    typeof (value as { listRoutes?: unknown }).listRoutes === 'function'
  );
}

/**
 * A loose matcher for a mount pattern (path-to-regexp 8 syntax: `:name`, `*name`, `{optional}`), used only to
 * tell apart mounts that register the same route path. Case-insensitive like Express's default.
 */
function mountMatcher(mount: string): RegExp {
  let source = '';
  for (let i = 0; i < mount.length; i++) {
    const ch = mount[i]!;
    if (ch === ':' || ch === '*') {
      let end = i + 1;
      while (end < mount.length && /[\w$]/.test(mount[end]!)) end++;
      source += ch === ':' ? '[^/]+' : '.+';
      i = end - 1;
    } else if (ch === '{') source += '(?:';
    else if (ch === '}') source += ')?';
    else source += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}/?$`, 'i');
}
