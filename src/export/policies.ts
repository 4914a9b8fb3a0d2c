/**
 * The policy compiled to native admission policies: three ValidatingAdmissionPolicies, one per
 * validationAction (Deny, Warn, Audit), each with its binding. They share one set of variables: the
 * namespace's effective mode, severity and parameters per rule (the policy's namespace overrides and the
 * rollsafe.dev/mode label, resolved in CEL), the rules' findings, and which of them block. What blocks is what
 * handleAdmission's validate denies: enforced, not exempt, error after the rule's cap, and judged (a CREATE or
 * a pod-template change; a strategy-only UPDATE for rollout-strategy alone; never the Deployment controller).
 */
import { droppedWhenEmpty } from '../admission/canonical-template.js';
import { KUBERNETES_CONTROLLER_USERNAMES, MAX_WARNING, RFC3339, denialHeader } from '../admission/decision.js';
import { applyOverride } from '../policy/effective.js';
import { kubernetesMinor } from '../policy/version.js';
import { MODE_LABEL, type EffectivePolicy, type Policy, type RuleId } from '../policy/types.js';
import { RULE_IDS, RULES } from '../rules/index.js';
import type { RuleDescriptor } from '../rules/rule.js';
import {
  EXEMPT_ANNOTATION,
  EXEMPT_REASON_ANNOTATION,
  exemptionWithoutReason,
  EXEMPTIONS_NOT_ALLOWED,
  namesUnknownRule,
  UNKNOWN_RULE_WITH_CONTROL_CHARACTERS,
  unknownRuleNamed,
} from '../engine/exemptions.js';
import { cel } from '../util/message.js';
import { BLANKS, CONTROL_CHARACTER_RANGES } from '../util/text.js';
import { bind, celText, chain, globRegex, literal } from './cel.js';
import { ruleVariables, type ExportContext, type ExportedRule, type Variable } from './exported-rule.js';
import type { LabelSelectorRequirement } from './namespace-selector.js';
import { EXPORTED_RULES } from './rules.js';
import { TEMPLATE_FROM_ELSEWHERE, workloadVariables } from './workload-cel.js';

/** Control characters (RE2), which the apiserver refuses in a warning (exemptions.ts unknownRule). */
const CONTROL_CHARACTERS = `[${CONTROL_CHARACTER_RANGES.map(([from, to]) => `\\x{${from.toString(16)}}-\\x{${to.toString(16)}}`).join('')}]`;
/** trimBlanks (util/text.ts) as a match: from the first to the last character that is not a blank. */
const TRIM_BLANKS = `[^${BLANKS}](?s:.*[^${BLANKS}])?`;
/** The label the apiserver sets on every namespace to its name (NamespaceMetadataName, from 1.21). */
const NAME_LABEL = 'kubernetes.io/metadata.name';
/** Namespaces the webhook configurations leave out (manifests/base). */
export const EXCLUDED_NAMESPACES = ['kube-system', 'kube-node-lease', 'rollsafe-system'];
/** Warnings per rule: the webhook warns once per finding; past this many, the rest share the last warning. */
const WARNING_SLOTS = 4;
/** Bytes of numbered violations in an exported denial (see `fitting`; the apiserver's limit is in bytes). */
export const DENIAL_BUDGET = 4500;

/** A CEL identifier for a rule id (variables.mode_readiness_probe). */
const ident = (rule: RuleId) => rule.replace(/-/g, '_');

/** decision.ts startsRollout for apps/v1: a CREATE, or a change of the pod template (stored typed: resources: {} is always there). */
const APPS_ROLLOUT = "request.operation == 'CREATE' || object.spec.template != oldObject.spec.template";

/** A value the Argo controller's omitempty drops: false, 0, "", [] or {} (the CRD schema has already checked its type). */
const empty = (v: string) => `(${v} == false || ${v} == 0 || ${v} == '' || ${v} == [] || ${v} == {})`;
/**
 * Objects a and b the same, as canonical-template.ts has them one level deep: a field both have compared by
 * `same`; a field one of them has, as none when it is in `names` (droppedWhenEmpty) and empty, or when `none`
 * says so. `key` names the field in `same` and `none`.
 */
