/**
 * src/browser/index.ts, the `otel-business-metrics/browser` entry point: exactly these runtime names, each the very
 * object of client.ts or protocol.ts (the Express router validates batches against the same protocol constants the
 * client is built from), and the public types still exported (this file does not compile when one goes).
 */
import * as browser from '../../src/browser';
import * as client from '../../src/browser/client';
import * as protocol from '../../src/browser/protocol';
import { exportOrigins } from '../support/entry-points';

describe('browser entry point', () => {
  it('exports exactly these names, each from the module that defines it', () => {
    expect(exportOrigins(browser, { client, protocol })).toEqual({
      DEFAULT_ENGAGEMENT_ENDPOINT: 'protocol',
      ENGAGEMENT_CONTEXT_PATTERN: 'protocol',
      ENGAGEMENT_EVENT_KINDS: 'protocol',
      ENGAGEMENT_LIMITS: 'protocol',
      ENGAGEMENT_NAME_PATTERN: 'protocol',
      createEngagementClient: 'client',
    });
  });

  it('exports the types of the client and of every event kind of the wire format', () => {
    // Typed with the entry's own types: this file stops compiling when one of them is no longer exported.
    const create: (options: browser.EngagementClientOptions) => browser.EngagementClient =
      browser.createEngagementClient;
    const events: browser.EngagementEvent[] = [
      { kind: 'feature', name: 'wishlist' } satisfies browser.FeatureEvent,
      { kind: 'milestone', name: 'first_purchase' } satisfies browser.MilestoneEvent,
      { kind: 'session_end', sessionStartTime: 1, endedAt: 2 } satisfies browser.SessionEndEvent,
    ];
    const session: browser.EngagementSession = {
      userTier: 'pro',
      entryPage: '/product/:id',
      isNewUser: true,
    };
    const batch: browser.EngagementBatch = { session, events };
    expect(create).toBe(client.createEngagementClient);
    // One typed event shape per kind the protocol lists, in its order.
    expect(batch.events.map((event) => event.kind)).toEqual<browser.EngagementEventKind[]>([
      ...browser.ENGAGEMENT_EVENT_KINDS,
    ]);
  });
});
