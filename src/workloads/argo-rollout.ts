/**
 * Argo Rollouts' strategy arithmetic, read from its source (github.com/argoproj/argo-rollouts v1.10), for the
 * rules and `rollsafe plan`. Kept apart from the Deployment's: the two differ in ways that matter.
 */
import { asInteger, asRecord, type JsonObject } from '../util/object.js';
import type { Workload } from './workload.js';

/** utils/defaults/defaults.go: DefaultMaxSurge and DefaultMaxUnavailable are "25", which Argo reads as 25%. */
export const ROLLOUT_DEFAULT_SURGE = '25';
export const ROLLOUT_DEFAULT_UNAVAILABLE = '25';
/** DefaultScaleDownDelaySeconds, DefaultAbortScaleDownDelaySeconds: 30 (canary: with traffic routing only). */
export const ROLLOUT_DEFAULT_SCALE_DOWN_DELAY = 30;
/** DefaultProgressDeadlineSeconds. */
export const ROLLOUT_DEFAULT_PROGRESS_DEADLINE = 600;
/** types.go DefaultRolloutUniqueLabelKey: the label the controller adds to each ReplicaSet's pods and selector. */
export const ROLLOUT_HASH_LABEL = 'rollouts-pod-template-hash';

export interface ArgoStrategy {
  canary?: JsonObject;
  blueGreen?: JsonObject;
}

export function argoStrategy(workload: Workload): ArgoStrategy {
  const strategy = asRecord(asRecord(workload.object['spec'])?.['strategy']);
  const canary = asRecord(strategy?.['canary']);
  const blueGreen = asRecord(strategy?.['blueGreen']);
  return { ...(canary ? { canary } : {}), ...(blueGreen ? { blueGreen } : {}) };
}

/**
 * An IntOrString as Argo Rollouts reads it: utils/replicaset resolveFenceposts calls the deprecated
 * intstr.GetValueFromIntOrPercent, which strips every "%" from a string and reads the rest as a percentage,
 * so "5" is 5%, not 5 pods (a Deployment refuses "5"). Undefined for what it cannot read (then Argo takes
 * both values as 0).
 */
export function argoIntOrPercent(value: unknown): { kind: 'int' | 'percent'; value: number } | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? { kind: 'int', value } : undefined;
  if (typeof value !== 'string') return undefined;
  const digits = value.replaceAll('%', '');
  // strconv.Atoi: an optional sign, then decimal digits.
  if (!/^[+-]?[0-9]{1,9}$/.test(digits)) return undefined;
  return { kind: 'percent', value: Number(digits) };
}

function scaled(parsed: { kind: 'int' | 'percent'; value: number }, total: number, round: 'up' | 'down'): number {
  if (parsed.kind === 'int') return parsed.value;
  const exact = (total * parsed.value) / 100;
  return round === 'up' ? Math.ceil(exact) : Math.floor(exact);
}

/**
 * resolveFenceposts (utils/replicaset/replicaset.go): surge rounds up, unavailable down, and when both come to
 * 0 the controller takes 1 pod down anyway. Undefined when a value cannot be read.
 */
export function resolveCanaryFenceposts(canary: JsonObject, replicas: number): { maxSurge: number; maxUnavailable: number; fellBack: boolean } | undefined {
  const surge = argoIntOrPercent(canary['maxSurge'] ?? ROLLOUT_DEFAULT_SURGE);
  const unavailable = argoIntOrPercent(canary['maxUnavailable'] ?? ROLLOUT_DEFAULT_UNAVAILABLE);
  if (!surge || !unavailable) return undefined;
  const maxSurge = scaled(surge, replicas, 'up');
  const resolved = scaled(unavailable, replicas, 'down');
  const fellBack = maxSurge === 0 && resolved === 0;
  // MaxUnavailable caps the result at the replicas.
  return { maxSurge, maxUnavailable: Math.min(replicas, fellBack ? 1 : resolved), fellBack };
}

/** A canary with spec.strategy.canary.trafficRouting: a router splits requests, not pod counts. */
export function hasTrafficRouting(canary: JsonObject): boolean {
  return asRecord(canary['trafficRouting']) !== undefined;
}

/**
 * How long the old ReplicaSet keeps its pods after the Service (or the router) moves to the new one:
 * GetScaleDownDelaySecondsOrDefault, 30 for blue-green and for a canary with traffic routing, none for a basic
 * canary (it scales the old ReplicaSet down as a rolling update). With dynamicStableScale the previous stable
 * is scaled to 0 at once (scaleDownOldReplicaSetsForCanary). Undefined where no switch happens.
 */
