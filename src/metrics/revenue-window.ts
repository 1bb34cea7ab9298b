/**
 * Rolling one-minute revenue for one region: 60 one-second slots, so adding is O(1) and reading is O(60).
 *
 * Owns: the window arithmetic. Must not touch: labels, instruments. The seed declared
 * business_revenue_per_minute_cents but never set it; this is what the observable gauge reports.
 */
import type { Attributes } from '@opentelemetry/api';

const SLOTS = 60;

export class RevenueWindow {
  private readonly amounts = new Float64Array(SLOTS);
  private readonly seconds = new Float64Array(SLOTS).fill(-1);

  constructor(readonly attributes: Attributes) {}

  add(amount: number, nowMillis: number): void {
    const second = Math.floor(nowMillis / 1000);
    const slot = second % SLOTS;
    if (this.seconds[slot] !== second) {
      this.seconds[slot] = second;
      this.amounts[slot] = 0;
    }
    this.amounts[slot] += amount;
  }

  /** Revenue recorded in the 60 seconds up to and including the current second. */
  total(nowMillis: number): number {
    const oldest = Math.floor(nowMillis / 1000) - SLOTS + 1;
    let sum = 0;
    for (let slot = 0; slot < SLOTS; slot++) {
      if (this.seconds[slot] >= oldest) sum += this.amounts[slot];
    }
    return sum;
  }
}
