/**
 * Distinct users across cluster workers and worker threads: each worker ships the registers of its recent
 * tier-day sketches with its cluster snapshot, and the primary merges them register-wise (maximum) into its own
 * sketches, so a user seen by several workers counts once, and the fleet figure is the primary's union.
 *
 * Owns: the cluster extension's payload (base64 registers: cluster IPC is JSON), which days it carries, and the
 * rules a payload from a worker must pass before anything is merged (docs/safety.md#peers). Must not touch: the
 * sketches' arithmetic (day-sketches.ts), the cluster protocol (src/cluster).
 */
import type { ClusterExtension } from '../cluster/extensions';
import { DAY_MS, RETAINED_DAYS, type DaySketchSnapshot } from './day-sketches';
import type { ActiveUsersCounter } from './tracker';

/** Tier-days in one payload at most: every retained day of 256 tiers. */
const MAX_WIRE_SKETCHES = 256 * (RETAINED_DAYS + 1);

/** Extension name in the cluster snapshot. */
export const ACTIVE_USERS_EXTENSION = 'otel-business-metrics/active-users';

interface WireSketch {
  readonly tier: string;
  readonly day: number;
  readonly registers: string;
}

/**
 * The extension for one process. A worker sends every retained tier-day once, then today's and yesterday's on
 * every snapshot (a lost snapshot costs nothing: register-wise maximum is idempotent, and older days no longer
 * change). The primary merges what arrives; an exited worker's users stay counted.
 */
export function activeUsersClusterExtension(
  counter: ActiveUsersCounter,
  now: () => number,
): ClusterExtension<WireSketch[]> {
  let sentAll = false;
  return {
    name: ACTIVE_USERS_EXTENSION,
    collect() {
      const fromDay = sentAll ? Math.floor(now() / DAY_MS) - 1 : -Infinity;
      sentAll = true;
      const sketches = counter.snapshot(fromDay);
      return sketches.length === 0 ? undefined : sketches.map(toWire);
    },
    // A payload that breaks a rule throws before anything is merged: the primary counts it as `invalid`.
    accept(_source, payload) {
      counter.merge(fromWire(payload, counter.precision));
    },
  };
}

function toWire({ tier, day, registers }: DaySketchSnapshot): WireSketch {
  return {
    tier,
    day,
    registers: Buffer.from(registers.buffer, registers.byteOffset, registers.length).toString('base64'),
  };
}

/**
 * A worker's payload, checked: an array of `{ tier, day, registers }` with a tier name, a whole day number and
 * exactly 2^precision registers, each at most the largest rank a 64-bit hash gives (65 - precision). A register
 * above it would inflate every estimate that covers its day. Throws a TypeError naming the rule otherwise.
 */
function fromWire(payload: unknown, precision: number): DaySketchSnapshot[] {
  if (!Array.isArray(payload) || payload.length > MAX_WIRE_SKETCHES) {
    throw new TypeError(`active-users payload must be an array of at most ${MAX_WIRE_SKETCHES} sketches`);
  }
  const length = 1 << precision;
  const maxRank = 65 - precision;
  return payload.map((entry: unknown, i) => {
    const { tier, day, registers } = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<
      string,
      unknown
    >;
    if (typeof tier !== 'string' || tier.length === 0 || tier.length > 256) {
      throw new TypeError(`active-users payload[${i}].tier must be a string of 1 to 256 characters`);
    }
    if (!Number.isSafeInteger(day)) throw new TypeError(`active-users payload[${i}].day must be an integer`);
    if (typeof registers !== 'string' || registers.length !== 4 * Math.ceil(length / 3)) {
      throw new TypeError(`active-users payload[${i}].registers must be ${length} registers in base64`);
    }
    const bytes = new Uint8Array(Buffer.from(registers, 'base64'));
    if (bytes.length !== length) {
      throw new TypeError(`active-users payload[${i}].registers must be ${length} registers in base64`);
    }
    for (let r = 0; r < bytes.length; r++) {
      if (bytes[r] > maxRank)
        throw new TypeError(`active-users payload[${i}] has a register above ${maxRank}`);
    }
    return { tier, day: day as number, registers: bytes };
  });
}
