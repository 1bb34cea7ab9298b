/**
 * Distinct users across cluster workers and worker threads: each worker ships the registers of its recent
 * tier-day sketches with its cluster snapshot, and the primary merges them register-wise (maximum) into its own
 * sketches, so a user seen by several workers counts once, and the fleet figure is the primary's union.
 *
 * Owns: the cluster extension's payload (base64 registers: cluster IPC is JSON) and which days it carries.
 * Must not touch: the sketches' arithmetic (day-sketches.ts), the cluster protocol (src/cluster).
 */
import type { ClusterExtension } from '../cluster/protocol';
import { DAY_MS, type DaySketchSnapshot } from './day-sketches';
import type { ActiveUsersCounter } from './tracker';

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
    accept(_source, payload) {
      if (!Array.isArray(payload)) return;
      counter.merge(payload.map(fromWire));
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

function fromWire({ tier, day, registers }: WireSketch): DaySketchSnapshot {
  return {
    tier: String(tier),
    day: Number(day),
    registers: new Uint8Array(Buffer.from(String(registers), 'base64')),
  };
}
