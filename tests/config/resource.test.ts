/**
 * src/config/resource.ts: the resource attributes computed without @opentelemetry/resources are the ones
 * `defaultResource().merge(resourceFromAttributes(...))` of the real package gives for the same configuration (the
 * way init built the resource before the pull path stopped loading the SDK), key order included (it is the order of
 * `target_info`'s labels), over many OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES / option inputs.
 */
import type { Attributes } from '@opentelemetry/api';
import { defaultResource, resourceFromAttributes } from '@opentelemetry/resources';
import { resolveConfig, type InitOptions } from '../../src/config/options';
import { AttributesResource, resourceAttributesOf } from '../../src/config/resource';

/** What init computed before: the SDK's default resource merged with the configuration's attributes. */
function sdkAttributes(options: InitOptions, instanceId: unknown): Attributes {
  const config = resolveConfig(options);
  const attributes: Attributes = { ...config.resourceAttributes };
  if (config.serviceName !== undefined) attributes['service.name'] = config.serviceName;
  attributes['service.instance.id'] ??= instanceId as string;
  return defaultResource().merge(resourceFromAttributes(attributes)).attributes;
}

function ours(options: InitOptions): Attributes {
  return resourceAttributesOf(resolveConfig(options));
}

/** A small deterministic generator (the same inputs every run). */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

const KEYS = [
  'service.name',
  'service.instance.id',
  'deployment.environment',
  'telemetry.sdk.name',
  'k',
  '7',
  '12',
  'a.b',
];
const VALUES = ['shop', 'a%20b', 'x%3Dy', '%2C', 'ü%C3%BC', 'v'];

describe('resource attributes without @opentelemetry/resources', () => {
  it('are the SDK default resource merged with the configuration, in the same order', () => {
    const next = random(26);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)];
    let compared = 0;
    for (let i = 0; i < 300; i++) {
      const pairs = Array.from({ length: Math.floor(next() * 5) }, () => `${pick(KEYS)}=${pick(VALUES)}`);
      const env: Record<string, string> = {};
      if (pairs.length > 0) env.OTEL_RESOURCE_ATTRIBUTES = pairs.join(',');
      if (next() < 0.4) env.OTEL_SERVICE_NAME = pick(['checkout', 'svc%20x', '']);
      const options: InitOptions = { exporters: ['none'], env };
      if (next() < 0.3) options.serviceName = pick(['api', 'worker']);
      if (next() < 0.4) {
        options.resourceAttributes = {
          [pick(KEYS)]: pick<Attributes[string]>(['x', 3, true, ['a', 'b'], undefined, null as never]),
          'host.name': 'h1',
        };
      }
      const computed = ours(options);
      const expected = sdkAttributes(options, computed['service.instance.id']);
      expect(Object.entries(computed)).toEqual(Object.entries(expected));
      compared++;
    }
    expect(compared).toBe(300);
  });

  it('defaults service.name to unknown_service:<argv0> and reports the SDK version of @opentelemetry/core', () => {
    const attributes = ours({ exporters: ['none'], env: {} });
    expect(attributes['service.name']).toBe(`unknown_service:${process.argv0}`);
    expect(attributes['telemetry.sdk.version']).toBe(
      (require('@opentelemetry/core') as { SDK_INFO: Attributes }).SDK_INFO['telemetry.sdk.version'],
    );
    expect(typeof attributes['service.instance.id']).toBe('string');
  });

  it('OTEL_RESOURCE_ATTRIBUTES is percent-decoded and wins over OTEL_SERVICE_NAME only where options say so', () => {
    const attributes = ours({
      exporters: ['none'],
      env: { OTEL_RESOURCE_ATTRIBUTES: 'service.name=from%20attrs,team=a%2Cb', OTEL_SERVICE_NAME: 'named' },
    });
    expect(attributes).toMatchObject({ 'service.name': 'named', team: 'a,b' });
  });

  it('AttributesResource carries the attributes and merges as the SDK does (the other side wins)', () => {
    const resource = new AttributesResource({ a: 1, b: 2 });
    expect(resource.asyncAttributesPending).toBe(false);
    expect(resource.getRawAttributes()).toEqual([
      ['a', 1],
      ['b', 2],
    ]);
    const merged = resource.merge(resourceFromAttributes({ b: 3, c: 4 }));
    expect(merged.attributes).toEqual(
      resourceFromAttributes({ a: 1, b: 2 }).merge(resourceFromAttributes({ b: 3, c: 4 })).attributes,
    );
    expect(resource.merge(null)).toBe(resource);
  });
});
