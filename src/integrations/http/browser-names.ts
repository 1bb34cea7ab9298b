/**
 * The bounded vocabulary of names a browser may report to the engagement router (feature names, milestones, the
 * entry page), kept apart from the core's label vocabularies: anonymous clients can fill this one, never the
 * core's, so junk names cannot fold a server-side value (`size_guide`, a checkout step) into `other`.
 *
 * Owns: the allow-list-or-first-come decision per kind and its warning. Must not touch: validation (validate.ts),
 * recording, HTTP.
 */
import { OTHER_LABEL_VALUE } from '../../catalog/labels';
import { RateLimitedWarnings } from '../../support';

/** Distinct browser-reported names kept per kind when no allow-list is configured. */
export const DEFAULT_MAX_BROWSER_NAMES = 20;

export class BrowserNames {
  private readonly seen = new Set<string>();
  private readonly warnings = new RateLimitedWarnings();

  /**
   * @param option the router option naming the allow-list, for messages (`features`).
   * @param allowed the allow-list, if configured: then only these names are kept (the validator refuses others).
   * @param max distinct names kept without an allow-list, for the life of the router.
   */
  constructor(
    private readonly option: string,
    private readonly allowed: readonly string[] | undefined,
    private readonly max: number,
  ) {}

  /** The name to record: `name` itself, or `other` once `max` distinct names have been kept. */
  admit(name: string): string {
    if (this.allowed !== undefined) return this.allowed.includes(name) ? name : OTHER_LABEL_VALUE;
    if (this.seen.has(name)) return name;
    if (this.seen.size < this.max) {
      this.seen.add(name);
      return name;
    }
    this.warnings.warn(
      this.option,
      `engagementRouter: browsers reported more than ${this.max} distinct ${this.option} (maxBrowserNames); ` +
        `later ones are recorded as "${OTHER_LABEL_VALUE}". Configure the ${this.option} allow-list.`,
    );
    return OTHER_LABEL_VALUE;
  }
}
