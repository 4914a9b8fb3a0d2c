import { diffArrays } from 'diff';

/**
 * Lines of context around a change. The `diff` library's default, which `fix --diff` has always printed:
 * changes up to 2 × CONTEXT unchanged lines apart share a hunk.
 */
const CONTEXT = 4;

/** One run of the line-by-line comparison, as the `diff` library's change objects count it. */
interface Run {
  kind: 'same' | 'added' | 'removed';
  count: number;
}

/**
 * A text's lines as the `diff` library's line tokenizer cuts them: each keeps its `\n` (so `\r\n` stays whole
 * and a lone `\r` ends no line); the last line may have no newline.
 */
function splitLines(text: string): string[] {
  const lines: string[] = [];
  for (let at = 0; at < text.length; ) {
    const newline = text.indexOf('\n', at);
    const end = newline === -1 ? text.length : newline + 1;
    lines.push(text.slice(at, end));
    at = end;
  }
  return lines;
}

/** A `---` line: where a YAML document starts (followed by a space, a tab or the end of the line). */
function isDocumentStart(line: string): boolean {
  if (!line.startsWith('---')) return false;
  const next = line.charCodeAt(3);
  return Number.isNaN(next) || next === 0x20 || next === 0x09 || next === 0x0a || next === 0x0d;
}

function documentStarts(lines: readonly string[]): number[] {
  const starts: number[] = [];
  lines.forEach((line, index) => {
    if (isDocumentStart(line)) starts.push(index);
  });
  return starts;
}

function sameLines(before: readonly string[], after: readonly string[]): boolean {
  return before.length === after.length && before.every((line, index) => line === after[index]);
}

/** Appends a run, joining it to the last one when both are unchanged lines (documents border on each other). */
function pushRun(runs: Run[], run: Run): void {
  const last = runs[runs.length - 1];
  if (last && last.kind === 'same' && run.kind === 'same') last.count += run.count;
  else runs.push(run);
}

/**
 * The `diff` library's comparison of two texts' lines (Myers' algorithm), as runs. Its diffLines cuts the texts
 * into these same lines and compares them with ===, as diffArrays does: given the lines, the runs are the same.
 */
function compare(oldLines: readonly string[], newLines: readonly string[], runs: Run[]): void {
  for (const change of diffArrays(oldLines as string[], newLines as string[])) {
    pushRun(runs, { kind: change.added ? 'added' : change.removed ? 'removed' : 'same', count: change.count });
  }
}

/**
 * The runs of the whole comparison, one YAML document at a time. Myers' algorithm costs the file's length times
 * the number of changed lines: for a whole stream with an edit in every document that is quadratic (a 20 MB
 * stream never finished). `fix` edits inside documents and never adds or drops a `---`, so the k-th `---` of
 * the original is the k-th of the fixed text: documents that are equal are unchanged lines, and each changed
 * one is compared alone, which costs its own length times its own changes. For the edits `fix` makes (values
 * replaced, lines inserted, documents re-emitted) the whole-file comparison pairs the same `---` lines, so the
 * runs and hunks are the same (test/fix-diff.test.ts holds them to it). Where it would not (near-empty
 * documents with lines deleted, which `fix` never does, can tie with a script that drops one `---` and adds
 * another), this diff keeps each document to its own: as short, and as correct. When the `---` lines do not
 * pair up (not a stream `fix` wrote), the whole texts are compared: always right, only slower.
 */
