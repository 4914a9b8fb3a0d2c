/**
 * What test/export.test.ts and test/export-rollouts.test.ts compare: the webhook's answer (handleAdmission, alone
 * or as the /mutate then /validate chain) against the apiserver's answer under the exported policies, each in
 * the words the other uses. The apiserver returns only the first denying policy's message and words warnings
 * "Validation failed for ValidatingAdmissionPolicy ..." (k8s.io/apiserver policy/validating/dispatcher.go).
 */
import fastJsonPatch from 'fast-json-patch';
import { handleAdmission } from '../../src/admission/handle.js';
import { DENIAL_BUDGET } from '../../src/export/policies.js';
import { EXPORTED_RULES } from '../../src/export/rules.js';
import type { Mode, Policy } from '../../src/policy/types.js';
import { RULE_IDS } from '../../src/rules/index.js';
import { kubectlOk, type ControlPlaneInfo } from './cluster.js';
import type { Test } from 'tap';
import type { DryRunAnswer } from './dry-run.js';

type Obj = Record<string, any>;

export interface Verdict {
  denied: string | undefined;
  warnings: string[];
}

/** An admission request to judge, by the test apiserver's admin unless `username` says otherwise. */
export interface AdmissionCase {
  operation: 'CREATE' | 'UPDATE';
  object: Obj;
  oldObject?: Obj | null;
  username?: string;
}

/** Namespaces of one test file: labelled with its scope, which its policies' selectors require. */
export function namespaceMaker(plane: ControlPlaneInfo, scope: string): (name: string, labels: Record<string, string>) => Promise<void> {
  return async (name, labels) => {
    const object = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'rollsafe.test/scope': scope, ...labels } } };
    await kubectlOk(plane, ['apply', '-f', '-'], JSON.stringify(object));
  };
}

/** What a create sends: the manifest without server-set metadata or status (a copy: callers may change it). */
export function manifest(object: Obj): Obj {
  const { name, generateName, labels, annotations } = object.metadata ?? {};
  const metadata: Obj = { name: name ?? generateName?.replace(/-$/, '') ?? 'unnamed' };
  if (labels) metadata.labels = labels;
  if (annotations) metadata.annotations = annotations;
  return structuredClone({ apiVersion: object.apiVersion, kind: object.kind, metadata, spec: object.spec });
}

/** The policy with the rules that are not exported turned off: what the exported policies must match. */
export function exportedOnly(policy: Policy): Policy {
  const copy = structuredClone(policy);
  const exported = new Set<string>(EXPORTED_RULES.map(({ rule }) => rule.id));
  for (const id of RULE_IDS.filter((rule) => !exported.has(rule))) {
    copy.rules[id] = { ...copy.rules[id], mode: 'off' };
    for (const override of copy.namespaces) if (override.rules?.[id]) override.rules[id] = { ...override.rules[id], mode: 'off' };
  }
  return copy;
}

/**
 * A webhook denial as the exported policy words it: every numbered violation while they fit in DENIAL_BUDGET
 * bytes, then how many more (the apiserver refuses denial messages over 5 KiB from a policy).
 */
function capped(message: string): string {
  const match = /^(rollsafe denied .*?: \d+ zero-downtime violation\(s\):)\n([\s\S]*)$/.exec(message);
  if (!match) return message;
  const lines = (match[2] as string).split('\n');
  let used = 0;
  let fitting = 0;
  for (const line of lines) {
    used += Buffer.byteLength(line) + 1;
    if (used > DENIAL_BUDGET) break;
    fitting++;
  }
  const shown = lines.slice(0, fitting).join(' ');
  return `${match[1]} ${fitting === lines.length ? shown : `${shown} … and ${lines.length - fitting} more: rollsafe audit lists them all.`}`;
}

