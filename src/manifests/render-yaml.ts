/**
 * YAML text for the small JSON values fixes insert (a preStop hook, a grace period, a spread constraint), in
 * the block style the `yaml` library writes, without building a `yaml` Document per edit: rendering was most
 * of `fix`'s time once every Deployment got a constraint of its own. Strings are plain when that reads back
 * as the same string, else JSON-quoted (a JSON string is a valid YAML double-quoted scalar). write.ts reads
 * every edited document back, so a rendering that read differently would be caught, never written.
 */

export interface BlockStyle {
  /** Spaces per nesting level. */
  indent: number;
  /** Sequence items indented under their key (`key:\n  - a`) or not (`key:\n- a`). */
  indentSeq: boolean;
}

/** Plain scalars that YAML 1.2 core (or YAML 1.1, as kubectl's go-yaml reads `on`, `yes`) would read as something other than a string. */
const NOT_PLAIN = /^(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE|[yYnN]|yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$/;

/** YAML 1.1 ints and floats (binary, `_` digit groups, sexagesimal `12:30`) that the 1.2 forms above do not cover. */
const YAML_11_NUMBER = /^[-+]?(?:0b[01_]+|0x[0-9a-fA-F_]+|[0-9][0-9_]*(?::[0-5]?[0-9])*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9_]+(?:[eE][-+]?[0-9]+)?)$/;

export function scalar(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : value > 0 ? '.inf' : value < 0 ? '-.inf' : '.nan';
  if (typeof value === 'boolean') return String(value);
  const text = String(value);
  // Letters, digits and a few inner punctuation marks, starting with a letter or digit: plain everywhere.
  return /^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(text) && !NOT_PLAIN.test(text) && !YAML_11_NUMBER.test(text) ? text : JSON.stringify(text);
}

function isCollection(value: unknown): value is Record<string, unknown> | unknown[] {
  return typeof value === 'object' && value !== null;
}

function isEmpty(value: Record<string, unknown> | unknown[]): boolean {
  return Array.isArray(value) ? value.length === 0 : Object.keys(value).length === 0;
}

/** `key: value` lines of a map at column 0. */
function mapLines(map: Record<string, unknown>, style: BlockStyle): string[] {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(map)) lines.push(...pairLines(key, value, style));
  return lines;
}

function pairLines(key: string, value: unknown, style: BlockStyle): string[] {
  const name = scalar(key);
  if (!isCollection(value)) return [`${name}: ${scalar(value)}`];
  if (isEmpty(value)) return [`${name}: ${Array.isArray(value) ? '[]' : '{}'}`];
  const pad = ' '.repeat(Array.isArray(value) && !style.indentSeq ? 0 : style.indent);
  const inner = Array.isArray(value) ? seqLines(value, style) : mapLines(value, style);
  return [`${name}:`, ...inner.map((line) => `${pad}${line}`)];
}

/** `- item` lines of a sequence at column 0; an item's following lines are indented under its first. */
function seqLines(items: unknown[], style: BlockStyle): string[] {
  const lines: string[] = [];
  for (const item of items) {
    if (!isCollection(item)) lines.push(`- ${scalar(item)}`);
    else if (isEmpty(item)) lines.push(`- ${Array.isArray(item) ? '[]' : '{}'}`);
    else {
      const [first = '', ...rest] = Array.isArray(item) ? seqLines(item, style) : mapLines(item, style);
      lines.push(`- ${first}`, ...rest.map((line) => `  ${line}`));
    }
  }
  return lines;
}

/** `key: value` as block lines at column 0. */
export function blockPair(key: string, value: unknown, style: BlockStyle): string[] {
  return pairLines(key, value, style);
}

/** One sequence item as block lines at column 0 (`- ...`). */
export function blockItem(value: unknown, style: BlockStyle): string[] {
  return seqLines([value], style);
}

/** `key: value` for inside a flow map (`{a: 1}`), the value in flow style. */
export function flowPair(key: string, value: unknown): string {
  return `${scalar(key)}: ${flow(value)}`;
}

function flow(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(flow).join(', ')}]`;
  if (isCollection(value)) return `{${Object.entries(value).map(([key, item]) => `${scalar(key)}: ${flow(item)}`).join(', ')}}`;
  return scalar(value);
}
