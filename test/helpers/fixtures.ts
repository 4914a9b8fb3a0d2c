import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { auditFiles, type AuditResult } from '../../src/audit/audit.js';
import { ALL_ACTIVE_MODES } from '../../src/engine/engine.js';
import { fixedTexts } from '../../src/manifests/fix-files.js';
import { parseManifest } from '../../src/manifests/read.js';
import { defaultPolicy } from '../../src/policy/load.js';
import type { Policy } from '../../src/policy/types.js';

export const TEST_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = join(TEST_DIR, 'fixtures');

export function fixture(...parts: string[]): string {
  return readFileSync(join(FIXTURES, ...parts), 'utf8');
}

/** Audits one YAML text (as one file) with fixes computed; returns the audit and the fixed text. */
export function auditText(text: string, policy: Policy = defaultPolicy(), file = 'input.yaml'): { audit: AuditResult; fixed: string } {
  const parsed = parseManifest(text, file);
  const audit = auditFiles([parsed], policy, { fixModes: ALL_ACTIVE_MODES });
  const [result] = fixedTexts([parsed], audit);
  return { audit, fixed: result?.text ?? text };
}

export function findingsOf(audit: AuditResult, rule?: string) {
  return audit.results.flatMap((result) => result.evaluation.findings).filter((finding) => rule === undefined || finding.rule === rule);
}
