import { bind, celText, literal } from '../../export/cel.js';
import { budgetSleep, slowestDeclared } from '../../export/budget-cel.js';
import { jsNumber } from '../../export/pre-stop-cel.js';
import { add, finding, POD, quoted } from '../../export/workload-cel.js';
import { DECLARED_VIA } from '../../budget/fronts.js';
import { cel, type Message } from '../../util/message.js';
import { ROLLOUT_DEFAULT_SCALE_DOWN_DELAY, ROLLOUT_DEFAULT_SURGE, ROLLOUT_DEFAULT_UNAVAILABLE } from '../../workloads/argo-rollout.js';
import { plannedPreStopCel } from '../grace-period/cel.js';
import { unsetDefaultsTo } from '../phrases.js';
import {
  AND_CANARY_SURGE,
  atOnce,
  canaryBothZero,
  canaryTakesAllDown,
  canaryUnavailableResolves,
  controllerRefuses,
  raisesDelay,
  REFUSED,
  setsCanaryNoUnavailable,
  switchOutrunsFronts,
  weightRounds,
  weightUnresolved,
} from './argo-rollout.js';
import {
  AND_SURGE,
  bothResolveToZero,
  DAEMONSET_HOST_PORTS,
  daemonSetWithoutSurge,
  DEPLOYMENT_DEFAULT_SURGE,
  DEPLOYMENT_DEFAULT_UNAVAILABLE,
  honoursStatefulSetUnavailable,
  onDeleteStrategy,
  recreateOutage,
  replicasAre,
  rolloutStrategy,
  SETS_DAEMONSET_SURGE,
  SETS_STATEFULSET_UNAVAILABLE,
  setsNoUnavailable,
  statefulSetAllDown,
  statefulSetUnavailableIgnored,
  takesAllDown,
  unavailableResolves,
  unknownClaim,
} from './rule.js';
import type { ExportContext, ExportedRule, RuleCelInput, Variable } from '../../export/exported-rule.js';

/** describeValue: the value as JSON, or that it is unset and what it defaults to. */
function described(optional: string, fallback: string): Message {
  return [cel(`${optional}.hasValue() ? ${quoted(`${optional}.value()`)} : ${celText(unsetDefaultsTo(fallback))}`)];
}

/** intstr GetScaledValueFromIntOrPercent: an int as it is, a percentage of `total` rounded up or down. */
function scaled(value: string, total: string, round: 'up' | 'down'): string {
  // Percentages past 999999999% all resolve past any replica count (the apiserver bounds only maxUnavailable),
  // and int() of a longer number would overflow.
  const percent = bind('digits', `string(${value}).replace('%', '')`, 'size(digits) > 9 ? 999999999 : int(digits)');
  return `(type(${value}) == int ? int(${value}) : (${total} * ${percent}${round === 'up' ? ' + 99' : ''}) / 100)`;
}

const ROLLING = 'object.spec.?strategy.?rollingUpdate';
const STS_ROLLING = 'object.spec.?updateStrategy.?rollingUpdate';

const ON_DELETE = (kind: string) => finding(celText(onDeleteStrategy(kind)), "''", "'warning'");

/**
 * The check of rule.ts at admission: the apiserver has already refused invalid strategies and filled
 * the defaults (SetDefaults_Deployment: 25%/25%), and no HPA or PersistentVolumeClaim is known.
 */
