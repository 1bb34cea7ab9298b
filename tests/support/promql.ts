/**
 * Just enough PromQL structure for the same-answers comparisons (tests/support/same-answers.ts) to compare what an
 * alert is made of, not only its
 * verdict: the operands between binary operators (`and`, `or`, `unless`, comparisons, arithmetic), found through
 * parentheses and through the arguments of functions and aggregations that contain operators, and the same
 * expression with every comparison turned into a `bool` comparison (a 0/1 value for every series the operands
 * have, instead of only the series that fire).
 *
 * Owns: that splitting. Must not touch: Prometheus (it only rewrites text).
 */

const KEYWORD_OPERATORS = ['unless', 'and', 'or', 'atan2'];
const SYMBOL_OPERATORS = ['==', '!=', '>=', '<=', '>', '<', '+', '-', '*', '/', '%', '^'];
const COMPARISONS = new Set(['==', '!=', '>=', '<=', '>', '<']);
const MODIFIERS =
  /^\s*(?:bool\b\s*)?(?:(?:on|ignoring)\s*\([^)]*\)\s*)?(?:(?:group_left|group_right)\b\s*(?:\([^)]*\))?\s*)?/;

interface Operator {
  readonly at: number;
  readonly text: string;
}

/** Binary operators at depth 0 of `expr` (not inside (), [], {} or strings), in order. */
function topLevelOperators(expr: string): Operator[] {
  const found: Operator[] = [];
  let depth = 0;
  let quote: string | undefined;
  let expectOperand = true; // at the start, or right after an operator: a `-` here is unary
  for (let i = 0; i < expr.length; i++) {
    const ch = expr[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === '"' || ch === "'" || ch === '`') {
      quote = ch;
      expectOperand = false;
      continue;
    }
    if ('([{'.includes(ch)) {
      depth++;
      continue;
    }
    if (')]}'.includes(ch)) {
      depth--;
      expectOperand = false;
      continue;
    }
    if (depth > 0 || /\s/.test(ch)) continue;
    if (ch === '#') {
      while (i < expr.length && expr[i] !== '\n') i++;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_:]*/.exec(expr.slice(i))?.[0];
    if (word) {
      if (!expectOperand && KEYWORD_OPERATORS.includes(word)) {
        found.push({ at: i, text: word });
        expectOperand = true;
      } else {
        expectOperand = false;
      }
      i += word.length - 1;
      continue;
    }
    const symbol = SYMBOL_OPERATORS.find((op) => expr.startsWith(op, i));
    if (symbol && !expectOperand) {
      found.push({ at: i, text: symbol });
      expectOperand = true;
      i += symbol.length - 1;
      continue;
    }
    expectOperand = false;
  }
  return found;
}

/** `expr` without parentheses that enclose all of it. */
function unwrap(expr: string): string {
  let text = expr.trim();
  while (text.startsWith('(') && text.endsWith(')')) {
    let depth = 0;
    let enclosesAll = true;
    for (let i = 0; i < text.length; i++) {
      if (text[i] === '(') depth++;
      else if (text[i] === ')') depth--;
      if (depth === 0 && i < text.length - 1) {
        enclosesAll = false;
        break;
      }
    }
    if (!enclosesAll) break;
    text = text.slice(1, -1).trim();
  }
  return text;
}

/** The operands of the top-level binary operators of `expr` (modifiers such as `on (...)` left out). */
function operands(expr: string): string[] {
  const ops = topLevelOperators(expr);
  const parts: string[] = [];
  let start = 0;
  for (const op of ops) {
    parts.push(expr.slice(start, op.at));
    start = op.at + op.text.length;
    start += MODIFIERS.exec(expr.slice(start))?.[0].length ?? 0;
  }
  parts.push(expr.slice(start));
  return parts.map((part) => part.trim()).filter(Boolean);
}

/** Splits a call's argument list at its top-level commas. */
function callArguments(call: string): string[] | undefined {
  // name, an optional `by (...)`/`without (...)` before the arguments, then the last top-level parenthesis group.
  const head = /^[A-Za-z_][A-Za-z0-9_]*\s*(?:(?:by|without)\s*\([^)]*\)\s*)?\(/.exec(call);
  if (!head || !call.endsWith(')')) return undefined;
  const inner = call.slice(head[0].length, -1);
  const trailing = /\)\s*(?:by|without)\s*\([^)]*\)\s*$/.exec(call); // `sum(...) by (x)`
  if (trailing) return undefined;
  const args: string[] = [];
  let depth = 0;
  let last = 0;
  for (let i = 0; i < inner.length; i++) {
    if ('([{'.includes(inner[i])) depth++;
    else if (')]}'.includes(inner[i])) depth--;
    else if (inner[i] === ',' && depth === 0) {
      args.push(inner.slice(last, i));
      last = i + 1;
    }
  }
  args.push(inner.slice(last));
  return args.map((arg) => arg.trim());
}

const NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$|^[-+]?(?:inf|nan)$/i;

/**
 * The parts of `expr` that contain no binary operator: what the verdict of an alert is computed from. Numbers
 * are left out; a call whose arguments contain operators is looked into.
 */
export function leafExpressions(expr: string): string[] {
  const leaves: string[] = [];
  const visit = (part: string): void => {
    const text = unwrap(part.replace(/^-\s*/, ''));
    if (text === '' || NUMBER.test(text) || /^"/.test(text)) return;
    const parts = operands(text);
    if (parts.length > 1) {
      parts.forEach(visit);
      return;
    }
    const args = callArguments(text);
    if (args && args.some((arg) => topLevelOperators(unwrap(arg)).length > 0)) {
      args.forEach(visit);
      return;
    }
    if (!leaves.includes(text)) leaves.push(text);
  };
  visit(expr);
  return leaves;
}

/** `expr` with every comparison a `bool` comparison, at every depth. */
export function boolComparisons(expr: string): string {
  const positions: number[] = [];
  const collect = (text: string, offset: number): void => {
    for (const op of topLevelOperators(text)) {
      if (!COMPARISONS.has(op.text)) continue;
      if (/^\s*bool\b/.test(text.slice(op.at + op.text.length))) continue;
      positions.push(offset + op.at + op.text.length);
    }
    // Inside parentheses and call arguments, level by level.
    let depth = 0;
    let open = -1;
    for (let i = 0; i < text.length; i++) {
      if (text[i] === '(') {
        if (depth === 0) open = i;
        depth++;
      } else if (text[i] === ')') {
        depth--;
        if (depth === 0) collect(text.slice(open + 1, i), offset + open + 1);
      }
    }
  };
  collect(expr, 0);
  let result = '';
  let last = 0;
  for (const at of positions.sort((a, b) => a - b)) {
    result += `${expr.slice(last, at)} bool`;
    last = at;
  }
  return result + expr.slice(last);
}
