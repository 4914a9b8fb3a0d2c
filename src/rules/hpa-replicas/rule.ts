import { asInteger, asRecord, type JsonObject } from '../../util/object.js';
import { autoscalerFor } from '../../workloads/related.js';
import { objectRef, type Workload } from '../../workloads/workload.js';
import type { RuleDescriptor } from '../rule.js';

/** Where client-side `kubectl apply` keeps what it applied last: the base of its three-way merge. */
export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/**
 * What spec.replicas the applies to this object write, as far as the object shows it:
 * - a stored object (it has a resourceVersion) always has spec.replicas (SetDefaults_Deployment and
 *   SetDefaults_StatefulSet set 1, the HPA writes its count through the scale subresource), so the field says
 *   nothing of the manifests; client-side apply's last-applied annotation does, and without it nothing here does;
 * - a manifest (no resourceVersion) writes what it holds.
 */
type Written = { source: 'manifest' | 'last-applied'; replicas: number | undefined } | { source: 'unknown'; why: string };

function writtenReplicas(workload: Workload): Written {
  const lastApplied = workload.annotations[LAST_APPLIED];
  if (lastApplied !== undefined) {
    let applied: unknown;
    try {
      applied = JSON.parse(lastApplied);
    } catch {
      return { source: 'unknown', why: `its ${LAST_APPLIED} annotation is not JSON` };
    }
    return { source: 'last-applied', replicas: asInteger(asRecord(asRecord(applied)?.['spec'])?.['replicas']) };
  }
  if (asRecord(workload.object['metadata'])?.['resourceVersion'] !== undefined) {
    return { source: 'unknown', why: `it is a stored object, which always has spec.replicas, and it has no ${LAST_APPLIED} annotation (server-side apply, Helm or another tool manages it)` };
  }
  return { source: 'manifest', replicas: workload.replicas };
}

/** The documented migration (Kubernetes docs, "Migrating Deployments and StatefulSets to horizontal autoscaling"). */
function migration(workload: Workload): string {
  const resource = `${workload.ref.kind.toLowerCase()}/${workload.ref.name}`;
  return (
    `Follow the documented migration: with client-side apply (kubectl's default), run kubectl apply edit-last-applied ${resource} and delete spec.replicas there, then delete it from the manifest; ` +
    'with server-side apply, keep it until an apply conflicts with the HPA over spec.replicas (or first apply spec.replicas alone with --field-manager=handover-to-hpa), then delete it from the manifest.'
  );
}

/** The count the HPA may hold when an apply resets it. */
function held(hpa: JsonObject): string {
  const max = asInteger(asRecord(hpa['spec'])?.['maxReplicas']);
  return max === undefined ? 'however many pods the HPA scaled to' : `however many pods the HPA scaled to (up to maxReplicas ${max})`;
}

const WITH_ROLLOUT = 'in the same update that starts a rollout when the template changes too';

/** A manifest that writes spec.replicas beside the HPA (kubernetes/kubernetes#25238). */
function manifestWrites(replicas: number, owner: string, hpa: JsonObject, workload: Workload): string {
  return (
    `spec.replicas is ${replicas}, but ${owner}: every client-side kubectl apply of this manifest sets the count back to ${replicas} from ${held(hpa)}, ${WITH_ROLLOUT} ` +
    '(a server-side apply conflicts with the HPA instead, or resets it as well when forced). ' +
    `Do not just delete the field: under client-side apply, applying the manifest without it sets the count to the default 1 at once. ${migration(workload)}`
  );
}

/** A stored object whose last client-side apply wrote spec.replicas: the three-way merge resets either way. */
function lastAppliedWrites(replicas: number, owner: string, hpa: JsonObject, workload: Workload): string {
  return (
    `its last client-side kubectl apply (${LAST_APPLIED}) wrote spec.replicas ${replicas}, but ${owner}: the next such apply sets the count from ${held(hpa)} ` +
    `back to the manifest's spec.replicas (${replicas} last time), or to the default 1 if the manifest no longer has it, ${WITH_ROLLOUT}. ${migration(workload)}`
  );
}

