import { asRecord, type JsonObject } from '../../util/object.js';
import type { RelatedObjects } from '../../workloads/related.js';
import { givesWayToRollout, referencedDeployment } from '../../workloads/workload-ref.js';
import { workloadRefOf, type Workload } from '../../workloads/workload.js';
import type { RuleDescriptor, RuleFinding } from '../rule.js';

/** rollout/templateref.go infoByGroupKind: the kinds a workloadRef may name. rollsafe judges Deployments'. */
const CONTROLLER_KINDS = ['Deployment', 'ReplicaSet', 'PodTemplate'];

/**
 * Spec.EmptyTemplate (types.go) looks at the template's labels and annotations only: with either set beside a
 * workloadRef the controller refuses the Rollout ("template must be empty for workload reference rollout").
 */
function templateNotEmpty(rollout: JsonObject): boolean {
  const metadata = asRecord(asRecord(asRecord(rollout['spec'])?.['template'])?.['metadata']);
  const filled = (value: unknown) => Object.keys(asRecord(value) ?? {}).length > 0;
  return filled(metadata?.['labels']) || filled(metadata?.['annotations']);
}

function judge(workload: Workload, related: RelatedObjects | undefined): RuleFinding[] {
  const from = workload.templateFrom;
  if (!from) return [];
  const ref = workloadRefOf(workload.object) ?? {};
  const named = `spec.workloadRef names ${from.ref.kind || '(no kind)'} "${from.ref.name}"`;
  if (templateNotEmpty(workload.object)) {
    return [{ message: `${named} and spec.template has labels or annotations too: the Argo Rollouts controller refuses that ("template must be empty for workload reference rollout", InvalidSpec) and never rolls it. Keep the template in the ${from.ref.kind || 'referenced object'} only.` }];
  }
  if (!CONTROLLER_KINDS.includes(from.ref.kind)) {
    return [{ message: `${named}: the Argo Rollouts controller runs only a Deployment's, ReplicaSet's or PodTemplate's template ("workload of type ... is not supported", InvalidSpec), so this Rollout never rolls.` }];
  }
  if (from.ref.kind !== 'Deployment') {
    return [{ message: `${named}: rollsafe judges the pod templates of Deployments only, so readiness, preStop, grace period and spread of this Rollout's pods were not judged. Hold the template in a Deployment (scaled to 0, or with workloadRef.scaleDown), or inline in the Rollout.` }];
  }
  if (ref['apiVersion'] === undefined) {
    return [{ message: `${named} without an apiVersion: the Argo Rollouts controller reads the group from it (templateref.go Resolve) and refuses "workload of type /Deployment is not supported" (InvalidSpec), so this Rollout never rolls. Write apiVersion: apps/v1.` }];
  }
  if (!from.found) {
    const apiVersion = ref['apiVersion'];
    const wrongVersion = typeof apiVersion === 'string' && apiVersion !== 'apps/v1' ? ` (and its apiVersion ${JSON.stringify(apiVersion)} is not apps/v1)` : '';
    return [
      {
        message: `${named}${wrongVersion}, which is not in the input or the namespace: the pods' template, where readiness, preStop, grace period and spread are judged, was not judged. Audit the Rollout with that Deployment beside it (in the cluster the controller needs it in the Rollout's namespace, or marks the Rollout InvalidSpec).`,
      },
    ];
  }
  const deployment = related ? referencedDeployment(workload, related) : undefined;
  if (deployment && !givesWayToRollout(deployment, workload.object)) {
    return [
      {
        cap: 'warning',
        message: `${named}, which runs ${deployment.replicas ?? 1} pod(s) of its own (replicas ${deployment.replicas === undefined ? 'unset, defaults to 1' : deployment.replicas}) and is never scaled down (workloadRef.scaleDown ${JSON.stringify(ref['scaleDown'] ?? 'never')}): both sets of pods carry the template's labels, so the same Services send to both, and the Deployment's own rollouts go on beside the Rollout's. Set the Deployment's replicas to 0, or workloadRef.scaleDown: onsuccess (or progressively) for a migration.`,
      },
    ];
  }
  return [];
}

/**
 * A Rollout with spec.workloadRef runs another object's pod template (argo-rollouts rollout/templateref.go): the
 * template's rules judge it there (workloads/workload-ref.ts), so this rule makes sure it could be found.
 * Judged with context only: at admission the Deployment is judged on its own request, as a Deployment.
 */
export const workloadRef: RuleDescriptor<'workload-ref', Record<never, never>> = {
  id: 'workload-ref',
  defaultSeverity: 'error',
  defaultMode: 'enforce',
  fixable: false,
  needsContext: true,
  judges: 'workload',
  deniesUpdatesOf: [],
  parameters: {},
  docs: {
    summary: "An Argo Rollout's workloadRef names a Deployment beside it, so the pod template it runs is judged.",
    why: 'A Rollout with spec.workloadRef holds no pod template: it runs the one of the Deployment it names. If that Deployment is not beside it, nothing checked the readiness probe, preStop sleep or grace period of the pods it is about to roll, and a spec the controller refuses never rolls at all.',
    checks: 'A Rollout with spec.workloadRef names an apps/v1 Deployment in the same input (files) or namespace (--cluster), whose template is then judged on the Deployment (and fixed there), while the Rollout is judged for replicas, strategy and disruptions. Fails when the Deployment is missing, when the kind is one the controller refuses, and when spec.template has labels or annotations beside the workloadRef (InvalidSpec). A ReplicaSet or PodTemplate reference is reported as not judged. Not fixable.',
    readme: {
      checks:
        'An Argo **Rollout** with `spec.workloadRef` runs the pod template of the object it names (argo-rollouts `rollout/templateref.go`: a Deployment, ReplicaSet or PodTemplate in its namespace). rollsafe judges that template on the Deployment, where `fix` edits it, with the Rollout\'s replicas and pod-template-hash label; the Rollout is judged for replicas, strategy and disruptions with the Deployment\'s pods. Fails when the Deployment is not in the same input (files) or namespace (`--cluster`): the template was not judged, and in the cluster the controller marks the Rollout `InvalidSpec`. Fails too for a kind the controller refuses and for `spec.template` labels or annotations beside the reference ("template must be empty for workload reference rollout"). A ReplicaSet or PodTemplate reference: not judged (a finding says so). Not at admission, which sees one object: there the Deployment is judged on its own request. Not fixable.',
      peers: { polaris: 'none', kubeScore: 'none', kubeLinter: 'none', kyverno: 'none', differs: 'None of them reads Argo Rollouts; rollsafe judges the referenced template where it is written.' },
    },
  },
  check({ workload, related }) {
    return judge(workload, related);
  },
};
