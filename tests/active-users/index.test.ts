/**
 * src/active-users/index.ts, the active-users folder's surface for the rest of the package: exactly these runtime
 * names, each the very object of the module that defines it (one HyperLogLog, one hasher, one day ring, one
 * store), so nothing is wrapped or defined twice.
 */
import * as activeUsers from '../../src/active-users';
import * as daySketches from '../../src/active-users/day-sketches';
import * as hyperloglog from '../../src/active-users/hyperloglog';
import * as redisStore from '../../src/active-users/redis-store';
import * as tracker from '../../src/active-users/tracker';
import * as userHash from '../../src/active-users/user-hash';
import { exportOrigins } from '../support/entry-points';

describe('active-users entry point', () => {
  it('exports exactly these names, each from the module that defines it', () => {
    expect(exportOrigins(activeUsers, { tracker, daySketches, hyperloglog, redisStore, userHash })).toEqual({
      ACTIVE_USER_WINDOW_DAYS: 'daySketches',
      ActiveUsersCounter: 'tracker',
      DEFAULT_PRECISION: 'hyperloglog',
      HyperLogLog: 'hyperloglog',
      MAX_PRECISION: 'hyperloglog',
      MIN_HASH_KEY_BYTES: 'userHash',
      MIN_PRECISION: 'hyperloglog',
      RETAINED_DAYS: 'daySketches',
      RedisActiveUsersStore: 'redisStore',
      UserIdHasher: 'userHash',
      dayLabel: 'daySketches',
      estimateUnion: 'hyperloglog',
      utcDay: 'daySketches',
    });
  });
});
