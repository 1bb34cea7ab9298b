/**
 * Reading a request body with a byte limit, from a Node stream (Express, Fastify, NestJS) or a Web `Request`
 * (Hono, Next.js), and decoding it as strict JSON: the same limits and the same refusals whatever the framework.
 *
 * Owns: the byte limit (a declared `Content-Length` over it is refused before reading; a body that grows past it
 * stops being read), incomplete bodies, Web bodies read before us, `Content-Encoding` (identity, gzip, deflate;
 * the limit applies to the decoded bytes too, so a small compressed body cannot expand into a large one), the
 * charset (UTF-8 only), and strict JSON (an object or array). Must not touch: what the JSON means (validate.ts), answers, frameworks.
 */
import { gunzipSync, inflateSync } from 'node:zlib';

/**
 * What reading a body gave. `parsed`: a framework parsed it already (e.g. an app-wide `express.json()`).
 * `consumed`: something else read a Web request's body first (an app's middleware calling `c.req.json()`), so it
 * cannot be read again.
 */
export type BodyRead =
  /**
   * `decoded`: an upstream parser read it: `inflated` by `express.raw()` (its `Content-Encoding` undone), `text` by
   * `express.text()` (its charset undone too, the text re-encoded as UTF-8).
   */
  | { readonly kind: 'bytes'; readonly bytes: Buffer; readonly decoded?: 'inflated' | 'text' }
  | { readonly kind: 'parsed'; readonly value: unknown }
  | { readonly kind: 'too_large' }
  | { readonly kind: 'incomplete' }
  | { readonly kind: 'consumed' };

/** Reads a request's body, at most `limit` bytes. Never rejects. */
export type BodyReader = (limit: number) => Promise<BodyRead>;

/** The outcome of decoding: the JSON value, or a refusal with its status and message. */
export type JsonBody =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly status: 400 | 413 | 415 | 500; readonly message: string };

/** The Node stream fields read here: an `IncomingMessage`, or Fastify's `request.raw`. */
export interface NodeBodyStream {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly readableEnded?: boolean;
  readonly destroyed?: boolean;
  on(event: 'data', listener: (chunk: Buffer | string) => void): unknown;
  on(event: 'end' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
  resume(): unknown;
}

/** The fields that tell whether something upstream (an app-wide body parser) has read the stream already. */
export interface ParsedByUpstream {
  readonly body?: unknown;
  /** body-parser 1 (Express 4) marks a parsed request. */
  readonly _body?: boolean;
  readonly complete?: boolean;
  readonly readable?: boolean;
  readonly readableEnded?: boolean;
}

/**
 * The body of a Node request that an app-wide parser may have read already (`express.json()`, NestJS's default
 * parser): what it parsed when the stream is consumed, else the stream itself, read with the limit.
 */
export function nodeBodyOf(req: NodeBodyStream & ParsedByUpstream): BodyReader {
  const consumed =
    req._body === true || req.readableEnded === true || (req.complete === true && req.readable === false);
  if (!consumed) return (limit) => readNodeBody(req, limit);
  // `express.raw()` and `express.text()` keep the body as bytes or text, inflated: read as the bytes they are.
  const { body } = req;
  const read: BodyRead | undefined = Buffer.isBuffer(body)
    ? { kind: 'bytes', bytes: body, decoded: 'inflated' }
    : typeof body === 'string'
      ? { kind: 'bytes', bytes: Buffer.from(body, 'utf8'), decoded: 'text' }
      : undefined;
  if (read === undefined) return () => Promise.resolve({ kind: 'parsed', value: body });
  return (limit) => Promise.resolve(read.bytes.length > limit ? { kind: 'too_large' } : read);
}

/** Read a Node request stream (nothing else may have read it). */
export function readNodeBody(stream: NodeBodyStream, limit: number): Promise<BodyRead> {
  const declared = Number(stream.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    // Refused unread; Node discards the rest after the answer.
    stream.resume();
    return Promise.resolve({ kind: 'too_large' });
  }
  // Ended or closed before this read began: no event would come to settle it.
  if (stream.readableEnded === true || stream.destroyed === true)
    return Promise.resolve({ kind: 'incomplete' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const done = (read: BodyRead): void => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('close', onClose);
      stream.removeListener('error', onClose);
      resolve(read);
    };
    const onData = (chunk: Buffer | string): void => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      length += bytes.length;
      if (length > limit) {
        done({ kind: 'too_large' });
        stream.resume();
        return;
      }
      chunks.push(bytes);
    };
    const onEnd = (): void => done({ kind: 'bytes', bytes: Buffer.concat(chunks, length) });
    // `close` or `error` before `end`: the client went away mid-body.
    const onClose = (): void => done({ kind: 'incomplete' });
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('close', onClose);
    stream.on('error', onClose);
  });
}

