/**
 * Browser script of the shop pages: wires the package's engagement client to the page.
 *
 * Owns: which clicks count as feature usage (elements with `data-feature`), the product search filter, and the
 * milestone a page announces (`data-milestone` on `<body>`). Must not touch: checkout (server-side) or session end
 * (the server ends sessions when they go idle: in a multi-page shop every navigation fires `pagehide`).
 */
import { createEngagementClient } from '../../../src/browser';

const data = document.body.dataset;
const client = createEngagementClient({
  endpoint: '/api/engagement',
  userTier: data.userTier ?? 'free',
  entryPage: data.entryPage ?? '/',
  isNewUser: data.newUser === 'true',
  sessionStartTime: Number(data.sessionStart) || Date.now(),
  sessionEnd: 'manual',
  flushIntervalMs: 5000,
});

document.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target.closest<HTMLElement>('[data-feature]') : null;
  if (!target || target instanceof HTMLInputElement) return;
  const feature = target.dataset.feature;
  if (feature) client.trackFeature(feature);
  if (feature === 'wishlist') {
    target.textContent = '♥ Saved to wishlist';
    target.classList.add('saved');
  } else if (feature === 'product_zoom') {
    target.classList.toggle('zoomed');
  } else if (feature === 'apply_coupon') {
    const result = document.getElementById('coupon-result');
    if (result) result.textContent = 'That code is not valid (it is a demo).';
  } else if (feature === 'size_guide') {
    target.textContent = 'S 36-38 · M 39-41 · L 42-44';
  }
});

const search = document.getElementById('search');
if (search instanceof HTMLInputElement) {
  let counted = false;
  search.addEventListener('input', () => {
    // One search per page view counts as using the feature; every keystroke would inflate it.
    if (!counted) {
      client.trackFeature('search');
      counted = true;
    }
    const query = search.value.trim().toLowerCase();
    document.querySelectorAll<HTMLElement>('#products .tile').forEach((tile) => {
      tile.hidden = query !== '' && !(tile.dataset.name ?? '').includes(query);
    });
  });
}

if (data.milestone) client.trackMilestone(data.milestone);