/** The exported warning for an unknown rule cannot say "did you mean" (CEL has no edit distance): compared up to there. */
function comparable(warning: string): string {
  return warning.startsWith('exemption: ') && / names (?:unknown rule |an unknown rule with control characters)/.test(warning) ? warning.replace(/ \((?:did you mean|known:).*$/, '') : warning;
}

const kindOf = (object: Obj) =>
  object.apiVersion === 'argoproj.io/v1alpha1' && object.kind === 'Rollout' ? { group: 'argoproj.io', version: 'v1alpha1', kind: 'Rollout' } : { group: 'apps', version: 'v1', kind: object.kind };

/**
 * What the webhook's /validate answers for the same (defaulted) object, in the apiserver's words. None of the
 * tests' namespaces has the AWS readiness gate label: the path of the entry that calls the webhook there says
 * so (/validate/.../ns/no-elbv2-gates), as the policies read it from namespaceObject.
 */
export function webhookVerdict(policy: Policy, namespace: string, mode: Mode | undefined, { operation, object, oldObject, username = 'rollsafe-test-admin' }: AdmissionCase): Verdict {
  const { response } = handleAdmission(
    { uid: 'parity', kind: kindOf(object), namespace, operation, object, oldObject: oldObject ?? null, userInfo: { username } },
    'validate',
    policy,
    mode,
    {},
  );
  return { denied: response.allowed ? undefined : capped(response.status?.message ?? ''), warnings: [...(response.warnings ?? [])].map(comparable).sort() };
}

/**
 * The webhook chain: /mutate, its patch applied, then /validate on the patched object, which is what is stored.
 * (The apiserver re-defaults after a mutation: nothing rollsafe adds has defaults.)
 */
export function chainVerdict(policy: Policy, namespace: string, mode: Mode | undefined, request: AdmissionCase): Verdict & { spec: Obj } {
  const { operation, object, oldObject, username = 'rollsafe-test-admin' } = request;
  const review = { uid: 'chain', kind: kindOf(object), namespace, operation, object, oldObject: oldObject ?? null, userInfo: { username } };
  const mutated = handleAdmission(review, 'mutate', policy, mode).response;
  const patch = mutated.patch ? (JSON.parse(Buffer.from(mutated.patch, 'base64').toString('utf8')) as fastJsonPatch.Operation[]) : [];
  const patched = fastJsonPatch.applyPatch(structuredClone(object), patch).newDocument;
  return { ...webhookVerdict(policy, namespace, mode, { ...request, object: patched }), spec: patched.spec };
}

/** The apiserver's answer under the policies named `<prefix>-deny` and `<prefix>-warn`, as a Verdict. */
export function vapVerdict(answer: DryRunAnswer, prefix: string): Verdict {
  const message: string = answer.body.message ?? '';
  const denial = `ValidatingAdmissionPolicy '${prefix}-deny' with binding '${prefix}-deny' denied request: `;
  const warning = `Validation failed for ValidatingAdmissionPolicy '${prefix}-warn' with binding '${prefix}-warn': `;
  return {
    denied: answer.status >= 400 ? (message.includes(denial) ? message.slice(message.indexOf(denial) + denial.length) : `not rollsafe's denial: ${message}`) : undefined,
    warnings: answer.warnings.filter((text) => text.startsWith(warning)).map((text) => comparable(text.slice(warning.length))).sort(),
  };
}

/** kubectl's stderr under the policies named `<prefix>-deny` and `<prefix>-warn`, as a Verdict. */
export function kubectlVerdict(run: { code: number; stderr: string }, prefix: string): Verdict {
  const denial = `ValidatingAdmissionPolicy '${prefix}-deny' with binding '${prefix}-deny' denied request: `;
  const warning = `Warning: Validation failed for ValidatingAdmissionPolicy '${prefix}-warn' with binding '${prefix}-warn': `;
  const lines = run.stderr.split('\n');
  const denied = run.code === 0 ? undefined : run.stderr.includes(denial) ? run.stderr.slice(run.stderr.indexOf(denial) + denial.length).trim() : `not rollsafe's denial: ${run.stderr}`;
  return { denied, warnings: lines.filter((line) => line.startsWith(warning)).map((line) => comparable(line.slice(warning.length))).sort() };
}

/** A namespace the policies judge in, and what the webhook would judge there (policy, namespace mode, policy-name prefix). */
export interface ParityCase {
  namespace: string;
  policy: Policy;
  mode: Mode | undefined;
  prefix: string;
}

/**
 * Each workload created (server-side dry run) in every case's namespace, with no webhook: the exported policies'
 * verdict, denial and warnings must be the webhook's for the object as the apiserver defaulted it (created first
 * in `plainNamespace`, which no policy judges). With `chain`, the webhook's is the /mutate then /validate chain,
 * and what is stored is its patched spec. A workload the apiserver refuses outright is skipped, or with
 * `refusedFails` a failure. Counts what was compared, so callers can ask for a real mix.
 */
export async function compareCreates(
  t: Test,
  workloads: Array<{ source: string; object: Obj }>,
  options: { plainNamespace: string; cases: ParityCase[]; createDryRun: (namespace: string, object: Obj) => Promise<DryRunAnswer>; chain?: boolean; refusedFails?: boolean },
): Promise<{ judged: number; denied: number; warned: number; fixed: number }> {
  const counts = { judged: 0, denied: 0, warned: 0, fixed: 0 };
  for (const { source, object } of workloads) {
    const create = manifest(object);
    const defaulted = await options.createDryRun(options.plainNamespace, create);
    if (defaulted.status !== 201) {
      if (options.refusedFails) t.fail(`${source}: the apiserver refused it: ${defaulted.body.message}`);
      continue;
    }
    await Promise.all(
      options.cases.map(async ({ namespace, policy, mode, prefix }) => {
        const request = { operation: 'CREATE' as const, object: { ...defaulted.body, metadata: { ...defaulted.body.metadata, namespace } } };
        const answer = await options.createDryRun(namespace, create);
        if (options.chain) {
          const expected = chainVerdict(policy, namespace, mode, request);
          t.strictSame({ ...vapVerdict(answer, prefix), spec: answer.status === 201 ? answer.body.spec : expected.spec }, expected, `${source} in ${namespace}`);
          if (JSON.stringify(expected.spec) !== JSON.stringify(defaulted.body.spec)) counts.fixed++;
          if (expected.denied) counts.denied++;
          if (expected.warnings.length > 0) counts.warned++;
        } else {
          const expected = webhookVerdict(policy, namespace, mode, request);
          t.strictSame(vapVerdict(answer, prefix), expected, `${source} in ${namespace}`);
          if (expected.denied) counts.denied++;
          if (expected.warnings.length > 0) counts.warned++;
        }
        counts.judged++;
      }),
    );
  }
  return counts;
}