export const rolloutStrategyCel: ExportedRule = {
  rule: rolloutStrategy,
  variables: ({ rollouts }: ExportContext) => [
    { name: 'rsReplicas', expression: 'object.spec.?replicas.orValue(1)' },
    { name: 'rsSurge', expression: scaled(`${ROLLING}.?maxSurge.orValue(${literal(DEPLOYMENT_DEFAULT_SURGE)})`, 'variables.rsReplicas', 'up') },
    { name: 'rsUnavailable', expression: scaled(`${ROLLING}.?maxUnavailable.orValue(${literal(DEPLOYMENT_DEFAULT_UNAVAILABLE)})`, 'variables.rsReplicas', 'down') },
    { name: 'rsClaims', expression: `${POD}.?volumes.orValue([]).filter(v, has(v.persistentVolumeClaim)).map(v, v.persistentVolumeClaim.claimName)` },
    ...(rollouts ? [...ARGO_VARIABLES, ...argoFindingVariables()] : []),
  ],
  findings(input) {
    const { policy } = input;
    const fellBack = '(variables.rsSurge == 0 && variables.rsUnavailable == 0)';
    const unavailable = `(${fellBack} ? 1 : variables.rsUnavailable)`;
    const replicasText = replicasAre([cel(`has(object.spec.replicas) ? string(variables.rsReplicas) : ${celText(unsetDefaultsTo(1))}`)]);
    const surgeText = described(`${ROLLING}.?maxSurge`, DEPLOYMENT_DEFAULT_SURGE);
    const unavailableText = described(`${ROLLING}.?maxUnavailable`, DEPLOYMENT_DEFAULT_UNAVAILABLE);
    const why = cel(`${fellBack} ? ${celText(bothResolveToZero(surgeText, unavailableText))} : ${celText(unavailableResolves(unavailableText, cel(`string(${unavailable})`)))}`);
    const fix = celText(setsNoUnavailable(cel(`variables.rsSurge < 1 ? ${literal(AND_SURGE)} : ''`)));
    const recreate = finding(
      celText(recreateOutage(cel('string(variables.rsReplicas)'), [cel(`size(variables.rsClaims) > 0 ? ${celText(unknownClaim(cel('variables.rsClaims[0]')))} : ''`)])),
    );
    const surgeToo = 'variables.rsSurge < 1';
    const deploymentSet =
      `${ROLLING}.hasValue() ? (${surgeToo} ? [${add("'/spec/strategy/rollingUpdate/maxUnavailable'", '0')}, ${add("'/spec/strategy/rollingUpdate/maxSurge'", '1')}] : [${add("'/spec/strategy/rollingUpdate/maxUnavailable'", '0')}])` +
      ` : [${add("'/spec/strategy/rollingUpdate'", `(${surgeToo} ? {'maxUnavailable': 0, 'maxSurge': 1} : {'maxUnavailable': 0})`)}]`;
    const deployment =
      `object.spec.?strategy.?type.orValue('RollingUpdate') == 'Recreate' ? [${recreate}]` +
      ` : variables.rsReplicas != 0 && ${unavailable} >= variables.rsReplicas ? [${finding(celText(takesAllDown(replicasText, [why])), fix, "''", `(${deploymentSet})`)}] : []`;

    // getStatefulSetMaxUnavailable: honoured from 1.37 (MaxUnavailableStatefulSet), percentages down, never below 1.
    const stsValue = `${STS_ROLLING}.?maxUnavailable`;
    const stsReplicas = 'object.spec.?replicas.orValue(1)';
    const stsDown = scaled(`${stsValue}.value()`, stsReplicas, 'down');
    const statefulSetMaxUnavailable = !honoursStatefulSetUnavailable(policy.kubernetesVersion)
      ? `${stsValue}.hasValue() ? [${finding(celText(statefulSetUnavailableIgnored(described(stsValue, '1'), policy.kubernetesVersion)), "''", "'info'")}] : []`
      : `${stsValue}.hasValue() && ${stsReplicas} >= 2 && (${stsDown} > 1 ? ${stsDown} : 1) >= ${stsReplicas} ? [${finding(
          celText(statefulSetAllDown(described(stsValue, '1'), cel(`string(${stsReplicas})`))),
          literal(SETS_STATEFULSET_UNAVAILABLE),
          "''",
          `[${add("'/spec/updateStrategy/rollingUpdate/maxUnavailable'", '1')}]`,
        )}] : []`;
    const statefulSet = `object.spec.?updateStrategy.?type.orValue('') == 'OnDelete' ? [${ON_DELETE('StatefulSet')}] : (${statefulSetMaxUnavailable})`;

    const dsSurge = 'object.spec.?updateStrategy.?rollingUpdate.?maxSurge';
    const surges = `(${dsSurge}.hasValue() && ${scaled(`${dsSurge}.value()`, '1', 'up')} != 0)`;
    const hostPorts = `(${POD}.?hostNetwork.orValue(false) == true || (${POD}.containers + variables.sidecars).exists(c, c.?ports.orValue([]).exists(p, p.?hostPort.orValue(0) > 0)))`;
    const daemonSet =
      `object.spec.?updateStrategy.?type.orValue('RollingUpdate') == 'OnDelete' ? [${ON_DELETE('DaemonSet')}]` +
      ` : object.spec.?updateStrategy.?type.orValue('RollingUpdate') != 'RollingUpdate' || ${surges} ? []` +
      ` : ${hostPorts} ? [${finding(literal(DAEMONSET_HOST_PORTS), "''", "'info'")}]` +
      ` : [${finding(
        celText(daemonSetWithoutSurge(described(dsSurge, '0'))),
        literal(SETS_DAEMONSET_SURGE),
        "'warning'",
        `(has(object.spec.updateStrategy) && has(object.spec.updateStrategy.rollingUpdate) ? [${add("'/spec/updateStrategy/rollingUpdate/maxSurge'", '1')}, ${add("'/spec/updateStrategy/rollingUpdate/maxUnavailable'", '0')}]` +
          ` : has(object.spec.updateStrategy) ? [${add("'/spec/updateStrategy/rollingUpdate'", "{'maxSurge': 1, 'maxUnavailable': 0}")}] : [${add("'/spec/updateStrategy'", "{'rollingUpdate': {'maxSurge': 1, 'maxUnavailable': 0}}")}])`,
      )}]`;
    const rollout = input.rollouts ? ` : object.kind == 'Rollout' ? (${argoRollout(input)})` : '';
    return `object.kind == 'Deployment' ? (${deployment}) : object.kind == 'StatefulSet' ? (${statefulSet})${rollout} : (${daemonSet})`;
  },
};

