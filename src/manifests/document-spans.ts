/** Where one YAML document sits in a file: from its `---` (0 for the first) up to the next document. */
export interface DocumentSpan {
  start: number;
  end: number;
  /** 1-based line of the document's first content (the `---` line when content follows the marker). */
  line: number;
}

/** A `---` or `...` at the start of a line, followed by a space, a tab or the end of the line. */
function markerAt(text: string, at: number, marker: '---' | '...'): boolean {
  if (!text.startsWith(marker, at)) return false;
  const next = text.charCodeAt(at + 3);
  return Number.isNaN(next) || next === 0x20 || next === 0x09 || next === 0x0a || next === 0x0d;
}

/** Neither blank nor a comment: the line holds content. */
function hasContent(text: string, from: number, to: number): boolean {
  for (let at = from; at < to; at++) {
    const char = text.charCodeAt(at);
    if (char === 0x20 || char === 0x09 || char === 0x0d) continue;
    return char !== 0x23; // '#'
  }
  return false;
}

/**
 * The documents of a YAML stream found by their `---` lines alone, as the `yaml` library splits them: text
 * before the first `---` is a document only when it holds content, and a `---` is one even when nothing
 * follows it. A `---` at the start of a line ends any scalar (YAML 1.2's c-forbidden), so no quoting can hide
 * one. Undefined for streams with directives (`%YAML`) or `...` end markers: the full parser reads those.
 */
export function documentSpans(text: string): DocumentSpan[] | undefined {
  const spans: DocumentSpan[] = [];
  let current: DocumentSpan | undefined;
  let needsLine = true; // the current document's first content line is still ahead
  let lineNumber = 0;
  // A byte-order mark opens the first line: a `---` after it is a marker all the same.
  for (let at = text.charCodeAt(0) === 0xfeff ? 1 : 0; at < text.length; ) {
    lineNumber++;
    const newline = text.indexOf('\n', at);
    const end = newline === -1 ? text.length : newline;
    if (text.charCodeAt(at) === 0x25 /* % */ || markerAt(text, at, '...')) return undefined;
    if (markerAt(text, at, '---')) {
      if (current) {
        current.end = at;
        spans.push(current);
      }
      // Comments before the first `---` belong to its document.
      current = { start: current ? at : 0, end: text.length, line: lineNumber };
      needsLine = !hasContent(text, at + 3, end);
    } else if (needsLine && hasContent(text, at, end)) {
      current ??= { start: 0, end: text.length, line: lineNumber };
      current.line = lineNumber;
      needsLine = false;
    }
    at = end + 1;
  }
  if (current) {
    current.end = text.length;
    spans.push(current);
  }
  return spans;
}
