/**
 * `otel-business-metrics/react`: the seed's `useEngagementTracking` hook, backed by the browser engagement client.
 *
 * Owns: the hook's lifecycle (one client per page and config, shared by every hook instance with that config and
 * reference-counted; the session ends when the last one unmounts). Must not touch: the package's main entry or the
 * OTel SDK (browsers cannot record metrics directly; the client posts to the server).
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
  /** Engagement router URL, on the page's own origin (see the browser client's `endpoint`); default `/api/engagement`. */
  readonly endpoint?: string;
  /** Batch size and flush interval, passed to the browser client. */
  readonly maxBatch?: EngagementClientOptions['maxBatch'];
  readonly flushIntervalMs?: EngagementClientOptions['flushIntervalMs'];
}

export interface EngagementTracking {
  trackFeature(featureName: string): void;
  trackMilestone(milestone: string): void;
}

interface Shared {
  readonly client: EngagementClient;
  refs: number;
  ending?: ReturnType<typeof setTimeout>;
}

/** Calls a hook keeps until its effect runs (a child's mount effect, a layout effect); later ones are dropped. */
const MAX_EARLY_CALLS = 50;

// One client per page and config. Filled only from effects, which never run on the server: server-side rendering
// keeps nothing here.
let shared: Map<string, Shared> | undefined;

function acquire(key: string, options: EngagementClientOptions): EngagementClient {
  shared ??= new Map();
  let entry = shared.get(key);
  if (!entry) {
    entry = { client: createEngagementClient(options), refs: 0 };
    shared.set(key, entry);
  }
  clearTimeout(entry.ending);
  entry.ending = undefined;
  entry.refs++;
  return entry.client;
}

function release(key: string): void {
  const entry = shared?.get(key);
  if (!entry || --entry.refs > 0) return;
  // A macrotask later: StrictMode's unmount and remount (and a hook with the same config mounting as this one
  // unmounts) acquire it again before then, and must not end the session with a 0 ms duration.
  entry.ending = setTimeout(() => {
    if (entry.refs > 0) return;
    shared?.delete(key);
    entry.client.endSession();
    entry.client.dispose();
  }, 0);
}

/**
 * Tracks engagement for the page, as in the seed: a session starts when the first component using the hook with a
 * given config (user tier, entry page, new-user flag, endpoint, batch size, flush interval) mounts, and ends, which
 * records its duration, when the last one unmounts. Every component with the same config shares one client, so 25
 * buttons on a page make one session and one set of requests. Calls made before the hook's effect runs (a child's
 * mount effect, a layout effect) are kept (up to 50) and sent once it runs; calls after the component unmounted do
 * nothing. Nothing happens during server-side rendering. The returned functions are stable across renders.
 */
export function useEngagementTracking(config: EngagementTrackingConfig): EngagementTracking {
  const { userTier, entryPage, isNewUser, endpoint, maxBatch, flushIntervalMs } = config;
  // The client while the effect is in place; before it, the calls waiting for it.
  const state = useRef<{ client?: EngagementClient; early: [milestone: boolean, name: string][] }>({
    early: [],
  });

  useEffect(() => {
    if (typeof window === 'undefined') return undefined;
    const options = { userTier, entryPage, isNewUser, endpoint, maxBatch, flushIntervalMs };
    const key = JSON.stringify([endpoint, userTier, entryPage, isNewUser, maxBatch, flushIntervalMs]);
    const hook = state.current;
    const client = acquire(key, options);
    hook.client = client;
    for (const [milestone, name] of hook.early.splice(0)) {
      if (milestone) client.trackMilestone(name);
      else client.trackFeature(name);
    }
    return () => {
      hook.client = undefined;
      release(key);
    };
  }, [userTier, entryPage, isNewUser, endpoint, maxBatch, flushIntervalMs]);

  return useMemo(() => {
    const track = (milestone: boolean, name: string): void => {
      const { client, early } = state.current;
      if (client) {
        if (milestone) client.trackMilestone(name);
        else client.trackFeature(name);
      } else if (early.length < MAX_EARLY_CALLS) {
        early.push([milestone, name]);
      }
    };
    return {
      trackFeature: (featureName: string) => track(false, featureName),
      trackMilestone: (milestone: string) => track(true, milestone),
    };
  }, []);
}

export { DEFAULT_ENGAGEMENT_ENDPOINT } from '../browser/protocol';