const sameDropping = (a: string, b: string, names: string[], key: string, same: string, none = 'false') => {
  const absent = (object: string) => `(${none} || (${key} in ${JSON.stringify(names)} && ${empty(`${object}[${key}]`)}))`;
  return `${a}.all(${key}, ${key} in ${b} ? ${same} : ${absent(a)}) && ${b}.all(${key}, ${key} in ${a} || ${absent(b)})`;
};
/**
 * Resources r and s the same: empty limits and requests as none, the rest as written. Quantities too: the
 * controller prints each as Go's Quantity does (util/quantity.ts), which CEL cannot (its quantity() compares
 * values, but "1Gi" and "1073741824" are two texts, two hashes, two rollouts). So a write-back that prints
 * a quantity another way (`cpu: 0.5` as "500m") counts as a rollout here: judged in full, never let through.
 */
const sameResources = (r: string, s: string) =>
  `(${r} == ${s} || (type(${r}) == map && type(${s}) == map && ${sameDropping(r, s, droppedWhenEmpty('core/v1.ResourceRequirements'), 'rk', `${r}[rk] == ${s}[rk]`)}))`;
/** Containers c and d equal as startsRollout compares them: `resources: {}` as none, omitempty's empties as none. */
const CONTAINER_EQUAL = sameDropping(
  'c',
  'd',
  droppedWhenEmpty('core/v1.Container'),
  'ck',
  `(ck == 'resources' ? ${sameResources('c.resources', 'd.resources')} : c[ck] == d[ck])`,
  "(ck == 'resources' && ((ck in c && c[ck] == {}) || (ck in d && d[ck] == {})))",
);
/** Pod specs ns and os equal as startsRollout compares them: containers and initContainers by CONTAINER_EQUAL, omitempty's empties as none. */
const POD_SPEC_EQUAL = sameDropping(
  'ns',
  'os',
  droppedWhenEmpty('core/v1.PodSpec'),
  'sk',
  `(sk in ['containers', 'initContainers'] ? size(ns[sk]) == size(os[sk]) && lists.range(size(ns[sk])).all(j, ${bind('c', 'ns[sk][j]', bind('d', 'os[sk][j]', CONTAINER_EQUAL))}) : ns[sk] == os[sk])`,
);
/**
 * Templates nt and ot, which differ as written, the same once written back as the Argo controller writes them
 * (canonical-template.ts), on the pod, its containers and the template's metadata; deeper (volumes, probes,
 * ports) and quantities they compare as written, so a write-back that changes only those counts as a rollout
 * here: judged in full, never let through unjudged.
 */
const TEMPLATES_EQUAL_AS_WRITTEN_BACK =
  "nt.all(tk, tk in ['metadata', 'spec'] || (tk in ot && nt[tk] == ot[tk])) && ot.all(tk, tk in ['metadata', 'spec'] || tk in nt)" +
  ` && ${bind('nm', 'nt.?metadata.orValue({})', bind('om', 'ot.?metadata.orValue({})', sameDropping('nm', 'om', droppedWhenEmpty('meta/v1.ObjectMeta'), 'mk', 'nm[mk] == om[mk]')))}` +
  ` && ${bind('ns', 'nt.?spec.orValue({})', bind('os', 'ot.?spec.orValue({})', POD_SPEC_EQUAL))}`;

/**
 * decision.ts startsRollout for an Argo Rollout UPDATE (read through dyn(): the apps/v1 schemas, which the same
 * expression is type-checked against, have no workloadRef or restartAt). With a workloadRef on either side, a
 * change of its apiVersion, kind or name, or its coming or going (its own template is then not run, nor its
 * scaleDown a rollout); without, a template change other than what the Argo controller's write-back after
 * every create and template change makes the same (TEMPLATES_EQUAL_AS_WRITTEN_BACK). And a restartAt newly set or changed (its
 * removal restarts nothing). Admission CEL gets the object as JSON, not typed by the CRD schema: lists compare
 * in order (the keyed ones too), as jsonEqual has them; quantities as written (sameResources);
 * restartAt as an instant at second precision when both are RFC 3339 date-times (decision.ts RFC3339; the
 * controller writes it back truncated to the second, in UTC), otherwise as the text written.
 */
