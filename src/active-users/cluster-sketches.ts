/**
 * Distinct users across cluster workers and worker threads: each worker ships the registers of its recent
 * tier-day sketches with its cluster snapshot, and the primary merges them register-wise (maximum) into its own
 * sketches, so a user seen by several workers counts once, and the fleet figure is the primary's union.
 *
 * Owns: the cluster extension's payload (base64 registers: cluster IPC is JSON), which tier-days it carries (those
 * that changed since the previous payload, numbered so a lost one is noticed and everything resent), and the
 * rules a payload from a worker must pass before anything is merged (docs/safety.md#peers). Must not touch: the
 * sketches' arithmetic (day-sketches.ts), the cluster protocol (src/cluster).
 */
import type { ClusterExtension } from '../cluster/extensions';
import { RETAINED_DAYS, type DaySketchSnapshot } from './day-sketches';
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
 * What a worker ships with a snapshot: the tier-days that changed since its previous payload, numbered so the
 * primary sees a gap. `prev` is the `seq` of the payload this one follows (0: this one carries every retained
 * tier-day, whatever came before).
 */
interface WirePayload {
  readonly seq: number;
  readonly prev: number;
  readonly sketches: readonly WireSketch[];
}

/**
 * The extension for one process.
 *
 * A worker sends every retained tier-day in its first payload, then only the tier-days whose registers changed
 * since its previous payload (a sketch is 16 KiB; most tiers do not change between two scrapes, and days before
 * today never do). Every snapshot carries a payload, even an empty one, so the chain of `seq` numbers has no
 * silent hole: when a payload is lost (a refused snapshot, a failed send), the next one does not follow the last
 * the primary merged, and the primary asks that worker for a full snapshot (`full` in its next request), which
 * restarts the chain with every retained tier-day. What arrived is merged either way (register-wise maximum is
 * idempotent), so registers are never lost, only sent again. A late snapshot is merged when it arrives: the
 * channel keeps a worker's messages in order.
 *
 * The primary merges what arrives into its own sketches and reports the union; its own sketches need no
 * payload. An exited worker's users stay counted.
 */
export function activeUsersClusterExtension(
  counter: ActiveUsersCounter,
  role: 'primary' | 'source',
): ClusterExtension<WirePayload> {
  // Source side: the sketch version of each tier-day in the payloads sent so far, and the chain.
  const sent = new Map<string, number>();
  let seq = 0;
  let full = true;
  // Primary side: the last payload merged from each source.
  const merged = new Map<string, number>();
  return {
    name: ACTIVE_USERS_EXTENSION,
    collect() {
      if (role === 'primary') return undefined;
      const sketches: WireSketch[] = [];
      const retained = new Set<string>();
      for (const sketch of counter.sketchStates()) {
        const key = `${sketch.tier}\u0000${sketch.day}`;
        retained.add(key);
        if (!full && sent.get(key) === sketch.version) continue;
        sent.set(key, sketch.version);
        sketches.push(toWire(sketch));
      }
      // Days that left the retention window no longer change.
      for (const key of sent.keys()) if (!retained.has(key)) sent.delete(key);
      const payload = { seq: seq + 1, prev: full ? 0 : seq, sketches };
      seq++;
      full = false;
      return payload;
    },
    restart() {
      full = true;
    },
    // A payload that breaks a rule throws before anything is merged: the primary counts it as `invalid` (and the
    // next payload then does not follow the last merged one: the worker is asked for everything).
    accept(source, payload) {
      const { seq: received, prev, sketches } = fromWire(payload, counter.precision);
      counter.merge(sketches);
      const last = merged.get(source) ?? 0;
      merged.set(source, Math.max(last, received));
      return prev === 0 || prev === last ? undefined : 'resend';
    },
    retire(source) {
      merged.delete(source);
    },
  };
}

function toWire({ tier, day, registers }: { tier: string; day: number; registers: Uint8Array }): WireSketch {
  return {
    tier,
    day,
    registers: Buffer.from(registers.buffer, registers.byteOffset, registers.length).toString('base64'),
  };
}

/**
 * A worker's payload, checked: `{ seq, prev, sketches }` with 0 <= prev < seq, and sketches an array of
 * `{ tier, day, registers }` with a tier name, a whole day number and exactly 2^precision registers, each at most
 * the largest rank a 64-bit hash gives (65 - precision). A register above it would inflate every estimate that
 * covers its day. Throws a TypeError naming the rule otherwise.
 */
function fromWire(
  wire: unknown,
  precision: number,
): { seq: number; prev: number; sketches: DaySketchSnapshot[] } {
  const {
    seq,
    prev,
    sketches: payload,
  } = (typeof wire === 'object' && wire !== null ? wire : {}) as Record<string, unknown>;
  if (
    !Number.isSafeInteger(seq) ||
    !Number.isSafeInteger(prev) ||
    !((prev as number) >= 0) ||
    !(prev! < seq!)
  ) {
    throw new TypeError('active-users payload must number itself: integers 0 <= prev < seq');
  }
  if (!Array.isArray(payload) || payload.length > MAX_WIRE_SKETCHES) {
    throw new TypeError(`active-users payload sketches must be an array of at most ${MAX_WIRE_SKETCHES}`);
  }
  const length = 1 << precision;
  const maxRank = 65 - precision;
  const sketches = payload.map((entry: unknown, i): DaySketchSnapshot => {
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
  return { seq: seq as number, prev: prev as number, sketches };
}
