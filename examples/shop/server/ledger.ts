/**
 * The shop's own order ledger: one JSON line per sale and per refund, written when the shop records it, in the
 * format `otel-business-metrics reconcile` reads (timestamp, kind, amount in minor units, currency; the order,
 * region, payment method and reason ride along). It is what finance would keep, so the docs reconcile the
 * shop's Prometheus figures against it (docs/money.md#checking-your-own-deployment-reconcile).
 *
 * Owns: the ledger file (appended, never rewritten, so it spans restarts; every worker of a cluster appends to the
 * same file, each line one write). Must not touch: metrics.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

export interface LedgerEntry {
  readonly kind: 'sale' | 'refund';
  /** Minor units of `currency`. */
  readonly amount: number;
  readonly currency: string;
  readonly orderId: string;
  readonly region: string;
  readonly paymentMethod: string;
  readonly reason?: string;
}

export interface ShopLedger {
  readonly file: string;
  /** Append one entry, stamped now. Never throws: a write error is reported once on stderr. */
  record(entry: LedgerEntry): void;
  /** Flush and close. */
  close(): Promise<void>;
}

export function openShopLedger(file: string): ShopLedger {
  mkdirSync(dirname(file), { recursive: true });
  const stream: WriteStream = createWriteStream(file, { flags: 'a' });
  let failed = false;
  stream.on('error', (error) => {
    if (!failed) console.error(`The shop's ledger ${file} cannot be written: ${error.message}`);
    failed = true;
  });
  let closed: Promise<void> | undefined;
  return {
    file,
    record(entry) {
      if (failed || closed) return;
      const { orderId, paymentMethod, ...rest } = entry;
      stream.write(
        `${JSON.stringify({
          timestamp: new Date().toISOString(),
          ...rest,
          order_id: orderId,
          payment_method: paymentMethod,
        })}\n`,
      );
    },
    close() {
      closed ??= new Promise<void>((resolve) => stream.end(() => resolve()));
      return closed;
    },
  };
}
