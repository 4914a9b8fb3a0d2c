import { bind, celText } from '../../export/cel.js';
import { C, finding } from '../../export/workload-cel.js';
import { cel } from '../../util/message.js';
import { HANDLER_DEFAULTS, identicalProbes, probesIdentical } from './rule.js';
import { literal } from '../../export/cel.js';
import type { ExportedRule } from '../../export/exported-rule.js';

const HANDLERS = JSON.stringify(Object.keys(HANDLER_DEFAULTS));

/** A probe port with a name resolved to the container's port number (resolvePort). */
const resolved = (port: string) =>
  `(type(${port}) == string && ${C}.?ports.orValue([]).exists(x, x.?name.orValue('') == ${port}) ? ${C}.ports.filter(x, x.?name.orValue('') == ${port})[0].containerPort : ${port})`;

/**
 * The check of rule.ts at admission, where the apiserver has already defaulted both probes
 * (SetDefaults_Probe: thresholds, timeouts, periods; SetDefaults_HTTPGetAction: path and scheme). What is
 * left to compare is every field as it stands, with a named port resolved to its number.
 */
const HANDLER_EQUAL = (r: string, l: string) =>
  `(${r}.all(hk, hk in ${l} && (hk == 'port' ? ${resolved(`${r}.port`)} == ${resolved(`${l}.port`)} : ${r}[hk] == ${l}[hk])) && ${l}.all(hk, hk in ${r}))`;

const R = `${C}.readinessProbe`;
const L = `${C}.livenessProbe`;
const EQUAL = `(${R}.all(k, k in ${L} && (k in ${HANDLERS} ? ${HANDLER_EQUAL(`${R}[k]`, `${L}[k]`)} : ${R}[k] == ${L}[k])) && ${L}.all(k, k in ${R}))`;

/**
 * probesEqual for probes the apiserver did not default (a Rollout's template): each field of either probe, or
 * of the defaults, compared with its default where it is unset (a zero threshold, timeout or period is unset
 * too, and an empty httpGet path is "/"); a field neither has nor defaults differs from any value.
 */
const PROBE_DEFAULTS = "{'initialDelaySeconds': 0, 'timeoutSeconds': 1, 'periodSeconds': 10, 'successThreshold': 1, 'failureThreshold': 3}";
const ZERO_IS_UNSET = "['timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']";
const withDefault = (probe: string) => `(k in ${probe} ? (k in ${ZERO_IS_UNSET} && ${probe}[k] == 0 ? ${PROBE_DEFAULTS}[k] : ${probe}[k]) : ${PROBE_DEFAULTS}[k])`;
const handlerDefaults = `{${Object.entries(HANDLER_DEFAULTS).map(([kind, defaults]) => `${literal(kind)}: dyn(${JSON.stringify(defaults)})`).join(', ')}}[k]`;
const handlerValue = (handler: string) => `(hk in ${handler} ? (hk == 'path' && ${handler}[hk] == '' ? '/' : ${handler}[hk]) : hd[hk])`;
/** Handler member hk of ha and hb (the two handlers of kind k, defaults hd) equal after defaults, a named port resolved. */
const HANDLER_KEY = bind('hv', `[${handlerValue('ha')}, ${handlerValue('hb')}]`, `hk == 'port' ? ${resolved('hv[0]')} == ${resolved('hv[1]')} : hv[0] == hv[1]`);
const UNDEFAULTED_HANDLER_EQUAL = bind(
  'ha',
  `${R}[k]`,
  bind('hb', `${L}[k]`, bind('hd', handlerDefaults, `ha.all(hk, (hk in hb || hk in hd) && ${HANDLER_KEY}) && hb.all(hk, hk in ha || (hk in hd && ${HANDLER_KEY}))`)),
);
const probeKey = `(k in ${HANDLERS} ? ${UNDEFAULTED_HANDLER_EQUAL} : ${withDefault(R)} == ${withDefault(L)})`;
const UNDEFAULTED_EQUAL =
  `(${R}.all(k, (k in ${L} || k in ${PROBE_DEFAULTS}) && ${probeKey}) && ${L}.all(k, k in ${R} || (k in ${PROBE_DEFAULTS} && ${probeKey})))`;

export const probesIdenticalCel: ExportedRule = {
  rule: probesIdentical,
  findings({ rollouts }) {
    // Deployments, StatefulSets and DaemonSets arrive defaulted: the plain comparison is theirs.
    const equal = rollouts ? `(object.kind == 'Rollout' ? ${UNDEFAULTED_EQUAL} : ${EQUAL})` : EQUAL;
    return `lists.range(size(variables.all)).filter(i, has(${R}) && has(${L}) && ${equal}).map(i, ${finding(
      celText(identicalProbes(cel(`${C}.name`))),
    )})`;
  },
};
