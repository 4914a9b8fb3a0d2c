import type { AuditResult } from '../audit/audit.js';
import type { ParsedFile } from './read.js';
import { writeFixed, type ObjectEdit } from './write.js';

/** The edits an audit run with fixes produced, grouped by the file they belong to. */
export function editsByFile(audit: AuditResult): Map<string, ObjectEdit[]> {
  const edits = new Map<string, ObjectEdit[]>();
  for (const { source, evaluation } of audit.results) {
    if (!evaluation.changed || !evaluation.fixed) continue;
    const list = edits.get(source.file) ?? [];
    list.push({
      document: source.document,
      ...(source.item !== undefined ? { item: source.item } : {}),
      original: source.object,
      fixed: evaluation.fixed,
      paths: evaluation.applied.flatMap((fix) => fix.paths),
    });
    edits.set(source.file, list);
  }
  return edits;
}

/** New text of every file (unchanged files come back as they were). */
export function fixedTexts(files: ParsedFile[], audit: AuditResult): Array<{ file: ParsedFile; text: string; edits: number }> {
  const edits = editsByFile(audit);
  return files.map((file) => {
    const fileEdits = edits.get(file.file) ?? [];
    return { file, text: writeFixed(file, fileEdits), edits: fileEdits.length };
  });
}
