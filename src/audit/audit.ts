import { evaluate, failsAt, type Evaluation, type EvaluateOptions, type Finding } from '../engine/engine.js';
import type { InputError, ParsedFile, SourceObject } from '../manifests/read.js';
import type { Policy } from '../policy/types.js';
import type { JsonObject } from '../util/object.js';
import { addRelated, emptyRelated, type RelatedObjects } from '../workloads/related.js';
import { isWorkloadKind, isWorkloadObject, objectRef, workloadApiVersion } from '../workloads/workload.js';

export type FailOn = 'error' | 'warning' | 'never';

export interface ObjectResult {
  source: SourceObject;
  evaluation: Evaluation;
  /** The controller that owns a live object (e.g. an operator's custom resource), for cluster audits. */
  owner?: string;
}

export interface SkippedObject {
  file: string;
  document: number;
  apiVersion: string;
  kind: string;
  name: string;
  /** Why a workload kind was skipped (e.g. no pod template); absent for other kinds. */
  reason?: string;
}

export const NO_POD_TEMPLATE = 'no pod template with containers: a patch fragment? render it first (kustomize build, helm template)';

/** A workload kind under another apiVersion is skipped with the reason: apps/v1 is the only one served. */
function otherApiVersion(object: JsonObject): { reason?: string } {
  const kind = object['kind'];
  if (!isWorkloadKind(kind)) return {};
  const apiVersion = typeof object['apiVersion'] === 'string' ? object['apiVersion'] : '(none)';
  if (kind === 'Rollout') {
    // Another group's Rollout (a Knative or Flagger kind, say) is another thing: skipped as any other kind.
    return apiVersion.startsWith('argoproj.io/') ? { reason: `apiVersion ${apiVersion} is not ${workloadApiVersion(kind)}, the only version of the Argo Rollouts CRD: rollsafe judges ${workloadApiVersion(kind)} Rollouts` } : {};
  }
  return { reason: `apiVersion ${apiVersion} is not apps/v1, the only version of ${kind} Kubernetes has served since 1.16: rollsafe judges apps/v1 objects; migrate it (kubectl convert)` };
}

export interface AuditResult {
  results: ObjectResult[];
  skipped: SkippedObject[];
  inputErrors: InputError[];
}

export interface Summary {
  objects: number;
  skipped: number;
  errors: number;
  warnings: number;
  infos: number;
  exempt: number;
}

/**
 * Evaluates every workload of a set of files. The files together are the context: a Service, HPA, PDB or
 * PVC in one file informs the rules for a workload in another, and what is not among them is absent (a
 * Deployment read alone has no PodDisruptionBudget).
 */
export function auditFiles(files: ParsedFile[], policy: Policy, options: Pick<EvaluateOptions, 'fixModes'> = {}): AuditResult {
  const sources = files.flatMap((file) => file.objects);
  // Every audit has context, however many objects it reads: the same rule for files, stdin and the cluster.
  // Only admission, which sees one object, has none.
  const related: RelatedObjects = emptyRelated();
  for (const source of sources) addRelated(related, source.object);
  const result: AuditResult = { results: [], skipped: [], inputErrors: files.flatMap((file) => file.errors) };
  for (const source of sources) {
    const evaluation = evaluate(source.object, policy, { ...options, related });
    if (!evaluation) {
      const ref = objectRef(source.object);
      result.skipped.push({
        file: source.file,
        document: source.document,
        apiVersion: ref.apiVersion,
        kind: ref.kind || '(no kind)',
        name: ref.name,
        ...(isWorkloadObject(source.object) ? { reason: NO_POD_TEMPLATE } : otherApiVersion(source.object)),
      });
      continue;
    }
    for (const error of evaluation.errors) {
      result.inputErrors.push({
        file: source.file,
        document: source.document,
        line: source.line,
        message: `rule ${error.rule} failed on ${evaluation.ref.kind} ${evaluation.ref.name}: ${error.message}`,
      });
    }
    result.results.push({ source, evaluation });
  }
  return result;
}

/** A finding fails the audit when enforced, not exempt, and at or above --fail-on. warn/audit modes only report. */
export function findingFails(finding: Finding, failOn: FailOn): boolean {
  return failOn !== 'never' && failsAt(finding, failOn);
}

export function summarize(audit: AuditResult): Summary {
  const summary: Summary = { objects: audit.results.length, skipped: audit.skipped.length, errors: 0, warnings: 0, infos: 0, exempt: 0 };
  for (const { evaluation } of audit.results) {
    for (const finding of evaluation.findings) {
      if (finding.exempt) summary.exempt++;
      else if (finding.severity === 'error') summary.errors++;
      else if (finding.severity === 'warning') summary.warnings++;
      else summary.infos++;
    }
  }
  return summary;
}

/** 0 clean, 1 a finding at or above --fail-on, 2 unreadable input (other inputs were still audited). */
export function exitCode(audit: AuditResult, failOn: FailOn): number {
  if (audit.inputErrors.length > 0) return 2;
  const fails = audit.results.some(({ evaluation }) => evaluation.findings.some((finding) => findingFails(finding, failOn)));
  return fails ? 1 : 0;
}
