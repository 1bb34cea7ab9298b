/**
 * A cluster source in a real worker thread: the built ClusterSource over its own SDK provider, recording an `orders`
 * counter (scope `primary-test`) as it is told from the test's thread, and able to hang or hold its collections or shut down
 * (final snapshot). The primary or relay under test, in the test's thread, hears it on the thread channel.
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

/** The built source the thread runs (`npm run build` first). */
export const BUILT_SOURCE = join(__dirname, '../../../dist/cluster/source.js');

const SOURCE_THREAD = `
const { parentPort } = require('node:worker_threads');
const sdk = require(${JSON.stringify(require.resolve('@opentelemetry/sdk-metrics'))});
const { ClusterSource } = require(${JSON.stringify(BUILT_SOURCE)});
const reader = new sdk.PeriodicExportingMetricReader({
  exporter: new sdk.InMemoryMetricExporter(sdk.AggregationTemporality.CUMULATIVE),
  exportIntervalMillis: 60000,
});
const provider = new sdk.MeterProvider({ readers: [reader] });
const orders = provider.getMeter('primary-test').createCounter('orders');
let hang = false;
// Collections held until told (a source slow for as long as a test needs, not hung): each then answers.
let held;
const collect = () =>
  hang ? new Promise(() => undefined) : held ? new Promise((go) => held.push(go)).then(() => reader.collect()) : reader.collect();
const source = new ClusterSource(collect, 'thread');
parentPort.on('message', async (m) => {
  const answer = { id: m.id };
  if (m.add) orders.add(m.add[0], { region: m.add[1] });
  if (m.hang !== undefined) hang = m.hang;
  if (m.hold === true) held = [];
  if (m.hold === false) {
    for (const go of held) go();
    held = undefined;
  }
  if (m.close) await source.close();
  if (m.exposition)
    answer.text = await source.exposition(2000, m.exposition, m.within).catch((e) => 'error: ' + e.message);
  parentPort.postMessage(answer);
});
`;

/** The worker thread of the source, and a request/answer call into it. */
export class SourceThread {
  readonly worker = new Worker(SOURCE_THREAD, { eval: true });
  private next = 1;
  call(message: Record<string, unknown>): Promise<{ text?: string }> {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      const onMessage = (answer: { id: number; text?: string }) => {
        if (answer.id !== id) return;
        this.worker.off('message', onMessage);
        this.worker.off('error', reject);
        resolve(answer);
      };
      this.worker.on('message', onMessage);
      this.worker.once('error', reject);
      this.worker.postMessage({ ...message, id });
    });
  }
  add(value: number, region: string) {
    return this.call({ add: [value, region] });
  }
}
