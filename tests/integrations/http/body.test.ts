/**
 * The engagement body rules every adapter shares: the byte limit (declared, streamed, and after decompression),
 * incomplete bodies, charsets and encodings, strict JSON.
 */
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { deflateSync, gzipSync } from 'node:zlib';
import { decodeJsonBody, readNodeBody, readWebBody } from '../../../src/integrations/http/body';

function nodeStream(headers: Record<string, string> = {}) {
  return Object.assign(new PassThrough(), { headers });
}

describe('request bodies', () => {
  it('reads a Node stream up to the limit, and refuses a declared or streamed excess', async () => {
    const small = nodeStream();
    const read = readNodeBody(small, 10);
    small.end('{"a":1}');
    expect(await read).toEqual({ kind: 'bytes', bytes: Buffer.from('{"a":1}') });

    expect(await readNodeBody(nodeStream({ 'content-length': '11' }), 10)).toEqual({ kind: 'too_large' });

    const streamed = nodeStream();
    const tooLarge = readNodeBody(streamed, 10);
    streamed.write('x'.repeat(6));
    streamed.write('x'.repeat(6));
    expect(await tooLarge).toEqual({ kind: 'too_large' });

    const cut = nodeStream();
    const incomplete = readNodeBody(cut, 10);
    cut.write('{"a"');
    cut.destroy();
    expect(await incomplete).toEqual({ kind: 'incomplete' });

    // The client went away before the read began (the route ran after its request closed): settled at once.
    const gone = nodeStream();
    gone.destroy();
    await once(gone, 'close');
    expect(await readNodeBody(gone, 10)).toEqual({ kind: 'incomplete' });
  });

  it('reads a Web body stream with the same limit', async () => {
    const body = (text: string) => new Response(text).body;
    expect(await readWebBody(body('{"a":1}'), undefined, 10)).toEqual({
      kind: 'bytes',
      bytes: Buffer.from('{"a":1}'),
    });
    expect(await readWebBody(body('x'.repeat(11)), undefined, 10)).toEqual({ kind: 'too_large' });
    expect(await readWebBody(body('{}'), '11', 10)).toEqual({ kind: 'too_large' });
    expect(await readWebBody(null, undefined, 10)).toEqual({ kind: 'bytes', bytes: Buffer.alloc(0) });
  });

  it('decodes strict UTF-8 JSON and refuses everything else with the status a client can act on', () => {
    const bytes = (text: string | Buffer) => ({ kind: 'bytes', bytes: Buffer.from(text) }) as const;
    const json = 'application/json';
    expect(decodeJsonBody(bytes('{"a":1}'), json, undefined, 100)).toEqual({ ok: true, value: { a: 1 } });
    expect(decodeJsonBody(bytes('"a string"'), json, undefined, 100)).toMatchObject({
      ok: false,
      status: 400,
    });
    expect(decodeJsonBody(bytes('{"a":'), json, undefined, 100)).toMatchObject({ ok: false, status: 400 });
    expect(decodeJsonBody(bytes(Buffer.from([0x7b, 0xff, 0x7d])), json, undefined, 100)).toMatchObject({
      status: 400,
    });
    expect(decodeJsonBody(bytes('{}'), `${json}; charset=latin1`, undefined, 100)).toMatchObject({
      status: 415,
    });
    expect(decodeJsonBody(bytes('{}'), `${json}; charset=UTF-8`, undefined, 100)).toEqual({
      ok: true,
      value: {},
    });
    expect(decodeJsonBody(bytes('{}'), json, 'br', 100)).toMatchObject({ status: 415 });
    expect(decodeJsonBody({ kind: 'too_large' }, json, undefined, 100)).toEqual({
      ok: false,
      status: 413,
      message: 'request body exceeds 100 bytes',
    });
    expect(decodeJsonBody({ kind: 'incomplete' }, json, undefined, 100)).toMatchObject({ status: 400 });
  });

  it('inflates gzip and deflate within the limit: a small bomb is refused as too large', () => {
    const json = 'application/json';
    const payload = JSON.stringify({ events: [] });
    expect(decodeJsonBody({ kind: 'bytes', bytes: gzipSync(payload) }, json, 'gzip', 100)).toEqual({
      ok: true,
      value: { events: [] },
    });
    expect(
      decodeJsonBody({ kind: 'bytes', bytes: deflateSync(payload) }, json, 'deflate', 100),
    ).toMatchObject({
      ok: true,
    });
    const bomb = gzipSync(`[${'0,'.repeat(500_000)}0]`);
    expect(bomb.length).toBeLessThan(2_000);
    expect(decodeJsonBody({ kind: 'bytes', bytes: bomb }, json, 'gzip', 16_384)).toMatchObject({
      status: 413,
    });
    expect(
      decodeJsonBody({ kind: 'bytes', bytes: Buffer.from('not gzip') }, json, 'gzip', 100),
    ).toMatchObject({
      status: 400,
    });
  });

  it('holds a body an app-wide parser already parsed to the same limit', () => {
    const json = 'application/json';
    expect(decodeJsonBody({ kind: 'parsed', value: { a: 1 } }, json, undefined, 100)).toEqual({
      ok: true,
      value: { a: 1 },
    });
    expect(
      decodeJsonBody({ kind: 'parsed', value: { a: 'x'.repeat(200) } }, json, undefined, 100),
    ).toMatchObject({
      status: 413,
    });
  });
});
