/**
 * Small builders for CEL source text. Every value from a policy enters CEL through `literal` (a JSON string or
 * number is a valid CEL literal), never by pasting, so a namespace name or a message cannot break out of it.
 */
import type { Message } from '../util/message.js';

export function literal(value: string | number | boolean): string {
  if (typeof value === 'number' && !Number.isInteger(value)) throw new Error(`CEL literal: ${value} is not an integer`);
  return JSON.stringify(value);
}

/** A namespace glob (`*` any run, `?` one character) as an anchored RE2 expression for CEL's `matches`. */
export function globRegex(glob: string): string {
  const body = glob
    .split('')
    .map((char) => (char === '*' ? '.*' : char === '?' ? '.' : /[A-Za-z0-9-]/.test(char) ? char : `\\${char}`))
    .join('');
  return `^${body}$`;
}

/** `cond1 ? value1 : cond2 ? value2 : fallback`. */
export function chain(cases: Array<[condition: string, value: string]>, fallback: string): string {
  return cases.reduceRight((otherwise, [condition, value]) => `(${condition}) ? ${value} : ${otherwise}`, fallback);
}


/**
 * `body` with `name` bound to `value`, evaluated once: CEL in admission has no `let` (cel.bind is not in the
 * 1.36 library set), but a one-element list mapped and indexed is the same.
 */
export function bind(name: string, value: string, body: string): string {
  return `[${value}].map(${name}, ${body})[0]`;
}

/** A message (util/message.ts) as a CEL string expression: literal text as literals, values as their CEL. */
export function celText(pieces: Message): string {
  const parts: string[] = [];
  let pending = '';
  for (const piece of pieces) {
    if (typeof piece !== 'object') {
      pending += String(piece);
      continue;
    }
    if (pending !== '') parts.push(literal(pending));
    pending = '';
    parts.push(`(${piece.cel})`);
  }
  if (pending !== '' || parts.length === 0) parts.push(literal(pending));
  return parts.join(' + ');
}
