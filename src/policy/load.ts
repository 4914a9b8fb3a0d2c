import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Ajv as AjvInstance, ErrorObject } from 'ajv';
import type { Document } from 'yaml';
import { decodeInput } from '../manifests/decode.js';
import { TOO_DEEP, tooDeeplyNested } from '../manifests/nesting.js';
import { yamlLibrary } from '../util/yaml-library.js';
import { policySchema } from './schema.js';
import { supportsNativeSleep } from '../workloads/pre-stop.js';
import type { Policy } from './types.js';
import { suggestion } from '../util/did-you-mean.js';

export class PolicyError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid policy ${source}:\n  ${problems.join('\n  ')}`);
    this.name = 'PolicyError';
  }
}

let validator: ReturnType<AjvInstance['compile']> | undefined;

function validatePolicy(data: unknown): ErrorObject[] {
  // Loaded and compiled on first use: a run with the default policy never pays for ajv (about a third of
  // the CLI's cold start).
  if (!validator) {
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    // verbose: errors carry their schema, so an unknown key can be matched against the known ones.
    validator = new Ajv({ allErrors: true, useDefaults: true, strict: true, verbose: true }).compile(policySchema);
  }
  return validator(data) ? [] : (validator.errors ?? []);
}

function asProperties(schema: unknown): Record<string, unknown> {
  const properties = (schema as { properties?: unknown } | undefined)?.properties;
  return typeof properties === 'object' && properties !== null ? (properties as Record<string, unknown>) : {};
}

function describe(error: ErrorObject): string {
  const path = error.instancePath === '' ? '(top level)' : error.instancePath.slice(1).split('/').join('.');
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params['additionalProperty']);
      const known = Object.keys(asProperties(error.parentSchema));
      return `${path}: unknown key "${key}"${suggestion(key, known)}`;
    }
    case 'enum':
      return `${path}: must be one of ${(params['allowedValues'] as unknown[]).join(', ')}`;
    case 'const':
      return `${path}: must be ${JSON.stringify(params['allowedValue'])}`;
    case 'type':
      return `${path}: must be ${String(params['type'])}`;
    case 'required':
      return `${path}: missing required key "${String(params['missingProperty'])}"`;
    default:
      return `${path}: ${error.message ?? 'is invalid'}`;
  }
}

/** A policy needs no more: anchors shared by namespace overrides, not an alias bomb ("billion laughs"). */
const MAX_POLICY_ALIASES = 50;

/** The policy's value; a value the `yaml` library refuses to build is a problem of the policy, named with it. */
function policyValue(doc: Document.Parsed, source: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_POLICY_ALIASES }) ?? {};
  } catch (error) {
    if (error instanceof RangeError) throw new PolicyError(source, [`the document ${TOO_DEEP}`]);
    if (/alias/i.test((error as Error).message)) throw new PolicyError(source, [`too many YAML alias expansions (more than ${MAX_POLICY_ALIASES}: a possible alias bomb); refused`]);
    throw new PolicyError(source, [`cannot read: ${(error as Error).message}`]);
  }
}

/**
 * Parses and validates a policy document (YAML or JSON text), filling defaults. A policy is rollsafe's own
 * document, read as YAML 1.2 wherever it comes from (a file, or the ConfigMap the webhook mounts): `mode: off`
 * is the string it reads as.
 */
export function parsePolicy(text: string, source: string): Policy {
  const { LineCounter, parseDocument } = yamlLibrary();
  const lines = new LineCounter();
  // The parser recurses: what nests deeper than it can go is refused before it runs.
  const deep = tooDeeplyNested(text);
  if (deep) throw new PolicyError(source, [`line ${text.slice(0, deep.offset).split('\n').length}: the document ${TOO_DEEP}`]);
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter: lines });
  const syntax = doc.errors[0];
  if (syntax) {
    const at = lines.linePos(syntax.pos[0]);
    throw new PolicyError(source, [`${at ? `line ${at.line}, column ${at.col}: ` : ''}${syntax.message.split('\n')[0]}`]);
  }
  const data = policyValue(doc, source);
  const problems = validatePolicy(data).map(describe);
  if (problems.length > 0) throw new PolicyError(source, [...new Set(problems)]);
  const policy = data as Policy;
  const conflicts = versionConflicts(policy);
  if (conflicts.length > 0) throw new PolicyError(source, conflicts);
  return policy;
}

/**
 * preStop.action: sleep writes the native sleep action, which the apiserver accepts from Kubernetes 1.30 on
 * (PodLifecycleSleepAction, beta and on by default in 1.30, GA in 1.34): refused for an older target, at the
 * top level and in every namespace override (with the version it inherits).
 */
function versionConflicts(policy: Policy): string[] {
  const problems: string[] = [];
  const check = (where: string, action: string | undefined, version: string) => {
    if (action === 'sleep' && !supportsNativeSleep(version)) {
      problems.push(`${where}preStop.action: sleep needs kubernetesVersion 1.30 or later (the native sleep action); the target is "${version}": use action auto or exec`);
    }
  };
  check('', policy.preStop.action, policy.kubernetesVersion);
  policy.namespaces.forEach((override, index) => {
    check(`namespaces.${index}.`, override.preStop?.action ?? policy.preStop.action, override.kubernetesVersion ?? policy.kubernetesVersion);
  });
  return [...new Set(problems)];
}

export function loadPolicyFile(path: string): Policy {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new PolicyError(path, [`cannot read: ${(error as NodeJS.ErrnoException).code ?? String(error)}`]);
  }
  // Refused as a manifest is when it is not UTF-8 text, rather than read with U+FFFD in it.
  const decoded = decodeInput(bytes);
  if ('problem' in decoded) throw new PolicyError(path, [decoded.problem]);
  return parsePolicy(decoded.text, path);
}

/** Fills the schema's `default`s into a value, as ajv's useDefaults does for this schema (objects only). */
function withDefaults(schema: unknown, value: unknown): unknown {
  const properties = (schema as { properties?: Record<string, unknown> }).properties;
  if (!properties || typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  for (const [key, child] of Object.entries(properties)) {
    if (record[key] === undefined && child && typeof child === 'object' && 'default' in child) record[key] = structuredClone((child as { default: unknown }).default);
    if (record[key] !== undefined) withDefaults(child, record[key]);
  }
  return value;
}

/** The policy of an empty document: the schema's defaults, without compiling a validator. */
export function defaultPolicy(): Policy {
  return withDefaults(policySchema, { apiVersion: 'rollsafe.dev/v1alpha1', kind: 'Policy' }) as Policy;
}
