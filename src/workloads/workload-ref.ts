/**
 * Argo Rollouts' workloadRef: a Rollout may run the pod template of a Deployment in its namespace instead of
 * holding one (argo-rollouts rollout/templateref.go). The two objects then share one workload: the template's
 * rules judge and fix it where it is written, on the Deployment; the replicas, strategy and disruption rules
 * judge the Rollout, which runs the pods. This module joins the two, where both are in the context.
 */
import { asInteger, asRecord, asString, type JsonObject } from '../util/object.js';
import type { RelatedObjects } from './related.js';
import { objectRef, templateView, toWorkload, workloadRefOf, type ObjectRef, type Workload } from './workload.js';

/**
 * Whether a workloadRef names this Deployment: apps/v1 kind Deployment, same namespace and name. The apiVersion
 * is required: templateref.go Resolve reads the group from it, and without one finds no "/Deployment" it supports.
 */
function refersTo(rollout: JsonObject, deployment: ObjectRef): boolean {
  const ref = workloadRefOf(rollout);
  if (!ref || ref['kind'] !== 'Deployment' || asString(ref['name']) !== deployment.name) return false;
  return ref['apiVersion'] === 'apps/v1' && objectRef(rollout).namespace === deployment.namespace;
}

/**
 * Whether the Deployment's own pods give way to the Rollout's: it is written with replicas 0, or workloadRef's
 * scaleDown makes the controller scale it to 0 (onsuccess, progressively: rollout/sync.go promoteStable,
 * replicaset.go reconcileNewReplicaSet). With scaleDown never (the default) and replicas, it keeps its own pods.
 */
export function givesWayToRollout(deployment: Workload, rollout: JsonObject): boolean {
  const scaleDown = asString(workloadRefOf(rollout)?.['scaleDown']);
  return deployment.replicas === 0 || scaleDown === 'onsuccess' || scaleDown === 'progressively';
}

/** The Rollout that runs this Deployment's template, if one in the context names it. */
export function rolloutRunning(deployment: ObjectRef, related: RelatedObjects): JsonObject | undefined {
  return related.rollouts.find((rollout) => refersTo(rollout, deployment));
}

/** The Deployment a Rollout's workloadRef names, if it is in the context. */
export function referencedDeployment(rollout: Workload, related: RelatedObjects): Workload | undefined {
  const wanted = rollout.templateFrom?.ref;
  if (!wanted || wanted.kind !== 'Deployment' || wanted.apiVersion !== 'apps/v1') return undefined;
  return related.workloads.find((candidate) => candidate.ref.kind === 'Deployment' && candidate.ref.name === wanted.name && candidate.ref.namespace === wanted.namespace);
}

/**
 * The view rules judge: toWorkload's, joined with what the context says about workloadRef. A Rollout gets the
 * referenced Deployment's template (read-only); a Deployment some Rollout runs gets that Rollout as `runBy` and
 * its replicas. Without context (admission) it is toWorkload's view: each object is judged as written.
 */
export function resolveWorkload(object: JsonObject, related: RelatedObjects | undefined): Workload | undefined {
  const view = toWorkload(object);
  if (!view || !related) return view;
  if (view.templateFrom) {
    const deployment = referencedDeployment(view, related);
    if (!deployment) return view;
    const template = asRecord(asRecord(deployment.object['spec'])?.['template']);
    return { ...templateView(object, template, deployment.podSpecPath), templateFrom: { ref: view.templateFrom.ref, found: true } };
  }
  if (view.ref.kind === 'Deployment') {
    const rollout = rolloutRunning(view.ref, related);
    // A Deployment that keeps its own pods stays a Deployment (workload-ref reports the two sets of pods).
    if (rollout && givesWayToRollout(view, rollout)) return { ...view, replicas: asInteger(asRecord(rollout['spec'])?.['replicas']), runBy: objectRef(rollout) as Workload['runBy'] & ObjectRef };
  }
  return view;
}