function runsOf(oldLines: readonly string[], newLines: readonly string[]): Run[] {
  const runs: Run[] = [];
  const oldStarts = documentStarts(oldLines);
  const newStarts = documentStarts(newLines);
  if (oldStarts.length !== newStarts.length || oldStarts.some((line, index) => oldLines[line] !== newLines[newStarts[index] ?? -1])) {
    compare(oldLines, newLines, runs);
    return runs;
  }
  const oldBounds = [0, ...oldStarts, oldLines.length];
  const newBounds = [0, ...newStarts, newLines.length];
  for (let index = 0; index + 1 < oldBounds.length; index++) {
    const oldDocument = oldLines.slice(oldBounds[index], oldBounds[index + 1]);
    const newDocument = newLines.slice(newBounds[index], newBounds[index + 1]);
    if (oldDocument.length === 0 && newDocument.length === 0) continue; // the text starts with `---`
    if (sameLines(oldDocument, newDocument)) pushRun(runs, { kind: 'same', count: oldDocument.length });
    else compare(oldDocument, newDocument, runs);
  }
  return runs;
}

/**
 * One line of a hunk as the `diff` library prints it: its sign, then the line without its `\n` (a `\r` stays);
 * a line that never had a newline (the file's last) is flagged on a line of its own.
 */
function hunkLine(sign: ' ' | '+' | '-', line: string): string {
  return line.endsWith('\n') ? sign + line.slice(0, -1) : `${sign}${line}\n\\ No newline at end of file`;
}

/**
 * Hunks from runs, as the `diff` library's structuredPatch builds them (same context, same merging, same line
 * numbers), reading lines by index instead of holding the runs' text.
 */
function hunksOf(runs: readonly Run[], oldLines: readonly string[], newLines: readonly string[]): string[] {
  const hunks: string[] = [];
  let open: { oldStart: number; newStart: number; lines: string[] } | undefined;
  let oldLine = 0; // 0-based: the next line of each text
  let newLine = 0;
  const add = (sign: ' ' | '+' | '-', lines: readonly string[], from: number, count: number): void => {
    for (let index = from; index < from + count; index++) open?.lines.push(hunkLine(sign, lines[index] ?? ''));
  };
  const close = (context: number): void => {
    if (!open) return;
    add(' ', oldLines, oldLine, context);
    const oldCount = oldLine - open.oldStart + context;
    const newCount = newLine - open.newStart + context;
    // Unified diff quirk: an empty side is numbered by the line before it.
    hunks.push(`@@ -${oldCount === 0 ? open.oldStart : open.oldStart + 1},${oldCount} +${newCount === 0 ? open.newStart : open.newStart + 1},${newCount} @@\n${open.lines.join('\n')}`);
    open = undefined;
  };
  runs.forEach((run, index) => {
    if (run.kind === 'same') {
      if (open) {
        // A gap short enough joins the next change into this hunk; the file's last run only ends it.
        if (run.count <= 2 * CONTEXT && index < runs.length - 1) add(' ', oldLines, oldLine, run.count);
        else close(Math.min(run.count, CONTEXT));
      }
      oldLine += run.count;
      newLine += run.count;
      return;
    }
    if (!open) {
      // Here the run before (if any) is unchanged lines: a change right after a change is in the open hunk.
      const context = Math.min(runs[index - 1]?.count ?? 0, CONTEXT);
      open = { oldStart: oldLine - context, newStart: newLine - context, lines: [] };
      add(' ', oldLines, oldLine - context, context);
    }
    if (run.kind === 'added') {
      add('+', newLines, newLine, run.count);
      newLine += run.count;
    } else {
      add('-', oldLines, oldLine, run.count);
      oldLine += run.count;
    }
  });
  close(0);
  return hunks;
}

/**
 * The hunks of a unified diff from `before` to `after` (no file headers): byte for byte what the `diff`
 * library's `createTwoFilesPatch(…, { headerOptions: OMIT_HEADERS })` printed for what `fix` writes, in time
 * that grows with the file and with each changed document's own size and changes, not with their product.
 */
export function unifiedDiffHunks(before: string, after: string): string {
  const oldLines = splitLines(before);
  const newLines = splitLines(after);
  // Identical texts give the library's lone newline: no hunk at all.
  return `${hunksOf(runsOf(oldLines, newLines), oldLines, newLines).join('\n')}\n`;
}