/*
 * Argo Rollouts (argo-rollout.ts, argo-rollouts v1.10): the apiserver checks a Rollout against its CRD's schema
 * only (types, no defaults, no validation.go), so CEL sees what the controller would refuse, and unset fields.
 */

const STRATEGY = 'object.spec.?strategy';
const HAS_CANARY = `${STRATEGY}.?canary.hasValue()`;
const HAS_BLUE_GREEN = `${STRATEGY}.?blueGreen.hasValue()`;
/** Read once a spec is known valid: exactly one of the two is there. */
const CANARY = 'object.spec.strategy.canary';
const BLUE_GREEN = 'object.spec.strategy.blueGreen';
const ROUTED = `has(${CANARY}.trafficRouting)`;
const DYNAMIC = `${CANARY}.?dynamicStableScale.orValue(false) == true`;
/** revisionLimitZero: scaleDownDelayRevisionLimit written as 0. */
const revisionLimitZero = (section: string) => `${section}.?scaleDownDelayRevisionLimit.orValue(-1) == 0`;

/** argoIntOrPercent can read it: an int, or a string whose digits, every % removed, strconv.Atoi reads (9 at most). */
const readable = (value: string) => `(type(${value}) == int || string(${value}).replace('%', '').matches('^[+-]?[0-9]{1,9}$'))`;
/** The number argoIntOrPercent reads (readable values only; CEL's int() takes a leading + as Atoi does). */
const argoNumber = (value: string) => `(type(${value}) == int ? int(${value}) : int(string(${value}).replace('%', '')))`;
/** Math.floor and Math.ceil of a / 100 for any int a (CEL's division truncates toward 0). */
const floorHundredth = (a: string) => bind('a', a, 'a >= 0 ? a / 100 : -((99 - a) / 100)');
const ceilHundredth = (a: string) => bind('a', a, 'a >= 0 ? (a + 99) / 100 : -(-a / 100)');
/** argo-rollout.ts scaled(): an int as it is, a percentage of `total` rounded up or down (readable values). */
const argoScaled = (value: string, total: string, round: 'up' | 'down') =>
  bind('v', value, `type(v) == int ? int(v) : ${(round === 'up' ? ceilHundredth : floorHundredth)(`${total} * ${argoNumber('v')}`)}`);

const SURGE = `${CANARY}.?maxSurge.orValue(${literal(ROLLOUT_DEFAULT_SURGE)})`;
const UNAVAILABLE = `${CANARY}.?maxUnavailable.orValue(${literal(ROLLOUT_DEFAULT_UNAVAILABLE)})`;
/** resolveCanaryFenceposts reads both (else it resolves nothing, and nothing is judged). */
const RESOLVED = `(${readable(SURGE)} && ${readable(UNAVAILABLE)})`;


/** needsServices: routers whose canary needs canaryService and stableService (requireCanaryStableServices). */
const NEEDS_SERVICES = bind(
  'tr',
  `${CANARY}.trafficRouting`,
  `(has(tr.alb) && !has(${CANARY}.pingPong)) || (has(tr.istio) && !has(tr.istio.destinationRule) && !has(${CANARY}.pingPong))` +
    ` || ${JSON.stringify(['smi', 'apisix', 'ambassador', 'nginx', 'appMesh', 'traefik'])}.exists(r, r in tr)`,
);

