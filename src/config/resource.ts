/**
 * The resource every exporter reports (Prometheus `target_info`, OTLP's resource): the resolved options and
 * environment (`serviceName` / OTEL_SERVICE_NAME, `resourceAttributes` / OTEL_RESOURCE_ATTRIBUTES, already parsed
 * and percent-decoded by options.ts) over the SDK's defaults (`service.name` = `unknown_service:<argv0>`,
 * `telemetry.sdk.*`), computed exactly as `defaultResource().merge(resourceFromAttributes(attributes))` of
 * @opentelemetry/resources computes them, without loading it: a pull-only app never loads @opentelemetry/resources,
 * core or semantic-conventions (docs/performance.md#cold-start). tests/config/resource.test.ts holds the two to the
 * same attributes, in the same order, over many inputs.
 *
 * Owns: those attributes, and {@link AttributesResource}, a `Resource` that only carries them. Must not touch: the
 * SDK's objects (init.ts turns the attributes into an SDK resource where an SDK MeterProvider runs), core's code
 * (only its package.json is read, for the version).
 * Must not import: `@opentelemetry/resources`, `@opentelemetry/sdk-metrics`, `@opentelemetry/semantic-conventions`.
 */
import type { Attributes } from '@opentelemetry/api';
import type { Resource } from '@opentelemetry/resources';
import { defaultServiceInstanceId } from './defaults';
import type { ResolvedConfig } from './options';

/**
 * The version @opentelemetry/core reports as `telemetry.sdk.version` (its SDK_INFO): read from core's package.json,
 * the same package the SDK's default resource reads it from, so an upgrade of the SDK changes both alike.
 */
function sdkVersion(): string {
  // Data only: none of core's code runs (a bundler inlines the file, as it bundles core for the SDK).
  return (require('@opentelemetry/core/package.json') as { version: string }).version;
}

/** @opentelemetry/resources' `defaultServiceName()` on Node. */
function defaultServiceName(): string {
  try {
    const argv0 = globalThis.process.argv0;
    return argv0 ? `unknown_service:${argv0}` : 'unknown_service';
  } catch {
    return 'unknown_service';
  }
}

/**
 * The resource attributes of a configuration: the options' and environment's, then the SDK defaults they do not
 * set (a default never overrides them; attributes without a value are left out, as the SDK leaves them out).
 */
export function resourceAttributesOf(
  config: Pick<ResolvedConfig, 'serviceName' | 'resourceAttributes'>,
): Attributes {
  const own: Attributes = { ...config.resourceAttributes };
  if (config.serviceName !== undefined) own['service.name'] = config.serviceName;
  // One id per process or thread, so instances pushing to one Collector stay apart; OTEL_RESOURCE_ATTRIBUTES
  // or `resourceAttributes` override it.
  own['service.instance.id'] ??= defaultServiceInstanceId();
  return mergeAttributes(own, {
    'service.name': defaultServiceName(),
    'telemetry.sdk.language': 'nodejs',
    'telemetry.sdk.name': 'opentelemetry',
    'telemetry.sdk.version': sdkVersion(),
  });
}

/** `base.merge(incoming)` of the SDK: incoming's attributes first (they win), then base's others; none null. */
function mergeAttributes(incoming: Attributes, base: Attributes): Attributes {
  const merged: Attributes = {};
  for (const attributes of [incoming, base]) {
    for (const [key, value] of Object.entries(attributes)) {
      if (value != null) merged[key] ??= value;
    }
  }
  return merged;
}

/**
 * A `Resource` that is only its attributes (no schema URL, nothing asynchronous): what the pull path's collections
 * carry, where no SDK runs. `merge` follows the SDK's rule (the other resource's attributes win).
 */
export class AttributesResource implements Resource {
  readonly asyncAttributesPending = false;
  readonly schemaUrl = undefined;

  constructor(readonly attributes: Attributes) {}

  async waitForAsyncAttributes(): Promise<void> {}

  merge(other: Resource | null): Resource {
    return other == null ? this : new AttributesResource(mergeAttributes(other.attributes, this.attributes));
  }

  getRawAttributes(): [string, Attributes[string]][] {
    return Object.entries(this.attributes);
  }
}
