import { kubernetesMinor } from '../../policy/version.js';
import { literal } from '../cel.js';
import { add, copy, finding, POD } from '../workload-cel.js';
import type { ExportedRule } from './types.js';

const HOSTNAME = 'kubernetes.io/hostname';
const LABELS = 'object.spec.template.metadata.?labels.orValue({})';

/** selectorMatches (workloads/label-selector.ts) on the pod template's labels. */
function selectsPods(selector: string): string {
  const has = `(e.key in ${LABELS})`;
  const inValues = `(${has} && ${LABELS}[e.key] in e.?values.orValue([]))`;
  return (
    `(${selector}.?matchLabels.orValue({}).all(k, k in ${LABELS} && ${LABELS}[k] == ${selector}.matchLabels[k])` +
    ` && ${selector}.?matchExpressions.orValue([]).all(e, e.operator == 'In' ? ${inValues} : e.operator == 'NotIn' ? !${inValues} : e.operator == 'Exists' ? ${has} : e.operator == 'DoesNotExist' ? !${has} : false))`
  );
}

const spreads = (term: string) => `(${term}.?topologyKey.orValue('') == ${literal(HOSTNAME)} && has(${term}.labelSelector) && ${selectsPods(`${term}.labelSelector`)})`;
const ANTI = `${POD}.?affinity.?podAntiAffinity`;
const SPREAD =
  `(${POD}.?topologySpreadConstraints.orValue([]).exists(t, ${spreads('t')})` +
  ` || ${ANTI}.?requiredDuringSchedulingIgnoredDuringExecution.orValue([]).exists(t, ${spreads('t')})` +
  ` || ${ANTI}.?preferredDuringSchedulingIgnoredDuringExecution.orValue([]).exists(w, has(w.podAffinityTerm) && ${spreads('w.podAffinityTerm')}))`;

/** rules/node-spread.ts without an HPA (admission sees no other object). */
export const nodeSpreadCel: ExportedRule = {
  id: 'node-spread',
  findings({ policy }) {
    const pods = 'object.spec.?replicas.orValue(1)';
    const matchLabelKeys = kubernetesMinor(policy.kubernetesVersion) >= 27;
    const constraint =
      `{'maxSkew': dyn(1), 'topologyKey': dyn(${literal(HOSTNAME)}), 'whenUnsatisfiable': dyn('ScheduleAnyway')` +
      (matchLabelKeys ? `, 'matchLabelKeys': dyn(object.kind == 'Deployment' ? ['pod-template-hash'] : [])` : '') +
      '}';
    // matchLabelKeys only for Deployments: drop the empty list the literal needs for the others.
    const value = matchLabelKeys ? `(object.kind == 'Deployment' ? ${constraint} : ${constraint.replace(/, 'matchLabelKeys': dyn\([^)]*\[\]\)/, '')})` : constraint;
    // The selector is copied by the patch (a JSON Patch `copy`): a typed LabelSelector from the object cannot
    // be put into a patch value, and a copy is the deep clone the engine makes.
    const index = `string(size(${POD}.?topologySpreadConstraints.orValue([])))`;
    const set =
      `(has(${POD}.topologySpreadConstraints) ? [${add("'/spec/template/spec/topologySpreadConstraints/-'", value)}] : [${add("'/spec/template/spec/topologySpreadConstraints'", `[${value}]`)}])` +
      ` + [${copy("'/spec/selector'", `'/spec/template/spec/topologySpreadConstraints/' + ${index} + '/labelSelector'`)}]`;
    const description = `'adds a soft topologySpreadConstraint (maxSkew 1 on ${HOSTNAME}, ScheduleAnyway' + (${matchLabelKeys ? "object.kind == 'Deployment'" : 'false'} ? ', matchLabelKeys [pod-template-hash])' : ')')`;
    const clash = `${POD}.?topologySpreadConstraints.orValue([]).exists(t, t.?topologyKey.orValue('') == ${literal(HOSTNAME)} && t.?whenUnsatisfiable.orValue('') == 'ScheduleAnyway')`;
    const clashing = finding(
      `'its ' + string(${pods}) + ${literal(
        ` pods may all land on one node: its ScheduleAnyway topologySpreadConstraint on ${HOSTNAME} has a labelSelector that does not select its own pods, so it spreads other pods, not these. Point that constraint's labelSelector at the pod template's labels (rollsafe cannot add a second one: the apiserver refuses two constraints with the same topologyKey and whenUnsatisfiable).`,
      )}`,
    );
    return (
      `object.kind != 'DaemonSet' && ${pods} >= 2 && !${SPREAD} ? (${clash} ? [${clashing}] : [${finding(
        `'its ' + string(${pods}) + ${literal(` pods may all land on one node (no topologySpreadConstraint or pod anti-affinity on ${HOSTNAME} selects them): draining or losing that node takes every replica down at once. Spread them across nodes.`)}`,
        description,
        "''",
        set,
      )}]) : []`
    );
  },
};
