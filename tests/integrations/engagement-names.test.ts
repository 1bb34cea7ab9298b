/**
 * Anonymous beacons cannot fill the core's vocabularies: browser-reported names are allow-listed or kept in the
 * router's own bounded vocabulary, so server-side values (a feature recorded by the server, the checkout steps)
 * keep their labels. Real Express app, real sockets, real scrapes.
 */
import type { Server } from 'node:http';
import express from 'express';
import {
  type BusinessMetricsHandle,
  businessMetrics,
  initBusinessMetrics,
  PROMETHEUS_FAMILIES,
} from '../../src';
import { engagementRouter, metricsMiddleware } from '../../src/integrations/express';
import { parseExposition, type Sample } from '../../examples/shop/server/exposition';
import { listenOnLoopback } from '../support/http';

const FEATURES = PROMETHEUS_FAMILIES.featureUsage;
const FUNNEL = PROMETHEUS_FAMILIES.funnelStep;
const SESSIONS = `${PROMETHEUS_FAMILIES.sessionDuration}_count`;
const session = { userTier: 'pro', entryPage: '/', isNewUser: false };
const endedNow = () => ({ kind: 'session_end', sessionStartTime: Date.now() - 60_000, endedAt: Date.now() });

describe('engagement router: browser names stay bounded', () => {
  let telemetry: BusinessMetricsHandle;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    // Small core caps make the difference visible with a few hundred requests.
    telemetry = initBusinessMetrics({
      exporters: ['prometheus'],
      prometheus: { preventServerStart: true },
      limits: {
        labels: {
          feature_name: { kind: 'capped', maxValues: 30 },
          entry_page: { kind: 'capped', maxValues: 30 },
        },
      },
    });
    const app = express();
    app.set('trust proxy', 'loopback');
    app.get('/metrics', metricsMiddleware(telemetry));
    app.use('/open', engagementRouter({ maxBrowserNames: 10, rateLimit: false }));
    app.use(
      '/listed',
      engagementRouter({
        features: ['size_guide', 'search'],
        milestones: ['first_purchase'],
        rateLimit: false,
      }),
    );
    app.use(
      '/resolved',
      engagementRouter({
        rateLimit: false,
        features: ['search'],
        milestones: [],
        resolveSession: () => ({ userTier: 'enterprise', entryPage: '/product/:id', isNewUser: true }),
      }),
    );
    ({ server, base } = await listenOnLoopback(app));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await telemetry.shutdown({ timeoutMillis: 2000 });
  });

  const post = (path: string, body: unknown, from = '198.51.100.1') =>
    fetch(`${base}${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
    });
  const scrape = async (): Promise<Sample[]> =>
    parseExposition(await (await fetch(`${base}/metrics`)).text());
  const values = (samples: Sample[], family: string, label: string) =>
    new Set(samples.filter((s) => s.name === family).map((s) => s.labels[label]));

  it('300 junk feature names from 30 addresses do not fold the server-side size_guide into other', async () => {
    for (let i = 0; i < 300; i += 30) {
      const answers = await Promise.all(
        Array.from({ length: 30 }, (_, k) =>
          post(
            '/open',
            {
              session: { ...session, entryPage: `/junk-${i + k}` },
              events: [
                { kind: 'feature', name: `junk_${i + k}` },
                { kind: 'milestone', name: `m_${i + k}` },
                endedNow(),
              ],
            },
            `198.51.100.${k}`,
          ),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(Array(30).fill(202));
    }
    businessMetrics.recordFeatureUsage('size_guide', { userTier: 'pro', isNewUser: false });
    businessMetrics.recordFunnelStep('cart_view', {
      source: 'direct',
      deviceType: 'desktop',
      experimentVariant: 'control',
    });
    const samples = await scrape();
    const features = values(samples, FEATURES, 'feature_name');
    expect(features.has('size_guide')).toBe(true);
    // 10 browser names (maxBrowserNames) and "other" for the remaining 290, plus the server's one.
    expect(features.size).toBe(12);
    expect(values(samples, FUNNEL, 'step').size).toBeLessThanOrEqual(11 + 1);
    expect(values(samples, SESSIONS, 'entry_page').size).toBe(11);
  });

  it('with allow-lists, refuses names the pages do not carry and keeps the real ones', async () => {
    const junk = await post('/listed', { session, events: [{ kind: 'feature', name: 'size_guide_' }] });
    expect(junk.status).toBe(400);
    expect(await junk.json()).toMatchObject({
      error: expect.stringMatching(/not an accepted feature name/),
      accepted: 0,
      refused: 1,
    });
    const real = await post('/listed', {
      session,
      events: [
        { kind: 'feature', name: 'search' },
        { kind: 'milestone', name: 'first_purchase' },
      ],
    });
    expect(real.status).toBe(202);
    const samples = await scrape();
    expect(values(samples, FEATURES, 'feature_name').has('search')).toBe(true);
    expect(values(samples, FUNNEL, 'step').has('milestone_first_purchase')).toBe(true);
  });

  it("takes the session (entry page included) from the server's resolveSession", async () => {
    const answer = await post('/resolved', {
      session: { userTier: 'free', entryPage: '/made-up', isNewUser: false },
      events: [endedNow()],
    });
    expect(answer.status).toBe(202);
    const entries = (await scrape()).filter(
      (s) => s.name === SESSIONS && s.labels.user_tier === 'enterprise',
    );
    expect(entries.map((s) => s.labels.entry_page)).toEqual(['/product/:id']);
  });
});
