/**
 * The termination budget at admission, in CEL (src/budget/): the load balancers a workload declares with
 * rollsafe.dev/load-balancer, the only fronts an admission request shows. Per-policy numbers (loadBalancers)
 * are folded into the expressions; the variables read only the object.
 */
import type { EffectivePolicy } from '../policy/types.js';
import { DECLARED_DRAINING_SECONDS, LOAD_BALANCER_ANNOTATION, PROFILE_NAMES } from '../budget/profiles.js';
import { declaredDrainingBecause, DECLARED_VIA } from '../budget/fronts.js';
import { literal } from './cel.js';

const NAMES = `[${PROFILE_NAMES.map((name) => literal(name)).join(', ')}]`;

export const BUDGET_VARIABLES = [
  { name: 'lbDeclared', expression: `object.metadata.?annotations[?${literal(LOAD_BALANCER_ANNOTATION)}].orValue('') == '' ? [] : object.metadata.annotations[${literal(LOAD_BALANCER_ANNOTATION)}].split(',')` },
  { name: 'lbKnown', expression: `variables.lbDeclared.filter(p, p in ${NAMES})` },
  { name: 'lbUnknown', expression: `variables.lbDeclared.filter(p, !(p in ${NAMES}))` },
];

function profileMap(values: Record<string, number | string>): string {
  return `{${Object.entries(values).map(([name, value]) => `${literal(name)}: ${typeof value === 'number' ? literal(value) : literal(value)}`).join(', ')}}`;
}

/** The slowest declared front's seconds, 0 without one (terminationBudget's propagation part). */
export function declaredPropagation(policy: EffectivePolicy): string {
  return `(size(variables.lbKnown) == 0 ? 0 : variables.lbKnown.map(p, ${profileMap(policy.loadBalancers)}[p]).max())`;
}

/** The preStop sleep the budget asks for: preStop.seconds, or a slower declared front's. */
export function budgetSleep(policy: EffectivePolicy): string {
  const declared = declaredPropagation(policy);
  return `(${declared} > ${literal(policy.preStop.seconds)} ? ${declared} : ${literal(policy.preStop.seconds)})`;
}

/** The profile of the front that needs more than preStop.seconds (the first of the slowest), or ''. */
export function slowestDeclared(policy: EffectivePolicy): string {
  const declared = declaredPropagation(policy);
  return `(${declared} > ${literal(policy.preStop.seconds)} ? variables.lbKnown.filter(p, ${profileMap(policy.loadBalancers)}[p] == ${declared})[0] : '')`;
}

/** declaredDrainingBecause per profile, as a CEL map. */
const DRAINING_BECAUSE_MAP = profileMap(Object.fromEntries(PROFILE_NAMES.map((name) => [name, declaredDrainingBecause(name)])));
const DRAINING_MAP = profileMap(DECLARED_DRAINING_SECONDS);

/** The longest draining time of a declared front (0 for none). */
export const DECLARED_DRAINING = `(size(variables.lbKnown) == 0 ? 0 : variables.lbKnown.map(p, ${DRAINING_MAP}[p]).max())`;

/** terminationBudget's afterSignalBecause for the first declared front with the longest draining time. */
export const DECLARED_DRAINING_BECAUSE = `${literal(`${DECLARED_VIA} keeps connections open: `)} + ${DRAINING_BECAUSE_MAP}[variables.lbKnown.filter(p, ${DRAINING_MAP}[p] == ${DECLARED_DRAINING})[0]]`;
