/**
 * src/support/index.ts only re-exports the support room's jobs; every other room imports them from here.
 * Holds its exact runtime export list and that each name is the very object of the module that owns the job.
 */
import * as support from '../../src/support';
import * as describeModule from '../../src/support/describe';
import * as lazyClass from '../../src/support/lazy-class';
import * as optionalPeer from '../../src/support/optional-peer';
import * as timeout from '../../src/support/timeout';
import * as warnings from '../../src/support/warnings';
import { exportOrigins } from './entry-points';

describe('src/support/index.ts', () => {
  it('exports exactly the jobs, each the very object of its module', () => {
    expect(exportOrigins(support, { describeModule, lazyClass, optionalPeer, timeout, warnings })).toEqual({
      OptionalPeerError: 'optionalPeer',
      RateLimitedWarnings: 'warnings',
      TimeoutError: 'timeout',
      describe: 'describeModule',
      lazyClass: 'lazyClass',
      loadOptionalPeer: 'optionalPeer',
      optionalPeerInstalled: 'optionalPeer',
      printable: 'describeModule',
      resolveOptionalPeer: 'optionalPeer',
      safeMessage: 'describeModule',
      withTimeout: 'timeout',
    });
  });
});
