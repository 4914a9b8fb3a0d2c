/**
 * User text quoted in messages: on one line (an admission warning is one header line, and the apiserver drops a
 * policy message with a line break), and cut by code points, not UTF-16 units (a cut never splits an emoji,
 * and CEL counts the same way in `rollsafe export`).
 */
export function oneLine(text: string): string {
  return /[\r\n\t]/.test(text) ? text.replace(/[\r\n\t]/g, ' ') : text;
}

/** The first `count` code points of `text`. */
export function firstCodePoints(text: string, count: number): string {
  // The length in UTF-16 units bounds the code points: most texts need no split.
  if (text.length <= count) return text;
  const points = Array.from(text);
  return points.length <= count ? text : points.slice(0, count).join('');
}

/** Whether `text` has more than `count` code points. */
export function longerThan(text: string, count: number): boolean {
  return text.length > count && Array.from(text).length > count;
}

/** Blanks as people type them around list items: space, tab, line breaks (not every Unicode space: CEL agrees). */
export const BLANKS = ' \t\n\r';
const AROUND_BLANKS = new RegExp(`^[${BLANKS}]+|[${BLANKS}]+$`, 'g');

export function trimBlanks(text: string): string {
  return text.replace(AROUND_BLANKS, '');
}

/** C0 and C1 control characters and DEL, as code point ranges (the apiserver drops a warning holding one). */
export const CONTROL_CHARACTER_RANGES = [
  [0x00, 0x1f],
  [0x7f, 0x9f],
] as const;
