/**
 * A label selector in kubectl's `-l` syntax, read as k8s.io/apimachinery pkg/labels/selector.go `Parse` reads
 * it, into the matchExpressions of a metav1.LabelSelector (what a policy's namespaceSelector holds):
 *
 *   k=v, k==v -> In [v]      k!=v -> NotIn [v]      k in (a,b) -> In      k notin (a,b) -> NotIn
 *   k -> Exists              !k -> DoesNotExist     requirements separated by commas, all of them must hold
 *
 * Stricter than Parse where its leniency hides a typo or cannot be expressed: `>` and `<` (a LabelSelector has
 * no numeric operators), an empty selector (Parse reads it as "everything"), and empty entries in a list
 * (`(a,,b)`, `(a,)`, `()`, which Parse reads as the empty value; `k=` still means it).
 */

export type LabelSelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';

export interface LabelSelectorRequirement {
  key: string;
  operator: LabelSelectorOperator;
  /** Present for In and NotIn only, as the apiserver requires (ValidateLabelSelectorRequirement). */
  values?: string[];
}

/** A selector that does not parse; the message names the bad part, the caller names the flag. */
export class SelectorSyntaxError extends Error {}

type Token =
  | { kind: 'identifier'; text: string; at: number }
  | { kind: 'symbol'; text: '=' | '==' | '!=' | '!' | '(' | ')' | ',' | '>' | '<'; at: number }
  | { kind: 'end'; text: 'the end'; at: number };

/** Lexer.isWhitespace and isSpecialSymbol: everything else, up to one of these, is one identifier. */
const WHITESPACE = /[ \t\r\n]/;
const SPECIAL = /[=!(),<>]/;

function tokens(text: string): Token[] {
  const found: Token[] = [];
  let at = 0;
  while (at < text.length) {
    const char = text[at] as string;
    if (WHITESPACE.test(char)) {
      at++;
    } else if (SPECIAL.test(char)) {
      // The longest symbol: != and == before ! and =.
      const two = text.slice(at, at + 2);
      const symbol = two === '!=' || two === '==' ? two : (char as '=' | '!' | '(' | ')' | ',' | '>' | '<');
      found.push({ kind: 'symbol', text: symbol, at });
      at += symbol.length;
    } else {
      const start = at;
      while (at < text.length && !WHITESPACE.test(text[at] as string) && !SPECIAL.test(text[at] as string)) at++;
      found.push({ kind: 'identifier', text: text.slice(start, at), at: start });
    }
  }
  found.push({ kind: 'end', text: 'the end', at: text.length });
  return found;
}

/** IsQualifiedName's name part, and IsValidLabelValue (then also empty). */
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
/** IsDNS1123Subdomain, a key's optional prefix. */
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** validateLabelKey (IsQualifiedName): why `key` is no label key, or undefined. */
function keyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !SUBDOMAIN.test(prefix))) return `the prefix of label key "${key}" must be a lower-case DNS subdomain`;
  if (name.length > 63 || !NAME.test(name)) return `label key "${key}" must be at most 63 letters, digits, '-', '_' or '.' after any prefix/, starting and ending with a letter or digit`;
  return undefined;
}

function valueProblem(value: string): string | undefined {
  if (value === '' || (value.length <= 63 && NAME.test(value))) return undefined;
  return `label value "${value}" must be at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`;
}

const quoted = (token: Token) => (token.kind === 'end' ? 'the end' : `"${token.text}"`);

