/**
 * Text written once for two languages. A message is literal text with values in it; the engine renders it with
 * the values it computed (`text`), and `rollsafe export` renders the same message as a CEL string expression
 * whose values are CEL (export/cel.ts `celText`). So a sentence the webhook and the native policies both say
 * is spelled in one place, and only the values differ.
 */

/** CEL source of a string-valued expression, standing where the engine has a value. */
export interface CelValue {
  readonly cel: string;
}

export type Piece = string | number | CelValue;
export type Message = readonly Piece[];

/** A message from a template literal: `message\`sleeps only ${seconds}s\``; a value may be a message too. */
export function message(strings: TemplateStringsArray, ...values: Array<Piece | Message>): Message {
  const pieces: Piece[] = [];
  strings.forEach((literal, index) => {
    if (literal !== '') pieces.push(literal);
    const value = values[index];
    if (Array.isArray(value)) pieces.push(...(value as Message));
    else if (value !== undefined) pieces.push(value as Piece);
  });
  return pieces;
}

/** A CEL expression (of type string) as a piece of a message. */
export function cel(expression: string): CelValue {
  return { cel: expression };
}

/** The message with its values, as the engine says it. */
export function text(pieces: Message): string {
  let result = '';
  for (const piece of pieces) {
    if (typeof piece === 'object') throw new Error(`a CEL value in a message the engine renders: ${piece.cel}`);
    result += piece;
  }
  return result;
}
