/**
 * rollout-strategy for Argo Rollouts: the canary's maxSurge/maxUnavailable, the delay that keeps the old pods
 * serving after a Service or router switch (blue-green, traffic-routed canary, abort), how setWeight rounds to
 * pods without a router, and the specs the controller refuses (InvalidSpec: it accepts the object, then never
 * rolls it). Semantics from argo-rollouts v1.10, named per check.
 */
import { asArray, asInteger, asRecord, asString, type JsonObject } from '../../util/object.js';
import { message, text, type Message, type Piece } from '../../util/message.js';
import {
  abortDelaySeconds,
  argoIntOrPercent,
  argoStrategy,
  basicCanaryCounts,
  hasTrafficRouting,
  maxTrafficWeight,
  resolveCanaryFenceposts,
  revisionLimitZero,
  ROLLOUT_DEFAULT_SURGE,
  ROLLOUT_DEFAULT_UNAVAILABLE,
  switchDelaySeconds,
  type ArgoStrategy,
} from '../../workloads/argo-rollout.js';
import { autoscalerFor } from '../../workloads/related.js';
import { objectRef, type Workload } from '../../workloads/workload.js';
import { terminationBudget } from '../../budget/termination-budget.js';
import { plannedPreStopSeconds } from '../grace-period/rule.js';
import { unsetDefaultsTo } from '../phrases.js';
import type { RuleFinding, RuleInput } from '../rule.js';

export function controllerRefuses(problems: Piece): Message {
  return message`the Argo Rollouts controller refuses this strategy: ${problems}. The apiserver stores the Rollout, but the controller marks it InvalidSpec and never rolls it.`;
}

export function canaryTakesAllDown(replicas: Piece | Message, why: Piece | Message): Message {
  return message`canary with ${replicas}, ${why}: without steps (or between them) the Rollouts controller may take every stable pod down before a canary pod is available.`;
}

export function canaryBothZero(surge: Piece | Message, unavailable: Piece | Message): Message {
  return message`maxSurge ${surge} and maxUnavailable ${unavailable} both resolve to 0, so the controller takes 1 pod down before a new one is ready (resolveFenceposts)`;
}

export function canaryUnavailableResolves(unavailable: Piece | Message, pods: Piece): Message {
  return message`maxUnavailable ${unavailable} resolves to ${pods} pod(s)`;
}

export function setsCanaryNoUnavailable(andSurge: Piece): Message {
  return message`sets strategy.canary.maxUnavailable: 0${andSurge}, so canary pods start before stable ones stop`;
}

export const AND_CANARY_SURGE = ' and maxSurge: 1';

/** `field`: scaleDownDelaySeconds or abortScaleDownDelaySeconds; `when`: what moves traffic away from the pods. */
export function switchOutrunsFronts(field: Piece, shown: Piece | Message, delay: Piece, when: Piece, sleep: Piece, needed: Piece, slowest: Piece): Message {
  return message`${field} ${shown}: ${when}, the pods it leaves behind are deleted after ${delay}s and serve ${sleep}s more (their preStop sleep), but ${slowest} may send them requests for ${needed}s after the switch: requests reach pods that have exited.`;
}

/** The previous pods are deleted at the switch (`why`): only their preStop sleep can cover the fronts. */
export function atOnce(why: Piece, when: Piece, sleep: Piece, needed: Piece, slowest: Piece): Message {
  return message`${why}: ${when}, the pods left behind are deleted at once and serve only their preStop sleep, ${sleep}s, but ${slowest} may send them requests for ${needed}s after the switch. Lengthen their preStop sleep to ${needed}s (rollsafe fix adds it where the preStop rule is on).`;
}

export function raisesDelay(field: Piece, seconds: Piece): Message {
  return message`sets ${field}: ${seconds}`;
}

export function weightRounds(weight: Piece, replicas: Piece, canary: Piece, stable: Piece, share: Piece): Message {
  return message`setWeight ${weight} with ${replicas} replica(s) and no trafficRouting runs ${canary} canary and ${stable} stable pod(s), so the canary gets ${share}% of requests, not ${weight}% (approximateWeightedCanaryStableReplicaCounts): without a traffic router, weights are pod counts. Use trafficRouting, or weights that ${replicas} replicas can express.`;
}