/** The requirements of a kubectl-style selector; throws SelectorSyntaxError naming the bad part. */
export function parseLabelSelector(text: string): LabelSelectorRequirement[] {
  const list = tokens(text);
  let index = 0;
  const peek = (): Token => list[index] as Token;
  const next = (): Token => list[index++] as Token;
  const isSymbol = (token: Token, ...symbols: string[]) => token.kind === 'symbol' && symbols.includes(token.text);
  const endsRequirement = (token: Token) => token.kind === 'end' || isSymbol(token, ',');

  function fail(problem: string, token: Token): never {
    throw new SelectorSyntaxError(`${problem} (at character ${token.at + 1})`);
  }

  /** A label value, checked; in this position Parse reads the keywords in and notin as plain identifiers. */
  function value(token: Token, where: string): string {
    if (token.kind !== 'identifier') fail(`expected a label value ${where}, found ${quoted(token)}`, token);
    const problem = valueProblem(token.text);
    if (problem) fail(problem, token);
    return token.text;
  }

  function requirement(key: string, operator: Token): LabelSelectorRequirement {
    if (operator.kind === 'symbol' && (operator.text === '=' || operator.text === '==' || operator.text === '!=')) {
      // parseExactValue: nothing before a comma or the end is the empty value.
      const exact = endsRequirement(peek()) ? '' : value(next(), `after "${operator.text}"`);
      return { key, operator: operator.text === '!=' ? 'NotIn' : 'In', values: [exact] };
    }
    if (operator.kind === 'identifier' && (operator.text === 'in' || operator.text === 'notin')) {
      return { key, operator: operator.text === 'in' ? 'In' : 'NotIn', values: valueList(operator.text) };
    }
    if (isSymbol(operator, '>', '<')) {
      fail(`"${operator.text}" compares numbers in kubectl's -l, but a namespaceSelector (a LabelSelector) has no such operator`, operator);
    }
    return fail(`expected "=", "==", "!=", "in" or "notin" after "${key}", found ${quoted(operator)}`, operator);
  }

  /** parseValues: "(" values separated by "," ")", none of them empty. */
  function valueList(keyword: string): string[] {
    const open = next();
    if (!isSymbol(open, '(')) fail(`expected "(" after "${keyword}", found ${quoted(open)}`, open);
    const values: string[] = [];
    for (;;) {
      const item = value(next(), `in "${keyword} (...)" (an empty one is written k= or k!=)`);
      if (!values.includes(item)) values.push(item);
      const after = next();
      if (isSymbol(after, ')')) return values;
      if (!isSymbol(after, ',')) fail(`expected "," or ")" in "${keyword} (...)", found ${quoted(after)}`, after);
    }
  }

  if (peek().kind === 'end') throw new SelectorSyntaxError('is empty (it would select every namespace): leave the flag out instead');
  const requirements: LabelSelectorRequirement[] = [];
  for (;;) {
    let start = next();
    const negated = isSymbol(start, '!');
    if (negated) start = next();
    if (start.kind !== 'identifier') fail(`expected a label key, found ${quoted(start)}`, start);
    const key = start.text;
    const badKey = keyProblem(key);
    if (badKey) fail(badKey, start);
    const operator = peek();
    if (endsRequirement(operator)) {
      requirements.push({ key, operator: negated ? 'DoesNotExist' : 'Exists' });
    } else if (negated) {
      fail(`"!${key}" selects namespaces without the label and takes no operator; found ${quoted(operator)}`, operator);
    } else {
      requirements.push(requirement(key, next()));
    }
    const separator = next();
    if (separator.kind === 'end') return requirements;
    if (!isSymbol(separator, ',')) fail(`expected "," or the end after a requirement, found ${quoted(separator)}`, separator);
    if (peek().kind === 'end') fail('expected a requirement after ","', peek());
  }
}

/** The requirements in kubectl's syntax again, one canonical spelling (printed where the raw flag could break a line). */
export function formatLabelSelector(requirements: readonly LabelSelectorRequirement[]): string {
  return requirements
    .map(({ key, operator, values = [] }) => {
      if (operator === 'Exists') return key;
      if (operator === 'DoesNotExist') return `!${key}`;
      if (values.length === 1) return `${key}${operator === 'In' ? '=' : '!='}${values[0]}`;
      return `${key} ${operator === 'In' ? 'in' : 'notin'} (${values.join(',')})`;
    })
    .join(',');
}