const ROLLOUT_UPDATE_STARTS = bind(
  'n',
  'dyn(object).spec',
  bind(
    'o',
    'dyn(oldObject).spec',
    "(has(n.workloadRef) || has(o.workloadRef) ? !has(n.workloadRef) || !has(o.workloadRef) || ['apiVersion', 'kind', 'name'].exists(f, (f in n.workloadRef) != (f in o.workloadRef) || (f in n.workloadRef && n.workloadRef[f] != o.workloadRef[f]))" +
      ` : has(n.template) != has(o.template) || (has(n.template) && n.template != o.template && !${bind('nt', 'n.template', bind('ot', 'o.template', TEMPLATES_EQUAL_AS_WRITTEN_BACK))}))` +
      ' || (has(n.restartAt) && (!has(o.restartAt) || (n.restartAt != o.restartAt && !(' +
      `type(n.restartAt) == string && type(o.restartAt) == string && n.restartAt.matches(${literal(RFC3339.source)}) && o.restartAt.matches(${literal(RFC3339.source)})` +
      ' && int(timestamp(n.restartAt)) == int(timestamp(o.restartAt))))))',
  ),
);

/** decision.ts startsRollout: a CREATE, or an UPDATE that replaces pods (for Rollouts, ROLLOUT_UPDATE_STARTS). */
function startsRollout({ rollouts }: ExportContext): string {
  return rollouts ? `object.kind == 'Rollout' ? request.operation == 'CREATE' || ${ROLLOUT_UPDATE_STARTS} : ${APPS_ROLLOUT}` : APPS_ROLLOUT;
}

function namespaceVariables(policy: Policy, context: ExportContext): { variables: Variable[]; effective: EffectivePolicy[] } {
  const base = applyOverride(policy, undefined);
  const effective = policy.namespaces.map((override) => applyOverride(policy, override));
  const matches = policy.namespaces.map((override) =>
    override.names.map((name) => (/[*?]/.test(name) ? `request.namespace.matches(${literal(globRegex(name))})` : `request.namespace == ${literal(name)}`)).join(' || '),
  );
  const variables: Variable[] = [
    ...workloadVariables(context),
    { name: 'labelMode', expression: `namespaceObject == null ? '' : namespaceObject.metadata.?labels[?${literal(MODE_LABEL)}].orValue('')` },
    // The first override whose names match, as effectivePolicy picks it; -1 for none.
    { name: 'override', expression: chain(matches.map((match, index) => [match, String(index)]), '-1') },
    {
      name: 'exempted',
      expression: base.exemptions.allowed ? `object.metadata.?annotations[?${literal(EXEMPT_ANNOTATION)}].orValue('').split(',').map(part, part.find(${literal(TRIM_BLANKS)}))` : '[]',
    },
    // decision.ts startsRollout: a CREATE or a pod-template change (every rule may deny it; see blocks).
    { name: 'rollout', expression: startsRollout(context) },
    // byKubernetesController: its rollback writes are judged, never denied.
    { name: 'byController', expression: `request.userInfo.username in ${JSON.stringify(KUBERNETES_CONTROLLER_USERNAMES)}` },
  ];
  return { variables, effective: [base, ...effective] };
}

/** A per-namespace value: `variables.override == i ? value_i : ... : base`, folded when all agree. */
function perOverride(effective: EffectivePolicy[], value: (policy: EffectivePolicy) => string): string {
  const [base, ...overrides] = effective.map(value) as [string, ...string[]];
  const cases = overrides.map((text, index): [string, string] => [`variables.override == ${index}`, text]).filter(([, text]) => text !== base);
  return chain(cases, base);
}

/** The rule's mode, severity and exemption in the request's namespace: every rule's, before any findings (fixes read each other's). */
function settingVariables({ rule }: ExportedRule, effective: EffectivePolicy[]): Variable[] {
  const id = ident(rule.id);
  const mode = perOverride(effective, (policy) => literal(policy.rules[rule.id].mode));
  return [
    // withNamespaceMode: the label replaces every mode that is not off.
    { name: `mode_${id}`, expression: `variables.labelMode != '' && (${mode}) != 'off' ? variables.labelMode : (${mode})` },
    { name: `severity_${id}`, expression: perOverride(effective, (policy) => literal(policy.rules[rule.id].severity)) },
    { name: `exempt_${id}`, expression: `${literal(rule.id)} in variables.exempted` },
  ];
}

