import { RULES } from '../rules/index.js';
import type { Parameter } from './parameters.js';
import { PARAMETERS } from './schema.js';

/** A scalar as YAML writes it: strings that would read as another type are quoted. */
function scalar(value: unknown): string {
  return typeof value === 'string' && !/^[A-Za-z][A-Za-z0-9-]*$/.test(value) ? JSON.stringify(value) : String(value);
}

function parameterLines(name: string, parameter: Parameter<unknown>, indent: string): string[] {
  const comment = parameter.comment.map((line) => `${indent}# ${line}`);
  if (!parameter.fields) return [...comment, `${indent}${name}: ${scalar(parameter.default)}`];
  const members = Object.entries(parameter.fields).flatMap(([field, member]) => parameterLines(field, member, `${indent}  `));
  return [...comment, `${indent}${name}:`, ...members];
}

/**
 * The default policy as `rollsafe policy --print-default` prints it, with a comment per parameter: derived from
 * the rules' homes, and kept in manifests/ and the README by scripts/generate.mjs (a test finds stale copies).
 */
export function defaultPolicyDocument(): string {
  return [
    'apiVersion: rollsafe.dev/v1alpha1',
    'kind: Policy',
    ...Object.entries(PARAMETERS).flatMap(([name, parameter]) => parameterLines(name, parameter, '')),
    'exemptions:',
    '  # Workloads may exempt themselves with the rollsafe.dev/exempt annotation.',
    '  allowed: true',
    'rules:',
    ...RULES.map((rule) => `  ${rule.id}: {mode: ${rule.defaultMode}, severity: ${rule.defaultSeverity}}`),
    '# Per-namespace overrides; the first entry whose names match wins.',
    '# namespaces:',
    '#   - names: ["legacy-*"]',
    '#     mode: warn',
    '#     rules:',
    `#       ${RULES.find((rule) => rule.fixable)?.id ?? RULES[0].id}: {mode: audit}`,
    'namespaces: []',
    '',
  ].join('\n');
}
