/**
 * `otel-business-metrics/react`: the seed's `useEngagementTracking` hook, backed by the browser engagement client.
 *
 * Owns: the hook's lifecycle (one client per mount and config, session end on unmount). Must not touch: the
 * package's main entry or the OTel SDK (browsers cannot record metrics directly; the client posts to the server).
 * React is an optional peer dependency: only this entry point imports it.
 * Must not import: `src/index.ts`, `src/metrics/`, `src/series/`, `src/exporters/`, `src/integrations/`, `node:*`, `@opentelemetry/*`.
 */
import { useEffect, useMemo, useRef } from 'react';
import {
  createEngagementClient,
  type EngagementClient,
  type EngagementClientOptions,
} from '../browser/client';

export interface EngagementTrackingConfig {
  readonly userTier: string;
  readonly entryPage: string;
  readonly isNewUser: boolean;
  /** Engagement router URL; default `/api/engagement`. */
  readonly endpoint?: string;
  /** Batch size and flush interval, passed to the browser client. */
  readonly maxBatch?: EngagementClientOptions['maxBatch'];
  readonly flushIntervalMs?: EngagementClientOptions['flushIntervalMs'];
}

export interface EngagementTracking {
  trackFeature(featureName: string): void;
  trackMilestone(milestone: string): void;
}

/**
 * Tracks engagement for the component's lifetime, as in the seed: a session starts on mount (or when the user tier,
 * entry page, new-user flag or endpoint change) and ends on unmount, which records its duration. Events are
 * batched and delivered by the browser client; the returned functions are stable across renders.
 */
export function useEngagementTracking(config: EngagementTrackingConfig): EngagementTracking {
  const clientRef = useRef<EngagementClient | null>(null);
  const { userTier, entryPage, isNewUser, endpoint, maxBatch, flushIntervalMs } = config;

  useEffect(() => {
    const client = createEngagementClient({
      userTier,
      entryPage,
      isNewUser,
      endpoint,
      maxBatch,
      flushIntervalMs,
    });
    clientRef.current = client;
    return () => {
      client.endSession();
      client.dispose();
      if (clientRef.current === client) clientRef.current = null;
    };
  }, [userTier, entryPage, isNewUser, endpoint, maxBatch, flushIntervalMs]);

  return useMemo(
    () => ({
      trackFeature: (featureName: string) => clientRef.current?.trackFeature(featureName),
      trackMilestone: (milestone: string) => clientRef.current?.trackMilestone(milestone),
    }),
    [],
  );
}

export { DEFAULT_ENGAGEMENT_ENDPOINT } from '../browser/protocol';
