/**
 * src/integrations/http/request.ts directly: `requestView` reads a Node request (headers by lower-case name, a
 * header sent several times joined with `, `, Express's `originalUrl` before `url`, the socket's local address)
 * and a Web `Request` (its `headers.get`, the absolute URL) through the same three fields, with GET for a request
 * without a method. Every adapter's session context, scrape and beacon code read requests this way, so a shape
 * told apart wrongly would read no headers at all.
 */
import { requestView } from '../../../src/integrations/http/request';

describe('a Node request', () => {
  it('reads headers by name, joins repeated ones, and keeps the socket address', () => {
    const view = requestView({
      method: 'POST',
      url: '/metrics?x=1',
      headers: { accept: 'text/plain', 'set-cookie': ['a=1', 'b=2'], 'x-empty': '' },
      socket: { localAddress: '10.0.0.5' },
    });
    expect([view.method, view.url, view.localAddress]).toEqual(['POST', '/metrics?x=1', '10.0.0.5']);
    expect(view.header('accept')).toBe('text/plain');
    expect(view.header('set-cookie')).toBe('a=1, b=2');
    expect(view.header('x-empty')).toBe('');
    expect(view.header('authorization')).toBeUndefined();
  });

  it("takes Express's originalUrl (the path before a router's mount was cut) over url", () => {
    const view = requestView({ url: '/', originalUrl: '/api/engagement?x=1', headers: {} });
    expect(view.url).toBe('/api/engagement?x=1');
  });

  it('answers GET for a request without a method, and no address without a socket', () => {
    const view = requestView({ headers: {}, socket: null });
    expect([view.method, view.url, view.localAddress]).toEqual(['GET', undefined, undefined]);
  });
});

describe('a Web Request', () => {
  it('reads headers through headers.get (any letter case) and keeps the absolute URL', () => {
    const request = new Request('https://shop.example/api/engagement?utm_source=x', {
      method: 'PUT',
      headers: [
        ['Accept', 'application/json'],
        ['X-Forwarded-For', '203.0.113.1'],
        ['X-Forwarded-For', '198.51.100.7'],
      ],
    });
    const view = requestView(request);
    expect([view.method, view.url]).toEqual(['PUT', 'https://shop.example/api/engagement?utm_source=x']);
    expect(view.header('accept')).toBe('application/json');
    expect(view.header('x-forwarded-for')).toBe('203.0.113.1, 198.51.100.7');
    expect(view.header('authorization')).toBeUndefined();
    expect(view.localAddress).toBeUndefined();
  });

  it('is told apart by its headers.get, whatever else it carries', () => {
    const seen: string[] = [];
    const view = requestView({
      url: 'http://127.0.0.1/x',
      headers: {
        get(name: string) {
          seen.push(name);
          return name === 'cookie' ? 'a=1' : null;
        },
      },
    });
    expect([view.method, view.header('cookie'), view.header('accept')]).toEqual(['GET', 'a=1', undefined]);
    expect(seen).toEqual(['cookie', 'accept']);
  });
});
