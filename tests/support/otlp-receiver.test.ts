/**
 * The test OTLP receiver is as strict as a Collector's OTLP/HTTP receiver: a test that sends to the wrong path,
 * with the wrong method or in the wrong form must fail, not pass because the helper accepted anything.
 */
import { startOtlpReceiver, type OtlpReceiver } from './otlp-receiver';

const EXPORT = JSON.stringify({ resourceMetrics: [] });

describe('test OTLP receiver', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(() => receiver.close());

  it('receives POST /v1/metrics with an application/json body (parameters allowed)', async () => {
    const response = await fetch(receiver.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: EXPORT,
    });
    expect(response.status).toBe(200);
    expect(receiver.requests.map((request) => request.body)).toEqual([{ resourceMetrics: [] }]);
    expect(receiver.attempts).toBe(1);
  });

  it.each([
    ['another path', 'POST', '/v1/traces', 'application/json', 404, undefined],
    ['the root path', 'POST', '/', 'application/json', 404, undefined],
    ['GET', 'GET', '/v1/metrics', undefined, 405, 'POST'],
    ['PUT', 'PUT', '/v1/metrics', 'application/json', 405, 'POST'],
    ['protobuf', 'POST', '/v1/metrics', 'application/x-protobuf', 415, undefined],
    ['text', 'POST', '/v1/metrics', 'text/plain', 415, undefined],
    ['no content type', 'POST', '/v1/metrics', undefined, 415, undefined],
  ])('refuses %s: %s %s (%s) -> %i', async (_name, method, path, contentType, status, allow) => {
    const before = { received: receiver.requests.length, rejected: receiver.rejected.length };
    const response = await fetch(new URL(path, receiver.url), {
      method,
      headers: contentType ? { 'content-type': contentType } : {},
      body: method === 'GET' ? undefined : contentType ? EXPORT : new Uint8Array([1, 2, 3]),
    });
    expect(response.status).toBe(status);
    expect(response.headers.get('allow') ?? undefined).toBe(allow);
    expect(receiver.requests.length).toBe(before.received);
    expect(receiver.rejected.length).toBe(before.rejected + 1);
  });
});