export function weightUnresolved(weight: Piece, replicas: Piece, exact: Piece): Message {
  return message`setWeight ${weight} with ${replicas} replica(s), no surge and no trafficRouting has no pod count the Rollouts controller can hold: ${exact} pods is a tie it rounds up, to all replicas, which a weight below 100 may not take, and without surge it has no other option (approximateWeightedCanaryStableReplicaCounts falls through to "should not get here"). The step's pods are unpredictable: use a weight ${replicas} replicas can express, maxSurge of at least 1, or trafficRouting.`;
}

/** Routers whose canary needs canaryService and stableService (validation.go requireCanaryStableServices). */
function needsServices(canary: JsonObject): boolean {
  const routing = asRecord(canary['trafficRouting']);
  if (!routing) return false;
  const pingPong = canary['pingPong'] !== undefined;
  if (routing['alb'] !== undefined && !pingPong) return true;
  if (asRecord(routing['istio']) && asRecord(routing['istio'])?.['destinationRule'] === undefined && !pingPong) return true;
  return ['smi', 'apisix', 'ambassador', 'nginx', 'appMesh', 'traefik'].some((router) => routing[router] !== undefined);
}

/** What the controller refuses, in words (refused() below and the exported CEL in cel.ts both say them). */
export const REFUSED = {
  neither: `it sets neither strategy.canary nor strategy.blueGreen ("Rollout has missing field '.spec.strategy.canary or .spec.strategy.blueGreen'")`,
  both: 'it sets both strategy.canary and strategy.blueGreen ("Multiple Strategies can not be listed")',
  bothZero: 'maxSurge and maxUnavailable are both 0 ("MaxSurge and MaxUnavailable both can not be zero")',
  delayWithoutRouting: 'scaleDownDelaySeconds is set without trafficRouting ("Canary scaleDownDelaySeconds can only be used with traffic routing")',
  dynamicWithoutRouting: 'dynamicStableScale is set without trafficRouting ("Canary dynamicStableScale can only be used with traffic routing")',
  dynamicWithDelay: 'dynamicStableScale is set with scaleDownDelaySeconds ("Canary dynamicStableScale cannot be used with scaleDownDelaySeconds")',
  sameCanaryServices: 'canaryService and stableService are the same Service',
  servicesNeeded: 'its trafficRouting needs both canaryService and stableService ("Canary service and Stable service must to be set to use Traffic Routing")',
  canaryScale: 'a setCanaryScale step without trafficRouting ("SetCanaryScale requires TrafficRouting to be set")',
  sameServices: 'activeService and previewService are the same Service ("...two different services are required")',
};

/**
 * What the controller refuses (validation.go ValidateRolloutSpec and ValidateRolloutStrategy*), in words; empty
 * when valid. Only what it refuses: a value it reads as 0 (an unparseable string) is not refused there.
 */
