/**
 * CEL for the workload view (src/workloads/): where the pod template and containers are, which containers
 * serve, and the finding records the exported rules build. A finding is a map of strings (CEL lists and maps
 * must hold one type): `message` as the engine words it, `fix` the fix description or '', and `cap` the
 * severity the finding may reach at most ('' for none, 'warning', 'info').
 *
 * CEL has no functions: what several rules ask of a container is computed once, per container index, in
 * the shared variables below (containers are addressed as variables.all[i]).
 */
import { literal } from './cel.js';
import { PRE_STOP_VARIABLES } from './pre-stop-cel.js';

export const POD = 'object.spec.template.spec';

/** A container by index into variables.all: regular containers, then native sidecars, as toWorkload lists them. */
export const C = 'variables.all[i]';
/** `container` or `sidecar`, for messages. */
export const WHO = `(i < size(${POD}.containers) ? 'container' : 'sidecar')`;

/** Port names that say "not for clients" (serving.ts HEALTH_OR_METRICS_PORT). */
const HEALTH_OR_METRICS_PORT = '^(?:[a-z0-9]+-)?(?:healthz?|health-?check|liveness|metrics|pprof)(?:-port)?$';

/**
 * Serving containers at admission, where no Service is known (servingContainers): those declaring a port that
 * is not named as a health or metrics port.
 */
const SERVES = `${C}.?ports.orValue([]).exists(p, !p.?name.orValue('').lowerAscii().matches(${literal(HEALTH_OR_METRICS_PORT)}))`;

export const WORKLOAD_VARIABLES = [
  { name: 'sidecars', expression: `${POD}.?initContainers.orValue([]).filter(c, c.?restartPolicy.orValue('') == 'Always')` },
  { name: 'all', expression: `${POD}.containers + variables.sidecars` },
  { name: 'serving', expression: `lists.range(size(variables.all)).filter(i, ${SERVES})` },
  ...PRE_STOP_VARIABLES,
];

/** Why container i serves, as describePort words it: `declares port 8080 (http)`. */
export const SERVING_REASON = `'declares port ' + string(${C}.ports[0].containerPort) + (${C}.ports[0].?name.orValue('') != '' ? ' (' + ${C}.ports[0].name + ')' : '')`;

/** `container "app"` or `sidecar "proxy"` for container i. */
export const NAMED = `${WHO} + ' "' + ${C}.name + '"'`;

export function finding(message: string, fix = "''", cap = "''"): string {
  return `{'message': ${message}, 'fix': ${fix}, 'cap': ${cap}}`;
}

/** JSON.stringify of an int-or-string value, as the engine quotes strategy values. */
export function quoted(value: string): string {
  return `(type(${value}) == string ? '"' + string(${value}) + '"' : string(${value}))`;
}
