import { celText } from '../../export/cel.js';
import { C, finding } from '../../export/workload-cel.js';
import { cel } from '../../util/message.js';
import { HANDLER_DEFAULTS, identicalProbes, probesIdentical } from './rule.js';
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

export const probesIdenticalCel: ExportedRule = {
  rule: probesIdentical,
  findings() {
    return `lists.range(size(variables.all)).filter(i, has(${R}) && has(${L}) && ${EQUAL}).map(i, ${finding(
      celText(identicalProbes(cel(`${C}.name`))),
    )})`;
  },
};
