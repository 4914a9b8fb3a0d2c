/**
 * CEL for the workload view (src/workloads/): where the pod template and containers are, which containers
 * serve, and the finding records the exported rules build. A finding is a map: `message` as the engine words
 * it, `fix` the fix description or '', `cap` the severity the finding may reach at most ('' for none,
 * 'warning', 'info'), and for fixable findings `set`, the patch.
 *
 * CEL has no functions: what several rules ask of a container is computed once, per container index, in
 * the shared variables below (containers are addressed as variables.all[i]).
 */
import { named } from '../rules/phrases.js';
import { cel, type Message } from '../util/message.js';
import { celText, literal } from './cel.js';
import { declaresPort, HEALTH_OR_METRICS_PORT, portName } from '../workloads/serving.js';
import { PRE_STOP_VARIABLES } from './pre-stop-cel.js';
import type { ExportContext, Variable } from './exported-rule.js';

export const POD = 'object.spec.template.spec';

/** A container by index into variables.all: regular containers, then native sidecars, as toWorkload lists them. */
export const C = 'variables.all[i]';
/** `container` or `sidecar`, for messages. */
export const WHO = `(i < size(${POD}.containers) ? 'container' : 'sidecar')`;


/**
 * Serving containers at admission, where no Service is known (servingContainers): those declaring a port that
 * is not named as a health or metrics port.
 */
const SERVES = `${C}.?ports.orValue([]).exists(p, !p.?name.orValue('').lowerAscii().matches(${literal(HEALTH_OR_METRICS_PORT.source)}))`;

export const WORKLOAD_VARIABLES = [
  { name: 'sidecars', expression: `${POD}.?initContainers.orValue([]).filter(c, c.?restartPolicy.orValue('') == 'Always')` },
  { name: 'all', expression: `${POD}.containers + variables.sidecars` },
  // Where each sidecar is among the initContainers, for patches.
  { name: 'sidecarIndex', expression: `lists.range(size(${POD}.?initContainers.orValue([]))).filter(j, ${POD}.initContainers[j].?restartPolicy.orValue('') == 'Always')` },
  { name: 'serving', expression: `lists.range(size(variables.all)).filter(i, ${SERVES})` },
  ...PRE_STOP_VARIABLES,
];

/**
 * A Rollout with spec.workloadRef may have no template: toWorkload views it without containers (its template
 * is another object's), so the containers are read optionally. The rules that judge the template itself
 * (judges: 'pod-template') are skipped for it (policies.ts), as the engine skips them (judgedHere).
 */
const OPTIONAL_POD = 'object.spec.?template.?spec';
const ROLLOUT_WORKLOAD_VARIABLES: Variable[] = [
  { name: 'sidecars', expression: `${OPTIONAL_POD}.?initContainers.orValue([]).filter(c, c.?restartPolicy.orValue('') == 'Always')` },
  { name: 'all', expression: `${OPTIONAL_POD}.?containers.orValue([]) + variables.sidecars` },
  { name: 'sidecarIndex', expression: `lists.range(size(${OPTIONAL_POD}.?initContainers.orValue([]))).filter(j, ${POD}.initContainers[j].?restartPolicy.orValue('') == 'Always')` },
  { name: 'serving', expression: `lists.range(size(variables.all)).filter(i, ${SERVES})` },
  ...PRE_STOP_VARIABLES,
];

/** The workload view's variables for this export. */
export function workloadVariables({ rollouts }: ExportContext): Variable[] {
  return rollouts ? ROLLOUT_WORKLOAD_VARIABLES : WORKLOAD_VARIABLES;
}

/** A Rollout that runs another object's pod template (workloadRef): the engine's workload.templateFrom at admission. */
export const TEMPLATE_FROM_ELSEWHERE = "object.kind == 'Rollout' && has(object.spec.workloadRef)";

/** Why container i serves, as describePort words it: `declares port 8080 (http)`. */
export const SERVING_REASON: Message = declaresPort(
  cel(`string(${C}.ports[0].containerPort)`),
  [cel(`${C}.ports[0].?name.orValue('') != '' ? ${celText(portName(cel(`${C}.ports[0].name`)))} : ''`)],
);

/** `container "app"` or `sidecar "proxy"` for container i, as a message and as CEL. */
export const CONTAINER: Message = named(cel(WHO), cel(`${C}.name`));
export const NAMED = celText(CONTAINER);

/**
 * A finding. `set`, for fixable findings, is a CEL list of JSON Patch operations: `add` (which replaces a member
 * that exists) at the shallowest member the object lacks, as patchForPaths writes them, or `copy`.
 */
export function finding(message: string, fix = "''", cap = "''", set?: string): string {
  // dyn(): CEL map literals hold one value type; these hold strings and a list.
  return `{'message': dyn(${message}), 'fix': dyn(${fix}), 'cap': dyn(${cap})${set ? `, 'set': dyn(${set})` : ''}}`;
}

/** One `add` of `value` at the JSON pointer `path` (both CEL). */
export function add(path: string, value: string): string {
  return `{'op': dyn('add'), 'path': dyn(${path}), 'value': dyn(${value})}`;
}

/** One `copy` from the JSON pointer `from` to `path` (both CEL). */
export function copy(from: string, path: string): string {
  return `{'op': dyn('copy'), 'from': dyn(${from}), 'path': dyn(${path})}`;
}

/** JSON pointer of container i: a regular container, or the initContainer a sidecar is. */
export const POINTER = `(i < size(${POD}.containers) ? '/spec/template/spec/containers/' + string(i) : '/spec/template/spec/initContainers/' + string(variables.sidecarIndex[i - size(${POD}.containers)]))`;

/** JSON.stringify of an int-or-string value, as the engine quotes strategy values. */
export function quoted(value: string): string {
  return `(type(${value}) == string ? '"' + string(${value}) + '"' : string(${value}))`;
}