function refusedCanary(): string {
  const zero = (value: string) => bind('v', value, `${readable('v')} && ${argoNumber('v')} == 0`);
  const bothZero = `(${zero(SURGE)} && ${zero(UNAVAILABLE)} ? [${literal(REFUSED.bothZero)}] : [])`;
  const routing =
    `(!${ROUTED} ? (has(${CANARY}.scaleDownDelaySeconds) ? [${literal(REFUSED.delayWithoutRouting)}] : []) + (${DYNAMIC} ? [${literal(REFUSED.dynamicWithoutRouting)}] : [])` +
    ` : ${DYNAMIC} && has(${CANARY}.scaleDownDelaySeconds) ? [${literal(REFUSED.dynamicWithDelay)}] : [])`;
  const canaryService = `${CANARY}.?canaryService.orValue('')`;
  const stableService = `${CANARY}.?stableService.orValue('')`;
  const services =
    `(${canaryService} != '' && ${canaryService} == ${stableService} ? [${literal(REFUSED.sameCanaryServices)}] : [])` +
    ` + (${ROUTED} && ${NEEDS_SERVICES} && (${canaryService} == '' || ${stableService} == '') ? [${literal(REFUSED.servicesNeeded)}] : [])`;
  // setWeight is an int32 in the CRD: only its range can be wrong (maxTrafficWeight: 100 unless the router says).
  const steps = bind(
    'mw',
    `${CANARY}.?trafficRouting.?maxTrafficWeight.orValue(100)`,
    `${CANARY}.?steps.orValue([]).map(s, (has(s.setWeight) && (s.setWeight < 0 || s.setWeight > mw) ? ['setWeight ' + string(s.setWeight) + ' is not between 0 and ' + string(mw) + ' ("SetWeight needs to be between 0 and ' + string(mw) + '")'] : [])` +
      ` + (has(s.setCanaryScale) && !${ROUTED} ? [${literal(REFUSED.canaryScale)}] : [])).flatten()`,
  );
  return `${bothZero} + ${routing} + ${services} + ${steps}`;
}

const ARGO_VARIABLES: Variable[] = [
  {
    name: 'arRefused',
    expression:
      `!${HAS_CANARY} && !${HAS_BLUE_GREEN} ? [${literal(REFUSED.neither)}] : ${HAS_CANARY} && ${HAS_BLUE_GREEN} ? [${literal(REFUSED.both)}]` +
      ` : (object.spec.?replicas.orValue(0) < 0 ? ['spec.replicas ' + string(object.spec.replicas) + ' is negative'] : [])` +
      ` + (${HAS_CANARY} ? ${refusedCanary()}` +
      ` : ${BLUE_GREEN}.?activeService.orValue(null) == ${BLUE_GREEN}.?previewService.orValue(null) ? [${literal(REFUSED.sameServices)}] : [])`,
  },
  // resolveCanaryFenceposts, for a valid canary whose values it reads (read only then).
  { name: 'arSurge', expression: argoScaled(SURGE, 'variables.rsReplicas', 'up') },
  { name: 'arUnavailable', expression: argoScaled(UNAVAILABLE, 'variables.rsReplicas', 'down') },
];

/** describe(): the value as JSON (a readable one needs no escaping), or unset with Argo's default. */
function argoDescribed(field: 'maxSurge' | 'maxUnavailable', fallback: string): Message {
  return [cel(`has(${CANARY}.${field}) ? ${quoted(`${CANARY}.${field}`)} : ${celText(unsetDefaultsTo(`"${fallback}" (25%)`))}`)];
}

/** canaryPacing without an HPA (admission knows none): may the canary take every replica down between steps? */
function canaryPacing(): string {
  const replicas = 'variables.rsReplicas';
  const fellBack = '(variables.arSurge == 0 && variables.arUnavailable == 0)';
  const unavailable = `(${fellBack} ? 1 : variables.arUnavailable)`;
  // MaxUnavailable is capped at the replicas (it is said so in the message).
  const capped = `(${unavailable} < ${replicas} ? ${unavailable} : ${replicas})`;
  const replicasText = replicasAre([cel(`has(object.spec.replicas) ? string(${replicas}) : ${celText(unsetDefaultsTo(1))}`)]);
  const why = cel(
    `${fellBack} ? ${celText(canaryBothZero(argoDescribed('maxSurge', ROLLOUT_DEFAULT_SURGE), argoDescribed('maxUnavailable', ROLLOUT_DEFAULT_UNAVAILABLE)))}` +
      ` : ${celText(canaryUnavailableResolves(argoDescribed('maxUnavailable', ROLLOUT_DEFAULT_UNAVAILABLE), cel(`string(${capped})`)))}`,
  );
  const fix = celText(setsCanaryNoUnavailable(cel(`variables.arSurge >= 1 ? '' : ${literal(AND_CANARY_SURGE)}`)));
  const set = `[${add("'/spec/strategy/canary/maxUnavailable'", '0')}] + (variables.arSurge >= 1 ? [] : [${add("'/spec/strategy/canary/maxSurge'", '1')}])`;
  return `${replicas} != 0 && ${unavailable} >= ${replicas} ? [${finding(celText(canaryTakesAllDown(replicasText, [why])), fix, "''", `(${set})`)}] : []`;
}

