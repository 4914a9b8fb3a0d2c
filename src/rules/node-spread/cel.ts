import { celText, literal } from '../../export/cel.js';
import { add, copy, finding, POD } from '../../export/workload-cel.js';
import { cel } from '../../util/message.js';
import {
  addsSpread,
  clashingSpread,
  DEPLOYMENT_MATCH_LABEL_KEYS,
  HOSTNAME,
  MATCH_LABEL_KEYS,
  nodeSpread,
  notSpread,
  ROLLOUT_MATCH_LABEL_KEYS,
  ROLLOUT_MATCH_LABEL_KEYS_TEXT,
  SOFT_SPREAD,
  supportsMatchLabelKeys,
} from './rule.js';
import type { ExportedRule } from '../../export/exported-rule.js';

/** The pod template's labels; a Rollout's template may have no metadata (the apiserver fills none in). */
const labelsOf = (rollouts: boolean) => (rollouts ? 'object.spec.template.?metadata.?labels.orValue({})' : 'object.spec.template.metadata.?labels.orValue({})');

/** selectorMatches (workloads/label-selector.ts) on the pod template's labels. */
function selectsPods(selector: string, rollouts: boolean): string {
  const LABELS = labelsOf(rollouts);
  const has = `(e.key in ${LABELS})`;
  const inValues = `(${has} && ${LABELS}[e.key] in e.?values.orValue([]))`;
  return (
    `(${selector}.?matchLabels.orValue({}).all(k, k in ${LABELS} && ${LABELS}[k] == ${selector}.matchLabels[k])` +
    ` && ${selector}.?matchExpressions.orValue([]).all(e, e.operator == 'In' ? ${inValues} : e.operator == 'NotIn' ? !${inValues} : e.operator == 'Exists' ? ${has} : e.operator == 'DoesNotExist' ? !${has} : false))`
  );
}

const ANTI = `${POD}.?affinity.?podAntiAffinity`;
function spreadAcrossNodes(rollouts: boolean): string {
  const spreads = (term: string) => `(${term}.?topologyKey.orValue('') == ${literal(HOSTNAME)} && has(${term}.labelSelector) && ${selectsPods(`${term}.labelSelector`, rollouts)})`;
  return (
    `(${POD}.?topologySpreadConstraints.orValue([]).exists(t, ${spreads('t')})` +
    ` || ${ANTI}.?requiredDuringSchedulingIgnoredDuringExecution.orValue([]).exists(t, ${spreads('t')})` +
    ` || ${ANTI}.?preferredDuringSchedulingIgnoredDuringExecution.orValue([]).exists(w, has(w.podAffinityTerm) && ${spreads('w.podAffinityTerm')}))`
  );
}

/** The check of rule.ts in CEL, without an HPA (admission sees no other object). */
export const nodeSpreadCel: ExportedRule = {
  rule: nodeSpread,
  findings({ policy, rollouts }) {
    const pods = 'object.spec.?replicas.orValue(1)';
    const matchLabelKeys = supportsMatchLabelKeys(policy.kubernetesVersion);
    // The rule's constraint as a CEL map (dyn: a map literal holds one value type).
    const entries = (extra: Record<string, unknown>) => Object.entries({ ...SOFT_SPREAD, ...extra }).map(([key, entry]) => `${literal(key)}: dyn(${JSON.stringify(entry)})`).join(', ');
    // matchLabelKeys only for Deployments (and Rollouts, keyed by their own hash label).
    const plain = `{${entries({})}}`;
    const rolloutValue = rollouts ? ` : object.kind == 'Rollout' ? {${entries({ matchLabelKeys: ROLLOUT_MATCH_LABEL_KEYS })}}` : '';
    const value = matchLabelKeys ? `(object.kind == 'Deployment' ? {${entries({ matchLabelKeys: DEPLOYMENT_MATCH_LABEL_KEYS })}}${rolloutValue} : ${plain})` : plain;
    // The selector is copied by the patch (a JSON Patch `copy`): a typed LabelSelector from the object cannot
    // be put into a patch value, and a copy is the deep clone the engine makes.
    const index = `string(size(${POD}.?topologySpreadConstraints.orValue([])))`;
    const constraint = `'/spec/template/spec/topologySpreadConstraints/' + ${index}`;
    const appended =
      `(has(${POD}.topologySpreadConstraints) ? [${add("'/spec/template/spec/topologySpreadConstraints/-'", value)}] : [${add("'/spec/template/spec/topologySpreadConstraints'", `[${value}]`)}])`;
    const fromSelector = `[${copy("'/spec/selector'", `${constraint} + '/labelSelector'`)}]`;
    // A Rollout may leave out spec.selector (its controller refuses that, the apiserver does not): constraintFor
    // then selects the template's labels, copied the same way.
    const fromLabels =
      `[${add(`${constraint} + '/labelSelector'`, "{'matchLabels': dyn({})}")}]` +
      ` + (object.spec.template.?metadata.?labels.hasValue() ? [${copy("'/spec/template/metadata/labels'", `${constraint} + '/labelSelector/matchLabels'`)}] : [])`;
    const set = rollouts ? `${appended} + (has(object.spec.selector) ? ${fromSelector} : ${fromLabels})` : `${appended} + ${fromSelector}`;
    const rolloutKeys = rollouts ? ` : object.kind == 'Rollout' ? ${literal(ROLLOUT_MATCH_LABEL_KEYS_TEXT)}` : '';
    const description = celText(addsSpread(matchLabelKeys ? cel(`object.kind == 'Deployment' ? ${literal(MATCH_LABEL_KEYS)}${rolloutKeys} : ''`) : ''));
    const clash = `${POD}.?topologySpreadConstraints.orValue([]).exists(t, t.?topologyKey.orValue('') == ${literal(HOSTNAME)} && t.?whenUnsatisfiable.orValue('') == ${literal(SOFT_SPREAD.whenUnsatisfiable)})`;
    const clashing = finding(celText(clashingSpread(cel(`string(${pods})`))));
    return (
      `object.kind != 'DaemonSet' && ${pods} >= 2 && !${spreadAcrossNodes(rollouts)} ? (${clash} ? [${clashing}] : [${finding(
        celText(notSpread(cel(`string(${pods})`))),
        description,
        "''",
        set,
      )}]) : []`
    );
  },
};
