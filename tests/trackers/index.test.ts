/**
 * src/trackers/index.ts only re-exports: the root entry's `export *` hands exactly these names to every app, so
 * a tracker export added, dropped or re-pointed here changes the public API and must fail a test.
 */
import * as trackers from '../../src/trackers';
import * as checkout from '../../src/trackers/checkout';
import * as engagement from '../../src/trackers/engagement';
import { exportOrigins } from '../support/entry-points';

describe('src/trackers/index.ts', () => {
  it('exports exactly the trackers and their constants, each the very object of its module', () => {
    expect(exportOrigins(trackers, { checkout, engagement })).toEqual({
      CheckoutStep: 'checkout',
      CheckoutTracker: 'checkout',
      EngagementTracker: 'engagement',
      MILESTONE_STEP_PREFIX: 'engagement',
    });
  });
});