/**
 * weightRounding: basicCanaryCounts (approximateWeightedCanaryStableReplicaCounts) per distinct setWeight
 * strictly between 0 and 100, with the same double arithmetic as JavaScript's (a .5 tie, the closest option,
 * none at all). Info findings: never warned or denied, so no policy output shows them (the parity test reads
 * them from the findings themselves).
 */
function weightRounding(): string {
  // dyn(): the apiserver's CEL wants list literals of one type.
  const r = 'dyn(variables.rsReplicas)';
  const m = 'variables.arSurge';
  const ceil = ceilHundredth(`${r} * w`);
  const floor = floorHundredth(`${r} * w`);
  const tied = (total: string) => bind('x', `double(${total}) * (double(w) / 100.0)`, 'x - double(int(x)) == 0.5');
  const zeroAllowed = `(${r} == 1 && ${m} == 0)`;
  const options =
    `(c < ${r} || ${zeroAllowed} ? [[dyn(c), ${r}]] : []) + (!${tied(r)} && (f != 0 || ${zeroAllowed}) ? [[dyn(f), ${r}]] : [])` +
    ` + (${m} > 0 ? [[dyn(c), dyn(${r} + 1)]] + (!${tied(`${r} + 1`)} && (f != 0 || ${zeroAllowed}) ? [[dyn(f), dyn(${r} + 1)]] : []) : [])`;
  const delta = (o: string) => bind('d', `double(${o}[0] * 100) / double(${o}[1]) - double(w)`, 'd < 0.0 ? -d : d');
  const best = `options.filter(o, ${delta('o')} == options.map(p, ${delta('p')}).min())[0]`;
  // Math.round: the floor of x + 0.5.
  const share = bind('y', 'double(100 * best[0]) / double(best[1]) + 0.5', 'int(y) - (double(int(y)) > y ? 1 : 0)');
  const rounds = celText(weightRounds(cel('string(w)'), cel(`string(${r})`), cel('string(best[0])'), cel('string(best[1] - best[0])'), cel('string(share)')));
  const unresolved = celText(weightUnresolved(cel('string(w)'), cel(`string(${r})`), cel(jsNumber(`(double(${r} * w) / 100.0)`))));
  const judged = bind('best', best, bind('share', share, `share - w > 5 || w - share > 5 ? [${finding(rounds, "''", "'info'")}] : []`));
  const one = bind('c', ceil, bind('f', floor, bind('options', options, `size(options) == 0 ? [${finding(unresolved, "''", "'info'")}] : ${judged}`)));
  const weights = `${CANARY}.?steps.orValue([]).filter(s, has(s.setWeight)).map(s, s.setWeight).filter(w, w > 0 && w < 100).distinct()`;
  return `${r} == 0 || !${RESOLVED} ? [] : ${weights}.map(w, ${one}).flatten()`;
}

/**
 * switchDelaySeconds and abortDelaySeconds: the delays after a switch that apply, as records (dyn: a map literal
 * holds one type) with what the finding says of each; `why` when the previous pods go at once (no fix). They
 * read no policy number: one variable for all overrides.
 */