function findingVariables(exported: ExportedRule, effective: EffectivePolicy[], context: ExportContext): Variable[] {
  // engine.ts fixActive: the mutating side applies enforce fixes only.
  const fixActive = (other: RuleId) => `(variables.mode_${ident(other)} == 'enforce' && !variables.exempt_${ident(other)})`;
  const findings = perOverride(effective, (policy) => `(${exported.findings({ policy, fixActive, ...context })})`);
  return [
    ...ruleVariables(exported, context),
    {
      name: `findings_${ident(exported.rule.id)}`,
      // engine.ts judgedHere: a Rollout that runs another object's template is not judged by the template's rules.
      expression: context.rollouts && exported.rule.judges === 'pod-template' ? `${TEMPLATE_FROM_ELSEWHERE} ? [] : ${findings}` : findings,
    },
  ];
}

/** A finding's severity: the rule's, capped by the finding (milderSeverity). */
function severity(id: string): string {
  return `(f.cap == 'info' || variables.severity_${id} == 'info' ? 'info' : f.cap == 'warning' || variables.severity_${id} == 'warning' ? 'warning' : 'error')`;
}

/** decision.ts mayDeny. */
function blocks(rule: RuleDescriptor<RuleId>): string {
  const id = ident(rule.id);
  const changed = rule.deniesUpdatesOf.map((field) => ` || object.spec.?${field}.orValue(null) != oldObject.spec.?${field}.orValue(null)`).join('');
  const judged = `(variables.rollout${changed})`;
  return `(variables.mode_${id} == 'enforce' && !variables.exempt_${id} && ${severity(id)} == 'error' && ${judged} && !variables.byController)`;
}

/** handle.ts endOfFirstSentence: up to the first period followed by a blank, or the end. */
const FIRST_SENTENCE = `^(?s).*?\\.(?:[${BLANKS}]|$)`;

/** The webhook's warning (warningFor): the rule and the first sentence of the message, at most 240 characters. */
function warningText(rule: string, message = 'f.message'): string {
  const sentence = bind('w', `${message}.find(${literal(FIRST_SENTENCE)})`, `${literal(`${rule}: `)} + (w != '' ? w.trim() : ${message})`);
  return bind('t', sentence, `size(t) > ${MAX_WARNING} ? t.substring(0, ${MAX_WARNING - 1}) + '…' : t`);
}

function findingsVariables(policy: Policy, context: ExportContext): Variable[] {
  const { variables, effective } = namespaceVariables(policy, context);
  for (const rule of EXPORTED_RULES) variables.push(...settingVariables(rule, effective));
  for (const rule of EXPORTED_RULES) variables.push(...findingVariables(rule, effective, context));
  return variables;
}

/**
 * The mutating webhook's patch (handleAdmission mutate): the fixes of enforced, non-exempt rules; on an
 * UPDATE that starts no rollout, only those outside the pod template (patching it would start one).
 */
function patchVariables(): Variable[] {
  const fixes = EXPORTED_RULES.map(({ rule }) => {
    const id = ident(rule.id);
    return `(variables.mode_${id} == 'enforce' && !variables.exempt_${id} ? variables.findings_${id}.filter(f, has(f.set)).map(f, f.set).flatten() : [])`;
  });
  return [{ name: 'patches', expression: `(${fixes.join(' + ')}).filter(p, variables.rollout || !string(p.path).startsWith('/spec/template/'))` }];
}

/**
 * handle.ts annotationFindings: a user who sets a rule's judged annotation (RuleDescriptor.annotationFinding) on
 * an UPDATE gets a finding of that rule at error severity, unless the rule is off or exempt.
 */
function annotationVariables(rule: RuleDescriptor<RuleId>): Variable[] {
  if (!rule.annotationFinding) return [];
  const id = ident(rule.id);
  const { annotation, message } = rule.annotationFinding;
  const value = (of: string) => `${of}.metadata.?annotations[?${literal(annotation)}]`;
  return [
    {
      name: `annotated_${id}`,
      expression:
        `request.operation == 'UPDATE' && !variables.byController && variables.mode_${id} != 'off' && !variables.exempt_${id} && ${value('object')}.hasValue()` +
        ` && (!${value('oldObject')}.hasValue() || ${value('oldObject')}.value() != ${value('object')}.value())`,
    },
    { name: `annotatedMessage_${id}`, expression: literal(message) },
  ];
}