export const hpaReplicas: RuleDescriptor<'hpa-replicas', Record<never, never>> = {
  id: 'hpa-replicas',
  defaultSeverity: 'warning',
  defaultMode: 'enforce',
  fixable: false,
  needsContext: true,
  judges: 'workload',
  deniesUpdatesOf: [],
  parameters: {},
  docs: {
    summary: 'A Deployment or StatefulSet that a HorizontalPodAutoscaler scales does not also write spec.replicas, which every apply would reset.',
    why: 'The HPA owns spec.replicas of the workload it targets. A manifest that also writes it sets the count back on every kubectl apply: to 1 while the HPA held 8, say, at the very moment a rollout starts, so the new pods arrive with a fraction of the capacity (kubernetes/kubernetes#25238). Deleting the field from the manifest is no quick fix either: under client-side apply that resets the count to the default 1 too, so the documented migration has to be followed.',
    checks: 'A Deployment, StatefulSet or Argo Rollout targeted by a HorizontalPodAutoscaler in the same input or namespace does not write spec.replicas: in a manifest, the field itself; on a stored object (one with a resourceVersion, such as the live objects of --cluster), the spec.replicas of its kubectl.kubernetes.io/last-applied-configuration. A stored object without that annotation gets an info finding: whether its manifests write the field cannot be told from it. replicas: 0 passes (it deliberately pauses the HPA). Not fixable: the finding names the documented migration (kubectl apply edit-last-applied for client-side apply; a field-manager handover for server-side apply), since removing the field alone resets the count.',
    readme: {
      checks:
        'A Deployment/StatefulSet/Rollout targeted by a HorizontalPodAutoscaler in the same input (files) or namespace (`--cluster`) does not write `spec.replicas`: every `kubectl apply` would set the count back, to 1 while the HPA held 8, say, in the same update that starts a rollout ([kubernetes/kubernetes#25238](https://github.com/kubernetes/kubernetes/issues/25238)). A warning that names the HPA. In a manifest the field itself counts; a stored object always has it (`SetDefaults_Deployment`, and the HPA writes it), so there the `spec.replicas` of its `kubectl.kubernetes.io/last-applied-configuration` counts, and without that annotation the finding is **info**: unknown from the object. `replicas: 0` passes (it pauses the HPA on purpose). Not fixable: removing the field alone resets the count to 1 under client-side apply, so the finding names the documented migration (`kubectl apply edit-last-applied`, or a field-manager handover for server-side apply). Judged by every audit, never at admission, which sees one object.',
      peers: {
        polaris: 'none',
        kubeScore: '`deployment-targeted-by-hpa-does-not-have-replicas-configured`',
        kubeLinter: 'none',
        kyverno: 'none',
        differs: 'StatefulSets too; live objects judged by their last-applied configuration, not by the `spec.replicas` every stored object has; no fix, and the finding says which migration avoids the reset.',
      },
    },
  },
  check({ workload, related }) {
    // Needs the HPA beside the workload; a lone object (admission) cannot say whether one targets it.
    if (!related || workload.ref.kind === 'DaemonSet') return [];
    const hpa = autoscalerFor(workload, related);
    if (!hpa) return [];
    const owner = `HorizontalPodAutoscaler "${objectRef(hpa).name}" owns the replica count`;
    const written = writtenReplicas(workload);
    if (written.source === 'unknown') {
      return [
        {
          cap: 'info',
          message: `${owner}; whether the manifests applied to this ${workload.ref.kind} write spec.replicas is unknown: ${written.why}. If they do, every apply resets the count the HPA set; audit those manifests with the HPA beside them to know.`,
        },
      ];
    }
    // Unset: the HPA alone writes it. 0: the documented way to pause the HPA (it stops scaling a target at 0).
    if (written.replicas === undefined || written.replicas === 0) return [];
    return [
      {
        message:
          written.source === 'manifest'
            ? manifestWrites(written.replicas, owner, hpa, workload)
            : lastAppliedWrites(written.replicas, owner, hpa, workload),
      },
    ];
  },
};
