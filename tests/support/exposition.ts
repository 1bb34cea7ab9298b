/**
 * A strict parser for the Prometheus text exposition format 0.0.4, for tests that scrape `/metrics`.
 *
 * Owns: turning a scrape into families (name, type, help, unit) and samples (name, labels, value as a number
 * including NaN and ±Inf). Strict on purpose: a malformed line, a bad escape, a duplicate label, a second
 * HELP/TYPE for a family or a sample of a family split across the text throws with the line number, so a test
 * that parses a scrape also checks its syntax. Must not touch: anything outside tests.
 */

export interface ExpositionSample {
  /** Sample name as written (`foo_bucket`, `foo_total`, ...). */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  readonly timestamp?: number;
}

export interface ExpositionFamily {
  readonly name: string;
  /** `counter`, `gauge`, `histogram`, `summary` or `untyped` (also when no TYPE line was given). */
  type: string;
  help?: string;
  /** From a `# UNIT` comment line, if any (0.0.4 treats it as a comment; the OTel JS exporters write one). */
  unit?: string;
  readonly samples: ExpositionSample[];
}

export interface Exposition {
  /** Families in order of appearance. */
  readonly families: ReadonlyMap<string, ExpositionFamily>;
  /** Every sample, in order. */
  readonly samples: readonly ExpositionSample[];
  /** The family, or a thrown error listing the families present. */
  family(name: string): ExpositionFamily;
  /** Samples with this name whose labels include every given label (exact values). */
  find(name: string, labels?: Readonly<Record<string, string>>): ExpositionSample[];
  /** The value of the single sample matching; throws if none or several match. */
  value(name: string, labels?: Readonly<Record<string, string>>): number;
}

const NAME_START = /[a-zA-Z_:]/;
const NAME_CHAR = /[a-zA-Z0-9_:]/;
const LABEL_START = /[a-zA-Z_]/;
const LABEL_CHAR = /[a-zA-Z0-9_]/;
const SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['_sum', '_count'],
};

/** Parses a Prometheus float as the text format allows it (`NaN`, `+Inf`, `-Inf`, Go float syntax). */
export function parsePrometheusNumber(text: string): number {
  switch (text) {
    case 'NaN':
      return NaN;
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
  }
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text))
    throw new Error(`not a number: ${JSON.stringify(text)}`);
  return Number(text);
}

function unescapeText(text: string, allowQuote: boolean): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    const next = text[++i];
    if (next === '\\') out += '\\';
    else if (next === 'n') out += '\n';
    else if (next === '"' && allowQuote) out += '"';
    else out += '\\' + (next ?? ''); // 0.0.4 keeps unknown escapes verbatim in HELP
  }
  return out;
}

function matches(sample: ExpositionSample, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (!labels) return true;
  return Object.entries(labels).every(([key, value]) => sample.labels[key] === value);
}