/** Read a Web `Request`'s body stream. */
export async function readWebBody(
  body: ReadableStream<Uint8Array> | null,
  declaredLength: string | undefined,
  limit: number,
): Promise<BodyRead> {
  const declared = Number(declaredLength);
  if (declaredLength !== undefined && Number.isFinite(declared) && declared > limit) {
    await body?.cancel().catch(() => undefined);
    return { kind: 'too_large' };
  }
  if (body === null) return { kind: 'bytes', bytes: Buffer.alloc(0) };
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    reader = body.getReader();
  } catch {
    // Locked or already read: the app's code got to it first.
    return { kind: 'consumed' };
  }
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      length += value.byteLength;
      if (length > limit) {
        await reader.cancel().catch(() => undefined);
        return { kind: 'too_large' };
      }
      chunks.push(Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    }
  } catch {
    return { kind: 'incomplete' };
  }
  return { kind: 'bytes', bytes: Buffer.concat(chunks, length) };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decode a body read as strict JSON.
 * @param contentType the request's `Content-Type` (its charset must be UTF-8 or absent).
 * @param contentEncoding the request's `Content-Encoding` (identity, gzip or deflate).
 */
export function decodeJsonBody(
  read: BodyRead,
  contentType: string | undefined,
  contentEncoding: string | undefined,
  limit: number,
): JsonBody {
  const tooLarge = { ok: false, status: 413, message: `request body exceeds ${limit} bytes` } as const;
  if (read.kind === 'too_large') return tooLarge;
  if (read.kind === 'incomplete') return { ok: false, status: 400, message: 'request body incomplete' };
  if (read.kind === 'consumed') {
    // The server's own doing, not the client's: a 4xx would tell the browser client to drop the batch as its fault.
    return { ok: false, status: 500, message: 'request body was read before the engagement handler' };
  }
  if (read.kind === 'parsed') {
    // Parsed by a parser of the app's (with its own limit): hold it to ours as well.
    let size = Infinity;
    try {
      size = Buffer.byteLength(JSON.stringify(read.value) ?? '', 'utf8');
    } catch {
      // Not serialisable (circular, BigInt): not something a browser sent as JSON.
    }
    return size > limit ? tooLarge : { ok: true, value: read.value };
  }
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1]?.toLowerCase();
  if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8' && read.decoded !== 'text') {
    return { ok: false, status: 415, message: 'unsupported body encoding or charset' };
  }
  let bytes = read.bytes;
  const encoding =
    read.decoded === undefined ? (contentEncoding ?? 'identity').trim().toLowerCase() : 'identity';
  if (encoding !== 'identity') {
    if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') {
      return { ok: false, status: 415, message: 'unsupported body encoding or charset' };
    }
    try {
      const inflate = encoding === 'deflate' ? inflateSync : gunzipSync;
      bytes = inflate(bytes, { maxOutputLength: limit });
    } catch (error) {
      return (error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE'
        ? tooLarge
        : { ok: false, status: 400, message: 'request body is not valid JSON' };
    }
  }
  try {
    const text = utf8.decode(bytes).trim();
    // Strict, as JSON APIs are: a bare string or number is not a batch.
    if (text[0] !== '{' && text[0] !== '[') throw new SyntaxError('not an object or array');
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, status: 400, message: 'request body is not valid JSON' };
  }
}