function switchDelays(section: 'blueGreen' | 'canary'): string {
  const path = `object.spec.strategy.${section}`;
  const canary = section === 'canary';
  const limitZero = revisionLimitZero(path);
  const scaleDown = `${path}.?scaleDownDelaySeconds.orValue(${ROLLOUT_DEFAULT_SCALE_DOWN_DELAY})`;
  const checks = [
    {
      field: 'scaleDownDelaySeconds',
      // switchDelaySeconds: none for a basic canary; 0 with dynamicStableScale or a revision limit of 0.
      applies: canary ? ROUTED : 'true',
      delay: canary ? `(${DYNAMIC} || ${limitZero} ? 0 : ${scaleDown})` : `(${limitZero} ? 0 : ${scaleDown})`,
      when: canary ? 'when the stable Service and the router switch to the new pods' : 'when the active Service switches to the new pods',
      why:
        (canary ? `${DYNAMIC} ? 'dynamicStableScale scales the previous stable to 0 at the switch' : ` : '') +
        `${limitZero} ? ${literal(`strategy.${section}.scaleDownDelayRevisionLimit 0 gives no old ReplicaSet a scale-down delay`)} : ''`,
    },
    {
      field: 'abortScaleDownDelaySeconds',
      // abortDelaySeconds: 0 is never; a basic canary rolls back as a rolling update; dynamicStableScale without a value shrinks the canary instead.
      applies:
        `${path}.?abortScaleDownDelaySeconds.orValue(${ROLLOUT_DEFAULT_SCALE_DOWN_DELAY}) != 0` +
        (canary ? ` && ${ROUTED} && !(${DYNAMIC} && !has(${path}.abortScaleDownDelaySeconds))` : ''),
      delay: `${path}.?abortScaleDownDelaySeconds.orValue(${ROLLOUT_DEFAULT_SCALE_DOWN_DELAY})`,
      when: 'when an abort moves traffic back to the stable pods',
      why: "''",
    },
  ];
  const records = checks.map(({ field, applies, delay, when, why }) => {
    const record = {
      field: literal(`strategy.${section}.${field}`),
      path: literal(`/spec/strategy/${section}/${field}`),
      delay,
      shown: `has(${path}.${field}) ? string(${delay}) : ${celText(unsetDefaultsTo(cel(`string(${delay})`)))}`,
      when: literal(when),
      why,
    };
    const entries = Object.entries(record).map(([key, value]) => `${literal(key)}: dyn(${value})`);
    return `(${applies} ? [{${entries.join(', ')}}] : [])`;
  });
  return records.join(' + ');
}

/** What reads no policy number, computed once for every namespace override (after ARGO_VARIABLES). */
function argoFindingVariables(): Variable[] {
  return [
    // The controller never rolls an invalid spec: no fix guesses what was meant.
    { name: 'arInvalid', expression: `[${finding(celText(controllerRefuses(cel("variables.arRefused.join('; ')"))))}]` },
    // A basic canary (no trafficRouting) rolls like a Deployment between its steps.
    { name: 'arBasicCanary', expression: `has(${CANARY}) && !${ROUTED} ? (${RESOLVED} ? (${canaryPacing()}) : []) + (${weightRounding()}) : []` },
    // Not judged where the template, and so the sleep, is elsewhere (workloadRef: switchBudget's templateFrom).
    { name: 'arSwitchDelays', expression: `has(object.spec.workloadRef) ? [] : has(${BLUE_GREEN}) ? ${switchDelays('blueGreen')} : ${switchDelays('canary')}` },
  ];
}

/** switchBudget at admission: each delay, plus the preStop sleep, against the termination budget's propagation. */
function switchBudget(input: RuleCelInput): string {
  const { policy } = input;
  const slowest = `${slowestDeclared(policy)} != '' ? ${literal(DECLARED_VIA)} : 'kube-proxy, DNS and in-cluster clients'`;
  const [sleep, needed] = [cel('string(sleep)'), cel('string(needed)')];
  const outruns = celText(switchOutrunsFronts(cel('x.field'), cel('x.shown'), cel('string(x.delay)'), cel('x.when'), sleep, needed, cel('slowest')));
  const fixed = finding(outruns, celText(raisesDelay(cel('x.field'), cel('string(needed - sleep)'))), "''", `[${add('x.path', 'needed - sleep')}]`);
  const once = finding(celText(atOnce(cel('x.why'), cel('x.when'), sleep, needed, cel('slowest'))));
  return bind(
    'needed',
    budgetSleep(policy),
    bind('sleep', plannedPreStopCel(input), bind('slowest', slowest, `variables.arSwitchDelays.filter(x, x.delay + sleep < needed).map(x, x.why != '' ? ${once} : ${fixed})`)),
  );
}

/** argoRolloutStrategy: a refused spec (no fix guesses what was meant), else the canary's pacing, then the switch budget. */
function argoRollout(input: RuleCelInput): string {
  return `size(variables.arRefused) > 0 ? variables.arInvalid : variables.arBasicCanary + ${switchBudget(input)}`;
}
