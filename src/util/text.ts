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
export function trimBlanks(text: string): string {
  return text.replace(/^[ \t\n\r]+|[ \t\n\r]+$/g, '');
}