function refused(workload: Workload, strategy: ArgoStrategy): string[] {
  const { canary, blueGreen } = strategy;
  if (!canary && !blueGreen) return [REFUSED.neither];
  if (canary && blueGreen) return [REFUSED.both];
  const problems: string[] = [];
  if (workload.replicas !== undefined && workload.replicas < 0) problems.push(`spec.replicas ${workload.replicas} is negative`);
  if (canary) {
    // invalidMaxSurgeMaxUnavailable: the values as written (an explicit null is pruned: the default applies).
    if (argoIntOrPercent(canary['maxSurge'] ?? ROLLOUT_DEFAULT_SURGE)?.value === 0 && argoIntOrPercent(canary['maxUnavailable'] ?? ROLLOUT_DEFAULT_UNAVAILABLE)?.value === 0) {
      problems.push(REFUSED.bothZero);
    }
    const routed = hasTrafficRouting(canary);
    if (!routed) {
      if (canary['scaleDownDelaySeconds'] !== undefined) problems.push(REFUSED.delayWithoutRouting);
      if (canary['dynamicStableScale'] === true) problems.push(REFUSED.dynamicWithoutRouting);
    } else if (canary['dynamicStableScale'] === true && canary['scaleDownDelaySeconds'] !== undefined) {
      problems.push(REFUSED.dynamicWithDelay);
    }
    const canaryService = asString(canary['canaryService']) ?? '';
    const stableService = asString(canary['stableService']) ?? '';
    if (canaryService !== '' && canaryService === stableService) problems.push(REFUSED.sameCanaryServices);
    if (needsServices(canary) && (canaryService === '' || stableService === '')) problems.push(REFUSED.servicesNeeded);
    const maxWeight = maxTrafficWeight(canary);
    for (const step of asArray(canary['steps'])) {
      const record = asRecord(step);
      const weight = record?.['setWeight'];
      if (weight !== undefined && weight !== null && (asInteger(weight) === undefined || asInteger(weight)! < 0 || asInteger(weight)! > maxWeight)) {
        problems.push(`setWeight ${JSON.stringify(weight)} is not between 0 and ${maxWeight} ("SetWeight needs to be between 0 and ${maxWeight}")`);
      }
      if (record?.['setCanaryScale'] !== undefined && !routed) problems.push(REFUSED.canaryScale);
    }
  }
  if (blueGreen && blueGreen['activeService'] === blueGreen['previewService']) {
    problems.push(REFUSED.sameServices);
  }
  return problems;
}

function describe(value: unknown, fallback: string): Piece | Message {
  return value === undefined ? unsetDefaultsTo(`"${fallback}" (25%)`) : JSON.stringify(value);
}

/** The canary's pacing without traffic routing, as the Deployment's: may it take every replica down? */
function canaryPacing(input: RuleInput, canary: JsonObject): RuleFinding[] {
  const { workload, related } = input;
  const hpa = related ? autoscalerFor(workload, related) : undefined;
  const hpaMin = hpa ? (asInteger(asRecord(hpa['spec'])?.['minReplicas']) ?? 1) : undefined;
  const replicas = hpaMin ?? workload.replicas ?? 1;
  if (replicas === 0) return [];
  const resolved = resolveCanaryFenceposts(canary, replicas);
  if (!resolved || resolved.maxUnavailable < replicas) return [];
  const replicasText = hpa ? `HorizontalPodAutoscaler "${objectRef(hpa).name}" scaling down to minReplicas ${hpaMin}` : message`replicas ${workload.replicas === undefined ? unsetDefaultsTo(1) : replicas}`;
  const why = resolved.fellBack
    ? canaryBothZero(describe(canary['maxSurge'], ROLLOUT_DEFAULT_SURGE), describe(canary['maxUnavailable'], ROLLOUT_DEFAULT_UNAVAILABLE))
    : canaryUnavailableResolves(describe(canary['maxUnavailable'], ROLLOUT_DEFAULT_UNAVAILABLE), resolved.maxUnavailable);
  const surges = resolved.maxSurge >= 1;
  return [
    {
      message: text(canaryTakesAllDown(replicasText, why)),
      fix: {
        description: text(setsCanaryNoUnavailable(surges ? '' : AND_CANARY_SURGE)),
        set: [
          { path: ['spec', 'strategy', 'canary', 'maxUnavailable'], value: 0 },
          ...(surges ? [] : [{ path: ['spec', 'strategy', 'canary', 'maxSurge'], value: 1 }]),
        ],
      },
    },
  ];
}

/** setWeight steps a basic canary can only approximate with pods: info, never a failure. */
function weightRounding(input: RuleInput, canary: JsonObject): RuleFinding[] {
  const replicas = input.workload.replicas ?? 1;
  const resolved = resolveCanaryFenceposts(canary, replicas);
  if (!resolved || replicas === 0) return [];
  const findings: RuleFinding[] = [];
  const seen = new Set<number>();
  for (const step of asArray(canary['steps'])) {
    const weight = asInteger(asRecord(step)?.['setWeight']);
    if (weight === undefined || weight <= 0 || weight >= 100 || seen.has(weight)) continue;
    seen.add(weight);
    const { canary: canaryPods, stable, unresolved } = basicCanaryCounts(replicas, weight, resolved.maxSurge);
    if (unresolved) {
      findings.push({ cap: 'info', message: text(weightUnresolved(weight, replicas, (replicas * weight) / 100)) });
      continue;
    }
    const share = Math.round((100 * canaryPods) / (canaryPods + stable));
    // Within 5 points the step does what it says; further off, the author should know what it does.
    if (Math.abs(share - weight) <= 5) continue;
    findings.push({ cap: 'info', message: text(weightRounds(weight, replicas, canaryPods, stable, share)) });
  }
  return findings;
}

