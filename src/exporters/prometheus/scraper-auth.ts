/**
 * Scraper authentication for every `/metrics` endpoint the package serves: the standalone server
 * (`pull-reader.ts`) and the Express mount (`integrations/express/metrics-endpoint.ts`) both use this module, so
 * the two cannot drift apart again.
 *
 * Owns: validating configured credentials (at configuration time, with a TypeError naming the option), parsing the
 * `Authorization` header (scheme case-insensitive, RFC 7235), the constant-time comparison, the challenge, and
 * the "open endpoint on a non-loopback address" warning. Must not touch: HTTP responses, routing, the exposition.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { diag } from '../../support';

/** Credentials a scraper must present: a bearer token, or HTTP basic username and password. */
export type ScraperCredentials =
  { readonly bearerToken: string } | { readonly username: string; readonly password: string };

/** A configured check of the `Authorization` header. */
export interface ScraperAuth {
  /** The `WWW-Authenticate` value of a 401 answer. */
  readonly challenge: string;
  /** True when the header carries the configured credentials. Never throws. */
  isAuthorized(header: string | undefined): boolean;
}

const REALM = 'metrics';
// What a header value can carry unchanged: visible ASCII. Spaces, tabs and controls in a configured secret would
// either be trimmed from the request header (padding) or break it, so such a secret could never match.
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;
// A basic-auth password may contain spaces (it travels base64-encoded), but no control characters.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Validate credentials and build their check.
 * @param where how the option is named in messages, e.g. `Prometheus exporter auth` or `metricsMiddleware: auth`.
 * @throws TypeError for credentials that could never match or that the scheme cannot carry: an empty or
 *   whitespace-padded token, a token with spaces or non-ASCII characters, a basic-auth username with `:`.
 */
export function scraperAuth(credentials: ScraperCredentials, where: string): ScraperAuth {
  if (typeof credentials !== 'object' || credentials === null) {
    throw new TypeError(`${where} must be { bearerToken } or { username, password }`);
  }
  if ('bearerToken' in credentials) {
    const token: unknown = credentials.bearerToken;
    if (typeof token !== 'string' || token === '') {
      throw new TypeError(`${where}.bearerToken must be a non-empty string`);
    }
    if (!VISIBLE_ASCII.test(token)) {
      throw new TypeError(
        `${where}.bearerToken must be visible ASCII without spaces (leading or trailing whitespace is ` +
          'never sent by a scraper, so such a token could never match)',
      );
    }
    return check('bearer', Buffer.from(token, 'utf8'), `Bearer realm="${REALM}"`);
  }
  const username: unknown = (credentials as { username?: unknown }).username;
  const password: unknown = (credentials as { password?: unknown }).password;
  if (typeof username !== 'string' || username === '' || username.includes(':') || CONTROL.test(username)) {
    throw new TypeError(
      `${where}.username must be a non-empty string without ":" or control characters ` +
        '(basic auth splits user and password at the first ":")',
    );
  }
  if (typeof password !== 'string' || password === '' || CONTROL.test(password)) {
    throw new TypeError(`${where}.password must be a non-empty string without control characters`);
  }
  if (username.trim() !== username) {
    throw new TypeError(`${where}.username must not start or end with whitespace`);
  }
  return check(
    'basic',
    Buffer.from(`${username}:${password}`, 'utf8'),
    `Basic realm="${REALM}", charset="UTF-8"`,
  );
}

function check(scheme: 'bearer' | 'basic', expected: Buffer, challenge: string): ScraperAuth {
  const expectedDigest = sha256(expected);
  return {
    challenge,
    isAuthorized(header) {
      if (typeof header !== 'string') return false;
      const trimmed = header.trim();
      const space = trimmed.search(/[ \t]/);
      if (space <= 0) return false;
      if (trimmed.slice(0, space).toLowerCase() !== scheme) return false;
      const credentials = trimmed.slice(space + 1).trim();
      if (credentials === '') return false;
      // Basic credentials travel as base64 of "user:password" (UTF-8, RFC 7617); a bearer token as is.
      const given =
        scheme === 'basic' ? Buffer.from(credentials, 'base64') : Buffer.from(credentials, 'utf8');
      // Comparing digests keeps the comparison constant-time whatever the lengths.
      return timingSafeEqual(sha256(given), expectedDigest);
    },
  };
}

function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** True for names and addresses that only this machine can reach. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const lower = bare.toLowerCase();
  if (lower === 'localhost' || lower === '::1' || lower === '0:0:0:0:0:0:0:1') return true;
  const v4 = lower.startsWith('::ffff:') ? lower.slice('::ffff:'.length) : lower;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * Warn (through OTel diag) that a `/metrics` endpoint without credentials listens on an address other machines can
 * reach: business numbers (revenue, orders) are then readable by anyone who can connect.
 */
export function warnIfExposed(where: string, host: string | undefined, hasAuth: boolean): boolean {
  if (hasAuth || isLoopbackHost(host)) return false;
  diag.warn(
    `${where}: /metrics answers without credentials on ${host ?? 'an unknown address'}, which other machines ` +
      'can reach; anyone who connects can read your business metrics. Configure auth (bearerToken or ' +
      'username/password) or bind to 127.0.0.1.',
  );
  return true;
}