/** The annotation finding of a rule in one mode, as a list of texts (empty for rules without one). */
function annotated(rule: RuleDescriptor<RuleId>, mode: 'enforce' | 'warn' | 'audit', text: (message: string) => string): string {
  if (!rule.annotationFinding) return '';
  const id = ident(rule.id);
  return ` + (variables.annotated_${id} && variables.mode_${id} == '${mode}' ? [${text(`variables.annotatedMessage_${id}`)}] : [])`;
}

function validationVariables(policy: Policy, context: ExportContext): Variable[] {
  const variables = findingsVariables(policy, context);
  const tagged = (rule: RuleDescriptor<RuleId>) => (message: string) => `${literal(`[${rule.id}] `)} + ${message}`;
  const violations = EXPORTED_RULES.map(({ rule }) => {
    const id = ident(rule.id);
    return `variables.findings_${id}.filter(f, ${blocks(rule)}).map(f, ${literal(`[${rule.id}] `)} + f.message + (f.fix != '' ? ' Fix: ' + f.fix + '.' : ''))`;
  });
  for (const { rule } of EXPORTED_RULES) variables.push(...annotationVariables(rule));
  // After every rule's own findings, as the webhook adds them.
  const annotatedViolations = EXPORTED_RULES.map(({ rule }) => annotated(rule, 'enforce', tagged(rule))).join('');
  variables.push({ name: 'violations', expression: violations.join(' + ') + annotatedViolations });
  variables.push({ name: 'exemptionProblems', expression: exemptionProblems(policy) });
  // The apiserver drops a denial message over 5 KiB (MaxEvaluatedMessageExpressionSizeBytes) for the static
  // one: as many numbered violations as fit in DENIAL_BUDGET characters, then how many more there are.
  variables.push({ name: 'numbered', expression: "lists.range(size(variables.violations)).map(i, string(i + 1) + '. ' + variables.violations[i])" });
  variables.push({ name: 'fitting', expression: `size(lists.range(size(variables.numbered)).filter(i, variables.numbered.slice(0, i + 1).map(x, size(bytes(x)) + 1).sum() <= ${DENIAL_BUDGET}))` });
  for (const { rule } of EXPORTED_RULES) {
    const id = ident(rule.id);
    const shown = `(variables.mode_${id} == 'enforce' || variables.mode_${id} == 'warn') && !variables.exempt_${id}`;
    variables.push({
      name: `warnings_${id}`,
      expression:
        `(${shown} ? variables.findings_${id}.filter(f, ${severity(id)} != 'info' && !${blocks(rule)}).map(f, ${warningText(rule.id)}) : [])` +
        annotated(rule, 'warn', (message) => warningText(rule.id, message)),
    });
    variables.push({
      name: `audited_${id}`,
      expression:
        `(variables.mode_${id} == 'audit' && !variables.exempt_${id} ? variables.findings_${id}.filter(f, ${severity(id)} != 'info').map(f, ${literal(`[${rule.id}] `)} + f.message) : [])` +
        annotated(rule, 'audit', tagged(rule)),
    });
  }
  return variables;
}

/**
 * readExemptions' problems with the annotation itself, warned in every mode (the `exemption` pseudo-rule).
 * CEL cannot measure edit distances: an unknown rule is named without the webhook's "did you mean".
 */
