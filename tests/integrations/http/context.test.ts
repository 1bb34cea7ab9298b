import fc from 'fast-check';
import {
  DEFAULT_EXPERIMENT_VARIANTS,
  DEFAULT_UTM_SOURCES,
  deriveDeviceType,
  deriveSessionContext,
  type RequestLike,
} from '../../../src/integrations/http/context';

const REFERRER_NAMES = [
  'google',
  'bing',
  'duckduckgo',
  'yahoo',
  'facebook',
  'instagram',
  'twitter',
  'linkedin',
  'reddit',
  'youtube',
  'tiktok',
  'pinterest',
];
const BOUNDED_SOURCES = new Set([...DEFAULT_UTM_SOURCES, ...REFERRER_NAMES, 'direct', 'referral', 'other']);
const DEVICE_TYPES = new Set(['mobile', 'tablet', 'desktop', 'bot', 'unknown']);
const VARIANTS = new Set([...DEFAULT_EXPERIMENT_VARIANTS, 'other']);

const UA = {
  iphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  androidPhone:
    'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36',
  androidTablet:
    'Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  ipad: 'Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  desktop:
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  googlebot: 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  headless:
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0 Safari/537.36',
};

function request(url: string, headers: RequestLike['headers'] = {}): RequestLike {
  return { url, headers: { host: 'shop.example', ...headers } };
}

