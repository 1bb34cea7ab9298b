/**
 * Folder src/guard/: everything about bad input (normalize.ts cleans label values, vocabulary.ts bounds them,
 * reasons.ts names why something was refused or replaced, this file counts and reports it). The folder must not
 * touch series storage, exporters or the SDK's instruments.
 *
 * What happens to bad input: every refused measurement and every relabelled value is counted in a tally (the
 * self-metrics read them, metrics/instruments.ts registers those) and reported through OTel `diag` at a
 * rate-limited warning (src/support); in strict mode it throws a TypeError instead, except for runtime conditions
 * that are not the caller's mistake (a reached cap, a clock leap, a client's input, a collection problem).
 *
 * Owns: the tallies, the strict-mode messages, the warning texts. Must not touch: recording, vocabularies,
 * instruments. Counts are kept in the reporter's own tallies, read by observable counters through forEachCount.
 * Must not import: `src/series/`, `src/exporters/`, `src/metrics/`, `@opentelemetry/sdk-metrics`.
 */
import type { Attributes } from '@opentelemetry/api';
import { describe, RateLimitedWarnings } from '../support';
import type { DropReason, LabelOrigin, RelabelReason } from './reasons';

/** Which self-metric a tally belongs to (keys of SELF_METRICS). */
export type GuardCounterKind = 'dropped' | 'labelOverflow' | 'seriesOverflow';

/** A running count of one self-metric series, kept by the reporter itself. */
interface Tally {
  readonly attributes: Attributes;
  readonly warningKey: string;
  count: number;
}

/**
 * Everything about one (metric, label, reason) that does not change between relabels, built once, so a flood of
 * hostile values costs an increment and a rate-limit check per measurement, not string building.
 */
export interface RelabelSite {
  readonly origin: LabelOrigin;
  readonly metric: string;
  readonly label: string;
  readonly reason: RelabelReason;
  /** Completes "<argument> ..." in messages, e.g. "must be one of free, pro". */
  readonly rule: string;
  /** @internal */
  readonly tally: Tally;
}

/**
 * Counts live in the reporter's own tallies: a refused or relabelled measurement costs an increment, and
 * observable counters read them with {@link GuardReporter.forEachCount} at collection. (SDK counters would hash
 * their attributes on every add, ~1 us, doubling the cost of hostile traffic.)
 */
export class GuardReporter {
  private readonly tallies = new Map<string, Tally>();
  private readonly talliesByKind: Record<GuardCounterKind, Tally[]> = {
    dropped: [],
    labelOverflow: [],
    seriesOverflow: [],
  };
  private readonly dropTallies = new Map<string, Map<DropReason, Tally>>();
  private readonly seriesTallies = new Map<string, Tally>();
  private readonly warnings: RateLimitedWarnings;

  constructor(
    readonly strict: boolean,
    now?: () => number,
  ) {
    this.warnings = new RateLimitedWarnings(now);
  }

  /** A warning at the reporter's bounded rate (one per key per minute), for conditions that are not bad input. */
  warn(key: string, message: string): void {
    this.warnings.warn(key, message);
  }

  /** Every non-zero tally of one self-metric, as (attributes, cumulative count): for an observable counter. */
  forEachCount(kind: GuardCounterKind, visit: (attributes: Attributes, count: number) => void): void {
    for (const tally of this.talliesByKind[kind]) if (tally.count > 0) visit(tally.attributes, tally.count);
  }

  /** A measurement is refused. `rule` completes "<argument> must ..." for the message. */
  drop(
    method: string,
    argument: string,
    metric: string,
    reason: DropReason,
    rule: string,
    got: unknown,
  ): void {
    this.dropDescribed(method, argument, metric, reason, rule, () => describe(got));
  }

  /**
   * Like {@link drop}, for arguments whose value must never reach a message (user ids): `described` says what
   * was passed (`a string of 1048576 characters`) without quoting it.
   */
  dropRedacted(
    method: string,
    argument: string,
    metric: string,
    reason: DropReason,
    rule: string,
    described: string,
  ): void {
    this.dropDescribed(method, argument, metric, reason, rule, () => described);
  }

  /**
   * A call is refused because of a runtime condition, not its arguments (the clock read a day the active-user
   * sketches do not believe yet): counted and warned like {@link dropRedacted}, but never throws, not even in strict
   * mode, which is for the caller's mistakes: a clock that leapt (a laptop waking after days, fake timers jumping)
   * is not one, and throwing would fail every such call until the clock is believed.
   */
  dropForCondition(
    method: string,
    argument: string,
    metric: string,
    reason: DropReason,
    rule: string,
    described: string,
  ): void {
    this.countDrop(method, argument, metric, reason, rule, () => described);
  }

  private dropDescribed(
    method: string,
    argument: string,
    metric: string,
    reason: DropReason,
    rule: string,
    described: () => string,
  ): void {
    if (this.strict) {
      throw new TypeError(`businessMetrics.${method}: ${argument} ${rule} (got ${described()})`);
    }
    this.countDrop(method, argument, metric, reason, rule, described);
  }

