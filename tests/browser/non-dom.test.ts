/** @jest-environment node */
// The client promises never to throw into the page, including where `window` is not a DOM window: React Native's
// global `window` has no events, some runtimes have a `window` without `document`; and plain JavaScript callers can
// forget the options or pass a name whose `toString` throws. Every body sent must still pass the router's validator.
import { createEngagementClient } from '../../src/browser';
import { validateEngagementBatch } from '../../src/integrations/http/validate';

const base = { userTier: 'pro', entryPage: '/x', isNewUser: false, flushIntervalMs: 0 };
let bodies: string[];
let warn: jest.SpyInstance;

beforeEach(() => {
  bodies = [];
  Object.defineProperty(globalThis, 'fetch', {
    configurable: true,
    value: async (_url: string, init: RequestInit) => {
      bodies.push(String(init.body));
      return { ok: true, status: 202 };
    },
  });
  warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
});

afterEach(() => {
  delete (globalThis as { window?: unknown }).window;
  warn.mockRestore();
});

const accepted = () =>
  bodies.map((body) => {
    const result = validateEngagementBatch(JSON.parse(body));
    if (!result.ok) throw new Error(result.error);
    return result.batch.events.map((e) => e.kind);
  });

it.each([
  ['a window without DOM events (React Native)', {}],
  ['a window without document', { addEventListener() {}, removeEventListener() {} }],
])('works with %s', (_, win) => {
  (globalThis as { window?: unknown }).window = win;
  const client = createEngagementClient(base);
  client.trackFeature('search');
  client.endSession();
  client.dispose();
  expect(accepted()).toEqual([['feature', 'session_end']]);
});

it('works without options, sending its context as unknown', () => {
  const client = (
    createEngagementClient as (options?: unknown) => ReturnType<typeof createEngagementClient>
  )();
  client.trackFeature('search');
  client.endSession();
  expect(accepted()).toEqual([['feature', 'session_end']]);
  expect(JSON.parse(bodies[0] ?? '{}').session).toEqual({
    userTier: 'unknown',
    entryPage: 'unknown',
    isNewUser: false,
  });
});

it('ignores a name or a context whose toString throws', () => {
  const evil = {
    toString(): string {
      throw new Error('boom');
    },
  };
  const client = createEngagementClient({ ...base, userTier: evil as unknown as string });
  expect(() => client.trackFeature(evil as unknown as string)).not.toThrow();
  expect(() => client.trackMilestone(evil as unknown as string)).not.toThrow();
  client.trackFeature('search');
  client.endSession();
  expect(accepted()).toEqual([['feature', 'session_end']]);
});