function exemptionProblems(policy: Policy): string {
  const annotation = `object.metadata.?annotations[?${literal(EXEMPT_ANNOTATION)}]`;
  const warn = (text: string) => warningText('exemption', `(${text})`);
  if (!policy.exemptions.allowed) {
    return `${annotation}.hasValue() ? [${warn(literal(EXEMPTIONS_NOT_ALLOWED))}] : []`;
  }
  const ids = `${annotation}.orValue('').split(',').map(part, part.find(${literal(TRIM_BLANKS)})).filter(part, part != '')`;
  const rule = cel(`id.matches(${literal(CONTROL_CHARACTERS)}) ? ${literal(UNKNOWN_RULE_WITH_CONTROL_CHARACTERS)} : ${celText(unknownRuleNamed(cel('id')))}`);
  const unknown = `${ids}.filter(id, !(id in ${JSON.stringify(RULE_IDS)})).map(id, ${warn(celText(namesUnknownRule([rule], '', RULE_IDS.join(', '))))})`;
  const exempted = `${ids}.filter(id, id in ${JSON.stringify(RULE_IDS)}).distinct()`;
  const reason = `object.metadata.?annotations[?${literal(EXEMPT_REASON_ANNOTATION)}].orValue('').find(${literal(`[^${BLANKS}]`)}) != ''`;
  const noReason = `size(${exempted}) > 0 && !(${reason}) ? [${warn(celText(exemptionWithoutReason(cel(`${exempted}.join(', ')`))))}] : []`;
  return `${unknown} + (${noReason})`;
}