  private countDrop(
    method: string,
    argument: string,
    metric: string,
    reason: DropReason,
    rule: string,
    described: () => string,
  ): void {
    const tally = this.dropTally(metric, reason);
    tally.count++;
    this.warnings.warn(
      tally.warningKey,
      () =>
        `businessMetrics.${method}: ${argument} ${rule} (got ${described()}); measurement dropped [reason=${reason}]`,
    );
  }

  /** The fixed part of relabel reports for one label of one metric and one reason (see {@link relabel}). */
  relabelSite(
    origin: LabelOrigin,
    metric: string,
    label: string,
    reason: RelabelReason,
    rule: string,
  ): RelabelSite {
    return Object.freeze({
      origin,
      metric,
      label,
      reason,
      rule,
      tally: this.tally('labelOverflow', { metric, label, reason }, `label:${metric}:${label}:${reason}`),
    });
  }

  /** A label value is replaced. Strict mode throws for everything but a reached cap (a runtime condition). */
  relabel(site: RelabelSite, got: unknown): void {
    if (this.strict && site.reason !== 'cap') {
      throw new TypeError(
        `businessMetrics.${site.origin.method}: ${site.origin.argument} ${site.rule} (got ${describe(got)})`,
      );
    }
    site.tally.count++;
    this.warnings.warn(
      site.tally.warningKey,
      () =>
        `businessMetrics.${site.origin.method}: ${site.origin.argument} ${site.rule} (got ${describe(got)}); ` +
        `recorded as "${site.reason === 'missing' ? 'unknown' : 'other'}" ` +
        `[metric=${site.metric} label=${site.label} reason=${site.reason}]`,
    );
  }

  /** A metric reached its lifetime series cap; the measurement goes to its all-"other" series. */
  seriesOverflow(metric: string, maxSeries: number): void {
    let tally = this.seriesTallies.get(metric);
    if (tally === undefined) {
      tally = this.tally('seriesOverflow', { metric }, `series:${metric}`);
      this.seriesTallies.set(metric, tally);
    }
    tally.count++;
    this.warnings.warn(
      tally.warningKey,
      () =>
        `${metric} reached its cap of ${maxSeries} series; new label combinations are recorded with every label "other"`,
    );
  }

  /**
   * Something could not be reported at collection time (an exchange rate). Counted and warned like
   * {@link drop}, but never throws, not even in strict mode: it runs inside the SDK's collection, not in a
   * caller's record call.
   */
  collectionProblem(what: string, metric: string, reason: DropReason, rule: string): void {
    const tally = this.dropTally(metric, reason);
    tally.count++;
    this.warnings.warn(tally.warningKey, () => `${what} ${rule}; not exported [reason=${reason}]`);
  }

  /**
   * An event from an anonymous client (a browser's engagement batch) is refused: counted and warned like
   * {@link drop}, but never throws, not even in strict mode, which is for the app's own calls: a client's input is
   * not the app's mistake, and it gets its own answer. `where` names the integration (`engagementRouter`).
   */
  refusedInput(where: string, metric: string, reason: DropReason, message: string): void {
    const tally = this.dropTally(metric, reason);
    tally.count++;
    this.warnings.warn(tally.warningKey, () => `${where}: ${message}; event dropped [reason=${reason}]`);
  }

  /** Something threw inside a record method (e.g. a throwing getter on the caller's metadata object). */
  internalError(method: string, metric: string, error: unknown): void {
    if (this.strict) throw error;
    const tally = this.dropTally(metric, 'internal_error');
    tally.count++;
    this.warnings.warn(
      tally.warningKey,
      () =>
        `businessMetrics.${method}: measurement dropped after an error reading its arguments: ${describe(error)}`,
    );
  }

  // A flood of NaN amounts must not cost a JSON.stringify each: two Map lookups, no allocation.
  private dropTally(metric: string, reason: DropReason): Tally {
    let byReason = this.dropTallies.get(metric);
    if (byReason === undefined) {
      byReason = new Map();
      this.dropTallies.set(metric, byReason);
    }
    let tally = byReason.get(reason);
    if (tally === undefined) {
      tally = this.tally('dropped', { metric, reason }, `drop:${metric}:${reason}`);
      byReason.set(reason, tally);
    }
    return tally;
  }

  // One tally (and one frozen attributes object, which the SDK may keep) per self-metric series: they come from
  // a small fixed set (metric x label x reason), so this map stays small.
  private tally(kind: GuardCounterKind, attributes: Record<string, string>, warningKey: string): Tally {
    const key = kind + JSON.stringify(attributes);
    let tally = this.tallies.get(key);
    if (tally === undefined) {
      tally = { attributes: Object.freeze({ ...attributes }), warningKey, count: 0 };
      this.tallies.set(key, tally);
      this.talliesByKind[kind].push(tally);
    }
    return tally;
  }
}
