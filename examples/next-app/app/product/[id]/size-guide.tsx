'use client';

import { useEngagementTracking } from 'otel-business-metrics/react';

// The browser client in a client component: feature usage goes to app/api/engagement/route.ts.
export function SizeGuide({ entryPage }: { entryPage: string }) {
  const { trackFeature } = useEngagementTracking({ userTier: 'free', entryPage, isNewUser: true });
  return (
    <button type="button" onClick={() => trackFeature('size_guide')}>
      Size guide
    </button>
  );
}
