/**
 * What stands between the shop's operator surfaces and an anonymous client: the Host allow-list (a DNS-rebinding
 * page cannot reach the shop under a name of its own), same-origin checks on state-changing admin requests (a
 * cross-site form cannot flip the trouble switches), the operator token on everything that reveals business
 * numbers, and JSON error bodies without stack traces.
 *
 * Owns: those checks and their answers. Must not touch: routes (app.ts decides where each guard applies), metrics.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** Names and addresses only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(bare);
}

/**
 * The `Host` values the shop answers to: loopback names on its port, the address it listens on, and any extra
 * names (`ALLOWED_HOSTS`, e.g. the name a reverse proxy forwards). Compared case-insensitively.
 */
export function allowedHosts(listenHost: string, port: number, extra: readonly string[] = []): Set<string> {
  const withPort = (name: string) => {
    const bracketed = name.includes(':') && !name.startsWith('[') ? `[${name}]` : name;
    return [`${bracketed}:${port}`.toLowerCase(), ...(port === 80 ? [bracketed.toLowerCase()] : [])];
  };
  const names = ['127.0.0.1', 'localhost', '::1'];
  // 0.0.0.0 and :: are not names a client can use; the machine's real names come from ALLOWED_HOSTS.
  if (listenHost !== '0.0.0.0' && listenHost !== '::') names.push(listenHost);
  const hosts = new Set(names.flatMap(withPort));
  for (const name of extra) {
    const trimmed = name.trim().toLowerCase();
    if (trimmed) hosts.add(trimmed);
  }
  return hosts;
}

/** Refuses requests whose `Host` is not one of the shop's own (421, JSON): DNS rebinding, spoofed virtual hosts. */
export function hostAllowList(hosts: () => ReadonlySet<string>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const host = (req.headers.host ?? '').toLowerCase();
    if (hosts().has(host)) return next();
    res.status(421).json({ error: 'this server does not answer to that Host' });
  };
}

/**
 * Refuses state-changing requests that a browser made from another site (403, JSON). A browser always sends
 * `Sec-Fetch-Site` (modern ones) or `Origin` with a cross-site POST; a request with neither comes from a
 * non-browser client (curl, a script), which cannot be forged by a web page.
 */
export function sameOriginOnly(hosts: () => ReadonlySet<string>): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const site = req.headers['sec-fetch-site'];
    if (typeof site === 'string' && site !== 'same-origin') {
      return void res
        .status(403)
        .json({ error: `cross-site admin requests are refused (Sec-Fetch-Site: ${site})` });
    }
    const origin = req.headers.origin;
    if (typeof origin === 'string') {
      let host: string | undefined;
      try {
        const url = new URL(origin);
        host = url.protocol === 'http:' || url.protocol === 'https:' ? url.host.toLowerCase() : undefined;
      } catch {
        host = undefined;
      }
      if (host === undefined || !hosts().has(host) || host !== (req.headers.host ?? '').toLowerCase()) {
        return void res.status(403).json({ error: 'cross-origin admin requests are refused' });
      }
    }
    next();
  };
}

/**
 * The operator token check: `Authorization: Bearer <token>` (Prometheus, scripts) or HTTP basic auth with the
 * token as the password and any user name (browsers prompt for it on /dashboard and /admin). Constant-time.
 */
export function operatorTokenCheck(token: string): (req: Request) => boolean {
  const digest = (data: Buffer | string) => createHash('sha256').update(data).digest();
  const expected = digest(token);
  return (req) => {
    const header = (req.headers.authorization ?? '').trim();
    const space = header.indexOf(' ');
    if (space <= 0) return false;
    const scheme = header.slice(0, space).toLowerCase();
    const credentials = header.slice(space + 1).trim();
    let given: Buffer;
    if (scheme === 'bearer') given = Buffer.from(credentials, 'utf8');
    else if (scheme === 'basic') {
      const decoded = Buffer.from(credentials, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon < 0) return false;
      given = Buffer.from(decoded.slice(colon + 1), 'utf8');
    } else return false;
    return timingSafeEqual(digest(given), expected);
  };
}

/** Requires the operator token (401 with a Basic challenge, so a browser asks for it). */
export function requireOperator(check: ((req: Request) => boolean) | undefined): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (check === undefined || check(req)) return next();
    res.setHeader('WWW-Authenticate', 'Basic realm="demo shop operator", charset="UTF-8"');
    res.status(401).json({ error: 'this page needs the operator token (METRICS_TOKEN) as the password' });
  };
}

// Words for the errors body parsers report; anything else is a 500 with no detail (details go to the log).
const CLIENT_ERRORS: Readonly<Record<string, string>> = {
  'entity.parse.failed': 'request body is not valid JSON',
  'entity.too.large': 'request body is too large',
  'encoding.unsupported': 'unsupported body encoding',
  'charset.unsupported': 'unsupported body charset',
  'request.aborted': 'request body incomplete',
  'request.size.invalid': 'request body incomplete',
  'parameters.too.many': 'too many form fields',
};

/** The last error handler: a JSON body with a short message, never Express's HTML page with a stack trace. */
export function jsonErrors(log: (error: unknown) => void = () => {}) {
  return (error: unknown, _req: Request, res: Response, next: NextFunction): void => {
    if (res.headersSent) return next(error);
    const details = typeof error === 'object' && error !== null ? (error as Record<string, unknown>) : {};
    const status = typeof details.status === 'number' ? details.status : 500;
    const type = typeof details.type === 'string' ? details.type : '';
    if (status >= 400 && status < 500) {
      res.status(status).json({ error: CLIENT_ERRORS[type] ?? 'bad request' });
      return;
    }
    log(error);
    res.status(500).json({ error: 'internal error' });
  };
}