const RESOURCE_RULES = [{ apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments', 'statefulsets', 'daemonsets'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' }];
/** Argo Rollouts: served as argoproj.io/v1alpha1 only (workloads/workload.ts ROLLOUT_API_VERSION). */
const ROLLOUT_RESOURCE_RULE = { apiGroups: ['argoproj.io'], apiVersions: ['v1alpha1'], resources: ['rollouts'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' };

/** What the policies match (a fresh copy per policy). */
function resourceRules({ rollouts }: ExportContext) {
  return structuredClone(rollouts ? [...RESOURCE_RULES, ROLLOUT_RESOURCE_RULE] : RESOURCE_RULES);
}

/** The namespaces a policy matches: none of the excluded, then the chosen ones only (every requirement must hold). */
function namespaceSelector(excluded: readonly string[], chosen: readonly string[], selected: readonly LabelSelectorRequirement[]) {
  return {
    matchExpressions: [
      { key: NAME_LABEL, operator: 'NotIn', values: [...excluded] },
      ...(chosen.length > 0 ? [{ key: NAME_LABEL, operator: 'In', values: [...chosen] }] : []),
      // An empty value is a value no webhook entry selects; CEL cannot tell it from no label in namespaceObject.
      { key: MODE_LABEL, operator: 'NotIn', values: ['off', ''] },
      ...selected.map((requirement) => structuredClone(requirement)),
    ],
  };
}

type Action = 'Deny' | 'Warn' | 'Audit';

function validations(action: Action): Array<Record<string, string>> {
  if (action === 'Deny') {
    const name = "object.metadata.?name.orValue('') != '' ? object.metadata.name : object.metadata.?generateName.orValue('')";
    return [
      {
        expression: 'size(variables.violations) == 0',
        messageExpression:
          `${celText(denialHeader(cel('object.kind'), cel(name), cel('string(size(variables.violations))')))} + ' '` +
          " + (variables.fitting == size(variables.numbered) ? variables.numbered.join(' ')" +
          " : variables.numbered.slice(0, variables.fitting).join(' ') + ' … and ' + string(size(variables.numbered) - variables.fitting) + ' more: rollsafe audit lists them all.')",
        message: 'rollsafe denied this workload: zero-downtime violations',
        reason: 'Forbidden',
      },
    ];
  }
  const list = action === 'Warn' ? 'warnings' : 'audited';
  const sources = EXPORTED_RULES.map(({ rule }) => ({ rule: rule.id as string, values: `variables.${list}_${ident(rule.id)}` }));
  if (action === 'Warn') sources.unshift({ rule: 'exemption', values: 'variables.exemptionProblems' });
  return sources.flatMap(({ rule, values }) => {
    return Array.from({ length: WARNING_SLOTS }, (_, slot) => ({
      expression: `size(${values}) <= ${slot}`,
      // The last slot: the last warning, or how many more there are (all of them would not fit one warning).
      messageExpression:
        slot < WARNING_SLOTS - 1
          ? `${values}[${slot}]`
          : `size(${values}) == ${WARNING_SLOTS} ? ${values}[${slot}] : ${literal(`${rule}: and `)} + string(size(${values}) - ${slot}) + ' more like these: rollsafe audit lists them all.'`,
      message: `${rule}: zero-downtime finding`,
    }));
  });
}

export interface ExportOptions {
  /** Prefix of every object's name. */
  name?: string;
  /** Namespaces never judged besides EXCLUDED_NAMESPACES (where the webhook runs, if not rollsafe-system). */
  excludeNamespaces?: readonly string[];
  /** When given, only these namespaces are judged (a trial in one namespace), still minus the excluded ones. */
  namespaces?: readonly string[];
  /** When given, only namespaces whose labels meet every requirement are judged (`--namespace-selector`). */
  namespaceSelector?: readonly LabelSelectorRequirement[];
  /**
   * Argo Rollouts (argoproj.io/v1alpha1 rollouts) too (`--rollouts`), judged as the webhook judges them. Off by
   * default: without the CRD there is nothing to match, and off the output is what it was before Rollouts.
   */
  rollouts?: boolean;
}

/** The objects `rollsafe export` prints, in apply order (each policy before its binding). */
export function exportPolicies(policy: Policy, options: ExportOptions = {}): Array<Record<string, unknown>> {
  const prefix = options.name ?? 'rollsafe';
  const excluded = [...new Set([...EXCLUDED_NAMESPACES, ...(options.excludeNamespaces ?? [])])];
  const chosen = [...new Set(options.namespaces ?? [])];
  // A fresh object per policy: they are separate objects once applied, and callers may edit one.
  const selector = () => namespaceSelector(excluded, chosen, options.namespaceSelector ?? []);
  const context: ExportContext = { rollouts: options.rollouts === true };
  const variables = validationVariables(policy, context);
  const objects: Array<Record<string, unknown>> = [];
  const matchConditions = [
    // Namespaces whose label has another value match none of the webhook's entries: not judged.
    { name: 'mode-label', expression: `namespaceObject == null || !namespaceObject.metadata.?labels[?${literal(MODE_LABEL)}].hasValue() || namespaceObject.metadata.labels[${literal(MODE_LABEL)}] in ['enforce', 'warn', 'audit']` },
    // toWorkload: a Rollout with neither a pod template (a containers list) nor a workloadRef is no workload the
    // engine judges (a patch fragment, or a Rollout the controller refuses). dyn(): matchConditions are
    // type-checked against every matched kind, and a Deployment has no workloadRef.
    ...(context.rollouts
      ? [{ name: 'rollout-pod-template', expression: "object.kind != 'Rollout' || has(dyn(object).spec.workloadRef) || dyn(object).spec.?template.?spec.?containers.hasValue()" }]
      : []),
  ];
  const labels = { 'app.kubernetes.io/name': 'rollsafe' };
  if (kubernetesMinor(policy.kubernetesVersion) >= 36) {
    // MutatingAdmissionPolicy is v1 and on by default from 1.36. It runs before every mutating webhook, and
    // again when a later mutation changes the object (IfNeeded), as the webhook is reinvoked.
    const name = `${prefix}-fix`;
    objects.push({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingAdmissionPolicy',
      metadata: { name, labels },
      spec: {
        failurePolicy: 'Ignore',
        reinvocationPolicy: 'IfNeeded',
        matchConstraints: { resourceRules: resourceRules(context), namespaceSelector: selector() },
        matchConditions,
        variables: [...findingsVariables(policy, context), ...patchVariables()],
        mutations: [
          {
            patchType: 'JSONPatch',
            jsonPatch: { expression: "variables.patches.map(p, p.op == 'copy' ? JSONPatch{op: 'copy', from: string(p.from), path: string(p.path)} : JSONPatch{op: 'add', path: string(p.path), value: p.value})" },
          },
        ],
      },
    });
    objects.push({ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingAdmissionPolicyBinding', metadata: { name, labels }, spec: { policyName: name } });
  }
  for (const action of ['Deny', 'Warn', 'Audit'] as const) {
    const name = `${prefix}-${action.toLowerCase()}`;
    objects.push({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicy',
      metadata: { name, labels },
      spec: {
        // As the webhook's failurePolicy: a policy that cannot evaluate lets the workload through.
        failurePolicy: 'Ignore',
        matchConstraints: { resourceRules: resourceRules(context), namespaceSelector: selector() },
        matchConditions,
        variables,
        validations: validations(action),
      },
    });
    objects.push({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingAdmissionPolicyBinding',
      metadata: { name, labels },
      spec: { policyName: name, validationActions: [action] },
    });
  }
  return objects;
}
