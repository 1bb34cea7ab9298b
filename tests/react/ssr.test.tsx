/** @jest-environment node */
// Server-side rendering: no `window`, effects never run. The hook must create no client (no timer, no listener, no
// request from the server) and keep nothing in module state, whatever a component tracks while rendering.
import type { ReactElement } from 'react';
import * as client from '../../src/browser/client';
import { useEngagementTracking } from '../../src/react';

// react-dom ships no types here (no @types/react-dom): the one function used, typed by hand.
const { renderToString } = require('react-dom/server') as { renderToString(element: ReactElement): string };

function ProductPage() {
  const { trackFeature } = useEngagementTracking({
    userTier: 'pro',
    entryPage: '/product/:id',
    isNewUser: false,
  });
  trackFeature('rendered_on_server');
  return <p>product</p>;
}

it('creates no client while rendering on the server', () => {
  const create = jest.spyOn(client, 'createEngagementClient');
  expect(typeof window).toBe('undefined');
  expect(renderToString(<ProductPage />)).toContain('product');
  expect(create).not.toHaveBeenCalled();
});