export function switchDelaySeconds(strategy: ArgoStrategy): number | undefined {
  if (strategy.blueGreen) return revisionLimitZero(strategy.blueGreen) ? 0 : (asInteger(strategy.blueGreen['scaleDownDelaySeconds']) ?? ROLLOUT_DEFAULT_SCALE_DOWN_DELAY);
  const canary = strategy.canary;
  if (!canary || !hasTrafficRouting(canary)) return undefined;
  if (canary['dynamicStableScale'] === true || revisionLimitZero(canary)) return 0;
  return asInteger(canary['scaleDownDelaySeconds']) ?? ROLLOUT_DEFAULT_SCALE_DOWN_DELAY;
}

/**
 * scaleDownDelayRevisionLimit 0 (GetScaleDownRevisionLimit; unset is unlimited): scaleDownDelayHelper gives no
 * old ReplicaSet a scale-down deadline, so the previous one goes to 0 at the switch, whatever the delay says.
 */
export function revisionLimitZero(section: JsonObject): boolean {
  return asInteger(section['scaleDownDelayRevisionLimit']) === 0;
}

/** weightutil.MaxTrafficWeight: 100, or trafficRouting.maxTrafficWeight where a router allows another scale. */
export function maxTrafficWeight(canary: JsonObject): number {
  return asInteger(asRecord(canary['trafficRouting'])?.['maxTrafficWeight']) ?? 100;
}

/**
 * GetAbortScaleDownDelaySecondsOrDefault: how long the new ReplicaSet keeps its pods after an abort moves
 * traffic back to the stable one; 30 by default for blue-green and a traffic-routed canary, where 0 means they
 * are never scaled down (shouldDelayScaleDownOnAbort); a basic canary rolls back as a rolling update. With
 * dynamicStableScale and no value, the canary shrinks as traffic moves back. Undefined where no delay applies.
 */
export function abortDelaySeconds(strategy: ArgoStrategy): number | undefined {
  const section = strategy.blueGreen ?? strategy.canary;
  if (!section) return undefined;
  if (strategy.canary && !strategy.blueGreen) {
    if (!hasTrafficRouting(strategy.canary)) return undefined;
    if (strategy.canary['dynamicStableScale'] === true && section['abortScaleDownDelaySeconds'] === undefined) return undefined;
  }
  const value = asInteger(section['abortScaleDownDelaySeconds']) ?? ROLLOUT_DEFAULT_SCALE_DOWN_DELAY;
  return value === 0 ? undefined : value;
}

/**
 * approximateWeightedCanaryStableReplicaCounts (utils/replicaset/canary.go), line for line: the canary and
 * stable pod counts of a setWeight step without traffic routing. The options are the weight's pod count rounded
 * up and down out of the replicas, and with maxSurge > 0 the same counts out of one pod more; a rounding tie at
 * .5 keeps only the larger count; zero canaries are not allowed at a weight of 1 to 99 (unless 1 replica and no
 * surge); the first option closest to the weight wins.
 */
export function basicCanaryCounts(replicas: number, weight: number, maxSurge: number, maxWeight = 100): { canary: number; stable: number; unresolved?: true } {
  if (replicas === 0) return { canary: 0, stable: 0 };
  const ceil = Math.ceil((replicas * weight) / maxWeight);
  const floor = Math.floor((replicas * weight) / maxWeight);
  const tied = (total: number) => fraction(total * (weight / maxWeight)) === 0.5;
  const zeroAllowed = weight === maxWeight || weight === 0 || (replicas === 1 && maxSurge === 0);
  const options: Array<{ canary: number; total: number }> = [];
  if (ceil < replicas || zeroAllowed) options.push({ canary: ceil, total: replicas });
  if (!tied(replicas) && (floor !== 0 || zeroAllowed)) options.push({ canary: floor, total: replicas });
  if (maxSurge > 0) {
    options.push({ canary: ceil, total: replicas + 1 });
    if (!tied(replicas + 1) && (floor !== 0 || zeroAllowed)) options.push({ canary: floor, total: replicas + 1 });
  }
  // "should not get here" in the Go source: a tie at .5 with no surge and no zero allowed (e.g. 90% of 5).
  if (options.length === 0) return { canary: 0, stable: replicas, unresolved: true };
  const delta = ({ canary, total }: { canary: number; total: number }) => Math.abs((canary * maxWeight) / total - weight);
  let best = options[0]!;
  for (const option of options.slice(1)) if (delta(option) < delta(best)) best = option;
  return { canary: best.canary, stable: best.total - best.canary };
}

/** math.Modf's fractional part, for the non-negative values it is given here. */
function fraction(value: number): number {
  return value - Math.trunc(value);
}