describe('deriveSessionContext', () => {
  it('takes the source from utm_source, normalised and allow-listed', () => {
    expect(deriveSessionContext(request('/?utm_source=Google')).source).toBe('google');
    expect(deriveSessionContext(request('/?utm_source=%20NewsLetter%20')).source).toBe('newsletter');
    expect(deriveSessionContext(request('/?utm_source=google-ads')).source).toBe('google_ads');
    expect(deriveSessionContext(request('/?utm_source=fb')).source).toBe('facebook');
    expect(deriveSessionContext(request('/?utm_source=my-own-campaign-123')).source).toBe('other');
    expect(deriveSessionContext(request('/?utm_source=')).source).toBe('other');
    // utm_source beats the referrer.
    expect(
      deriveSessionContext(request('/?utm_source=email', { referer: 'https://www.bing.com/' })).source,
    ).toBe('email');
  });

  it('accepts a custom source list and aliases', () => {
    const options = { sources: ['spring_sale'], sourceAliases: { spring: 'spring_sale' } };
    expect(deriveSessionContext(request('/?utm_source=Spring'), options).source).toBe('spring_sale');
    expect(deriveSessionContext(request('/?utm_source=google'), options).source).toBe('other');
  });

  it('maps referrer hosts to search and social names, else referral, and no referrer to direct', () => {
    const source = (referer?: string) =>
      deriveSessionContext(request('/', referer ? { referer } : {})).source;
    expect(source()).toBe('direct');
    expect(source('https://www.google.com/search?q=shoes')).toBe('google');
    expect(source('https://www.google.co.uk/')).toBe('google');
    expect(source('https://m.facebook.com/story')).toBe('facebook');
    expect(source('https://l.instagram.com/')).toBe('instagram');
    expect(source('https://t.co/abc')).toBe('twitter');
    expect(source('https://duckduckgo.com/')).toBe('duckduckgo');
    expect(source('https://blog.example.org/post')).toBe('referral');
    expect(source('https://notgoogle.com.evil.example/')).toBe('referral');
    expect(source('https://shop.example/cart')).toBe('direct');
    expect(source('javascript:alert(1)')).toBe('other');
    expect(source('not a url')).toBe('other');
  });

  it("looks up no longer suffix of a referrer's host than a known host has, however many labels it has", () => {
    // Each label of a client's host was a suffix built and looked up (5 ms a request for a thousand); counted here
    // by lookups, not timed.
    const deep = (host: string) => `https://${'a.'.repeat(1000)}${host}/`;
    const lookups = jest.spyOn(Object.prototype, 'hasOwnProperty');
    let calls: number;
    let sources: string[];
    try {
      sources = [
        deriveSessionContext(request('/', { referer: deep('m.facebook.com') })).source,
        deriveSessionContext(request('/', { referer: deep('blog.example.org') })).source,
      ];
      calls = lookups.mock.calls.length;
    } finally {
      lookups.mockRestore();
    }
    expect(sources).toEqual(['facebook', 'referral']);
    expect(calls).toBeLessThanOrEqual(4);
    // A configured host of more labels is still found under a deep host.
    const options = { referrerHosts: { 'news.example.co.uk': 'news' } };
    expect(deriveSessionContext(request('/', { referer: deep('news.example.co.uk') }), options).source).toBe(
      'news',
    );
  });

  it('classifies devices from the user agent', () => {
    expect(deriveDeviceType(UA.iphone)).toBe('mobile');
    expect(deriveDeviceType(UA.androidPhone)).toBe('mobile');
    expect(deriveDeviceType(UA.androidTablet)).toBe('tablet');
    expect(deriveDeviceType(UA.ipad)).toBe('tablet');
    expect(deriveDeviceType(UA.desktop)).toBe('desktop');
    expect(deriveDeviceType(UA.googlebot)).toBe('bot');
    expect(deriveDeviceType(UA.headless)).toBe('bot');
    expect(deriveDeviceType('curl/8.5.0')).toBe('bot');
    expect(deriveDeviceType('')).toBe('unknown');
    expect(deriveDeviceType(undefined)).toBe('unknown');
  });

  it('reads the experiment variant from the header, then the cookie, allow-listed', () => {
    const variant = (headers: RequestLike['headers']) =>
      deriveSessionContext(request('/', headers)).experimentVariant;
    expect(variant({})).toBe('control');
    expect(variant({ cookie: 'sid=1; experiment_variant=B' })).toBe('B');
    expect(variant({ cookie: 'experiment_variant=A', 'x-experiment-variant': 'B' })).toBe('B');
    expect(variant({ cookie: 'experiment_variant=b' })).toBe('other');
    expect(variant({ cookie: 'experiment_variant=%E0%A4%A' })).toBe('other');
    expect(variant({ 'x-experiment-variant': 'A'.repeat(100) })).toBe('other');
    expect(
      deriveSessionContext(request('/', { cookie: 'exp=treatment' }), {
        variantCookie: 'exp',
        variants: ['control', 'treatment'],
      }).experimentVariant,
    ).toBe('treatment');
  });

  it('keeps every output inside its bounded vocabulary for hostile headers and query strings', () => {
    const hostileString = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.constantFrom(
        '__proto__',
        'constructor',
        'toString',
        '%00',
        '../../etc/passwd',
        '<script>',
        'a'.repeat(100_000),
      ),
    );
    fc.assert(
      fc.property(
        hostileString,
        hostileString,
        hostileString,
        hostileString,
        hostileString,
        fc.boolean(),
        (utm, referer, userAgent, cookie, variantHeader, withUtm) => {
          const url = withUtm ? `/?utm_source=${encodeURIComponent(utm)}&utm_source=x` : `/?${utm}`;
          const context = deriveSessionContext(
            request(url, {
              referer,
              'user-agent': userAgent,
              cookie: `experiment_variant=${cookie}`,
              'x-experiment-variant': variantHeader,
            }),
          );
          expect(BOUNDED_SOURCES.has(context.source)).toBe(true);
          expect(DEVICE_TYPES.has(context.deviceType)).toBe(true);
          expect(VARIANTS.has(context.experimentVariant)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('reads only a bounded prefix of megabyte-sized headers and URLs', () => {
    // Shown by results, not by a timing: what lies past each bound never changes the answer, so the work per
    // request is bounded whatever a client sends. (Speed is the benchmarks' job.)
    const huge = 'Mozilla/5.0 ' + 'a'.repeat(2_000_000);
    expect(
      deriveSessionContext(
        request(`/?utm_source=${'g'.repeat(1_000_000)}`, { 'user-agent': huge, referer: huge, cookie: huge }),
      ),
    ).toEqual({ source: 'other', deviceType: 'desktop', experimentVariant: 'control' });
    const junk = 'a'.repeat(2_000_000);
    const context = (url: string, headers: RequestLike['headers']) =>
      deriveSessionContext(request(url, headers));
    // The same markers, first inside the bounds, then past them.
    expect(context('/?utm_source=google', { 'user-agent': `Mozilla/5.0 (iPhone) Mobile ${junk}` })).toEqual({
      source: 'google',
      deviceType: 'mobile',
      experimentVariant: 'control',
    });
    expect(
      context(`/?x=${junk}&utm_source=google`, { 'user-agent': `Mozilla/5.0 ${junk} (iPhone) Mobile` }),
    ).toEqual({ source: 'direct', deviceType: 'desktop', experimentVariant: 'control' });
    expect(context('/', { cookie: `experiment_variant=B; x=${junk}` }).experimentVariant).toBe('B');
    expect(context('/', { cookie: `x=${junk}; experiment_variant=B` }).experimentVariant).toBe('control');
  });
});