/**
 * After a switch (blue-green's active Service, a traffic-routed canary's stable Service and router, an abort),
 * the pods left behind keep serving for the delay, then for their preStop sleep: together they must cover what
 * the fronts need to stop sending to them, the same budget the preStop sleep is held to. Not judged where the
 * template (and so the sleep) is unknown: a workloadRef whose Deployment is not in view (admission).
 */
function switchBudget(input: RuleInput, strategy: ArgoStrategy): RuleFinding[] {
  if (input.workload.templateFrom && !input.workload.templateFrom.found) return [];
  const budget = terminationBudget(input.workload, input.related, input.policy);
  const sleep = plannedPreStopSeconds(input);
  const needed = budget.preStopSeconds;
  const slowest = budget.slowestFront ? budget.slowestFront.via : 'kube-proxy, DNS and in-cluster clients';
  const sectionName = strategy.blueGreen ? 'blueGreen' : 'canary';
  const section = (strategy.blueGreen ?? strategy.canary)!;
  const when = strategy.blueGreen ? 'when the active Service switches to the new pods' : 'when the stable Service and the router switch to the new pods';
  const findings: RuleFinding[] = [];
  const delay = switchDelaySeconds(strategy);
  if (delay !== undefined && delay + sleep < needed) {
    const field = `strategy.${sectionName}.scaleDownDelaySeconds`;
    if (strategy.canary?.['dynamicStableScale'] === true) {
      findings.push({ message: text(atOnce('dynamicStableScale scales the previous stable to 0 at the switch', when, sleep, needed, slowest)) });
    } else if (revisionLimitZero(section)) {
      findings.push({ message: text(atOnce(`strategy.${sectionName}.scaleDownDelayRevisionLimit 0 gives no old ReplicaSet a scale-down delay`, when, sleep, needed, slowest)) });
    } else {
      const shown = section['scaleDownDelaySeconds'] === undefined ? unsetDefaultsTo(delay) : delay;
      findings.push({ message: text(switchOutrunsFronts(field, shown, delay, when, sleep, needed, slowest)), fix: { description: text(raisesDelay(field, needed - sleep)), set: [{ path: ['spec', 'strategy', sectionName, 'scaleDownDelaySeconds'], value: needed - sleep }] } });
    }
  }
  const abort = abortDelaySeconds(strategy);
  if (abort !== undefined && abort + sleep < needed) {
    const field = `strategy.${sectionName}.abortScaleDownDelaySeconds`;
    const shown = section['abortScaleDownDelaySeconds'] === undefined ? unsetDefaultsTo(abort) : abort;
    findings.push({
      message: text(switchOutrunsFronts(field, shown, abort, 'when an abort moves traffic back to the stable pods', sleep, needed, slowest)),
      fix: { description: text(raisesDelay(field, needed - sleep)), set: [{ path: ['spec', 'strategy', sectionName, 'abortScaleDownDelaySeconds'], value: needed - sleep }] },
    });
  }
  return findings;
}

export function argoRolloutStrategy(input: RuleInput): RuleFinding[] {
  const strategy = argoStrategy(input.workload);
  const problems = refused(input.workload, strategy);
  // The controller never rolls an invalid spec: no fix guesses what was meant.
  if (problems.length > 0) return [{ message: text(controllerRefuses(problems.join('; '))) }];
  const findings: RuleFinding[] = [];
  if (strategy.canary && !hasTrafficRouting(strategy.canary)) {
    findings.push(...canaryPacing(input, strategy.canary), ...weightRounding(input, strategy.canary));
  }
  findings.push(...switchBudget(input, strategy));
  return findings;
}