/** Parses an exposition; throws `line N: reason` on anything the text format does not allow. */
export function parseExposition(text: string): Exposition {
  const families = new Map<string, ExpositionFamily>();
  const samples: ExpositionSample[] = [];
  const helpSeen = new Set<string>();
  const typeSeen = new Set<string>();
  const closed = new Set<string>();
  let current: ExpositionFamily | undefined;

  const familyFor = (sampleName: string): ExpositionFamily => {
    for (const [type, suffixes] of Object.entries(SUFFIXES)) {
      for (const suffix of suffixes) {
        if (!sampleName.endsWith(suffix)) continue;
        const base = families.get(sampleName.slice(0, -suffix.length));
        if (base && base.type === type) return base;
      }
    }
    let family = families.get(sampleName);
    if (!family) {
      family = { name: sampleName, type: 'untyped', samples: [] };
      families.set(sampleName, family);
    }
    return family;
  };
  const declare = (name: string): ExpositionFamily => {
    let family = families.get(name);
    if (!family) {
      family = { name, type: 'untyped', samples: [] };
      families.set(name, family);
    }
    return family;
  };

  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, index) => {
    const fail = (reason: string): never => {
      throw new Error(`line ${index + 1}: ${reason}: ${JSON.stringify(line)}`);
    };
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const match = /^#[ \t]+(HELP|TYPE|UNIT)[ \t]+([^ \t]+)(?:[ \t]+(.*))?$/.exec(line);
      if (!match) return; // plain comment
      const [, keyword, name, rest = ''] = match;
      if (!NAME_START.test(name[0]) || ![...name].every((ch) => NAME_CHAR.test(ch)))
        fail('invalid metric name');
      const family = declare(name);
      if (family.samples.length > 0 && keyword !== 'UNIT') fail(`${keyword} after samples of ${name}`);
      if (keyword === 'HELP') {
        if (helpSeen.has(name)) fail(`second HELP for ${name}`);
        helpSeen.add(name);
        family.help = unescapeText(rest, false);
      } else if (keyword === 'TYPE') {
        if (typeSeen.has(name)) fail(`second TYPE for ${name}`);
        typeSeen.add(name);
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest))
          fail(`unknown type ${rest}`);
        family.type = rest;
      } else {
        family.unit = unescapeText(rest, false);
      }
      return;
    }

    let i = 0;
    if (!NAME_START.test(line[0])) fail('invalid metric name');
    while (i < line.length && NAME_CHAR.test(line[i])) i++;
    const name = line.slice(0, i);
    const labels: Record<string, string> = {};
    if (line[i] === '{') {
      i++;
      for (;;) {
        if (line[i] === '}') {
          i++;
          break;
        }
        const start = i;
        if (!LABEL_START.test(line[i] ?? '')) fail('invalid label name');
        while (i < line.length && LABEL_CHAR.test(line[i])) i++;
        const labelName = line.slice(start, i);
        if (line[i++] !== '=' || line[i++] !== '"') fail(`expected ="" after label ${labelName}`);
        let raw = '';
        for (;;) {
          if (i >= line.length) fail('unterminated label value');
          const ch = line[i++];
          if (ch === '"') break;
          if (ch === '\\') {
            const next = line[i++];
            if (next !== '\\' && next !== '"' && next !== 'n')
              fail(`invalid escape \\${next} in label value`);
            raw += '\\' + next;
          } else raw += ch;
        }
        if (labelName in labels) fail(`duplicate label ${labelName}`);
        labels[labelName] = unescapeText(raw, true);
        if (line[i] === ',') i++;
        else if (line[i] !== '}') fail('expected , or } after label value');
      }
    }
    const rest = line
      .slice(i)
      .trim()
      .split(/[ \t]+/);
    if (line[i] !== ' ' && line[i] !== '\t') fail('expected whitespace before value');
    if (rest.length < 1 || rest.length > 2 || rest[0] === '') fail('expected value [timestamp]');
    let value = 0;
    try {
      value = parsePrometheusNumber(rest[0]);
    } catch (error) {
      fail((error as Error).message);
    }
    const sample: ExpositionSample =
      rest.length === 2 ? { name, labels, value, timestamp: Number(rest[1]) } : { name, labels, value };
    const family = familyFor(name);
    if (current !== family) {
      if (current) closed.add(current.name);
      if (closed.has(family.name)) fail(`samples of ${family.name} are not contiguous`);
      current = family;
    }
    family.samples.push(sample);
    samples.push(sample);
  });

  return {
    families,
    samples,
    family(name) {
      const family = families.get(name);
      if (!family) throw new Error(`no family ${name}; present: ${[...families.keys()].join(', ')}`);
      return family;
    },
    find(name, labels) {
      return samples.filter((sample) => sample.name === name && matches(sample, labels));
    },
    value(name, labels) {
      const found = samples.filter((sample) => sample.name === name && matches(sample, labels));
      if (found.length !== 1) {
        throw new Error(`expected one sample ${name}${JSON.stringify(labels ?? {})}, found ${found.length}`);
      }
      return found[0].value;
    },
  };
}
