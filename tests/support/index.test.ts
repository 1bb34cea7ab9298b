/**
 * src/support/index.ts only re-exports the support room's jobs; every other room imports them from here.
 * Holds its exact runtime export list and that each name is the very object of the module that owns the job.
 */
import * as support from '../../src/support';
import * as describeModule from '../../src/support/describe';
import * as diagModule from '../../src/support/diag';
import * as lazyClass from '../../src/support/lazy-class';
import * as optionalPeer from '../../src/support/optional-peer';
import * as otelApi from '../../src/support/otel-api';
import * as timeout from '../../src/support/timeout';
import * as warnings from '../../src/support/warnings';
import { exportOrigins } from './entry-points';

describe('src/support/index.ts', () => {
  it('exports exactly the jobs, each the very object of its module', () => {
    expect(
      exportOrigins(support, {
        describeModule,
        diagModule,
        lazyClass,
        optionalPeer,
        otelApi,
        timeout,
        warnings,
      }),
    ).toEqual({
      OptionalPeerError: 'optionalPeer',
      PACKAGE_MESSAGE_PREFIX: 'diagModule',
      RateLimitedWarnings: 'warnings',
      TimeoutError: 'timeout',
      describe: 'describeModule',
      diag: 'diagModule',
      lazyClass: 'lazyClass',
      loadOptionalPeer: 'optionalPeer',
      optionalPeerInstalled: 'optionalPeer',
      otelApi: 'otelApi',
      printable: 'describeModule',
      registeredWithApi: 'otelApi',
      resolveOptionalPeer: 'optionalPeer',
      safeMessage: 'describeModule',
      withTimeout: 'timeout',
    });
  });
});
