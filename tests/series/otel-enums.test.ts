/**
 * src/series/otel-enums.ts: every value the package uses without loading @opentelemetry/sdk-metrics (or the API) is
 * the SDK's (the API's) own value of that enum member.
 */
import * as api from '@opentelemetry/api';
import * as sdk from '@opentelemetry/sdk-metrics';
import * as ours from '../../src/series/otel-enums';

describe("the SDK's enum values, without the SDK", () => {
  test.each(['AggregationTemporality', 'DataPointType', 'AggregationType', 'InstrumentType'] as const)(
    '%s',
    (name) => {
      const sdkEnum = sdk[name] as unknown as Record<string, unknown>;
      const constants = Object.entries(ours[name]);
      expect(constants.length).toBeGreaterThan(0);
      for (const [member, value] of constants) expect([member, value]).toEqual([member, sdkEnum[member]]);
    },
  );

  test("ValueType (the API's)", () => {
    const constants = Object.entries(ours.ValueType);
    expect(constants.map(([member]) => member)).toEqual(['INT', 'DOUBLE']);
    for (const [member, value] of constants)
      expect([member, value]).toEqual([
        member,
        (api.ValueType as unknown as Record<string, unknown>)[member],
      ]);
  });
});
