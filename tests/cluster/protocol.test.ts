/**
 * src/cluster/protocol.ts, the messages between a primary and its sources: numbers survive the JSON wire exactly,
 * non-finite ones as the strings 'NaN', 'Inf' and '-Inf' (JSON has no such numbers: JSON.stringify would turn
 * them into null); only messages with the package's tag are taken for the package's (the app may share the IPC
 * channel); and the tag, version and thread channel names are the fixed values every process of a fleet, and
 * every version of the package, must agree on.
 */
import {
  fromWire,
  isClusterMessage,
  PROTOCOL_TAG,
  PROTOCOL_VERSION,
  THREAD_REQUEST_CHANNEL,
  THREAD_RESPONSE_CHANNEL,
  toWire,
  type WireNumber,
} from '../../src/cluster/protocol';

describe('numbers on the wire', () => {
  it('sends finite numbers as they are and the rest as strings', () => {
    expect([0, -1.5, 1e308, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER].map(toWire)).toEqual([
      0,
      -1.5,
      1e308,
      Number.MIN_VALUE,
      Number.MAX_SAFE_INTEGER,
    ]);
    expect([NaN, Infinity, -Infinity].map(toWire)).toEqual(['NaN', 'Inf', '-Inf']);
  });

  it('round-trips every number through JSON, as cluster IPC serialises it', () => {
    const values = [0, 1, -1, 0.1, 2 ** 53 + 2, -1e-300, 1.7976931348623157e308, NaN, Infinity, -Infinity];
    const wire: WireNumber[] = JSON.parse(JSON.stringify(values.map(toWire)));
    expect(wire.map(fromWire)).toEqual(values);
    // Without toWire, JSON loses the non-finite values.
    expect(JSON.parse(JSON.stringify([NaN, Infinity]))).toEqual([null, null]);
  });
});

describe('isClusterMessage', () => {
  it("takes any message with the package's tag", () => {
    expect(isClusterMessage({ tag: PROTOCOL_TAG, type: 'collect', round: 1 })).toBe(true);
    expect(
      isClusterMessage({ tag: PROTOCOL_TAG, type: 'hello', version: PROTOCOL_VERSION, source: 'w1' }),
    ).toBe(true);
  });

  it("leaves the app's own messages and anything that is not an object alone", () => {
    for (const message of [
      { type: 'collect', round: 1 },
      { tag: 'my-app', type: 'snapshot' },
      { tag: `${PROTOCOL_TAG}/x` },
      [PROTOCOL_TAG],
      PROTOCOL_TAG,
      null,
      undefined,
      42,
    ]) {
      expect(isClusterMessage(message)).toBe(false);
    }
  });
});

describe('the constants every process must agree on', () => {
  it('are the published tag, version and channel names', () => {
    expect({
      PROTOCOL_TAG,
      PROTOCOL_VERSION,
      THREAD_REQUEST_CHANNEL,
      THREAD_RESPONSE_CHANNEL,
    }).toEqual({
      PROTOCOL_TAG: 'otel-business-metrics/cluster',
      PROTOCOL_VERSION: 1,
      THREAD_REQUEST_CHANNEL: 'otel-business-metrics/cluster/requests',
      THREAD_RESPONSE_CHANNEL: 'otel-business-metrics/cluster/responses',
    });
  });
});
