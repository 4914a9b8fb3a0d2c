import { celText } from '../../export/cel.js';
import { C, CONTAINER, finding, SERVING_REASON } from '../../export/workload-cel.js';
import { cel } from '../../util/message.js';
import { noReadinessProbe, readinessProbe } from './rule.js';
import type { ExportedRule } from '../../export/exported-rule.js';

/** The hint's port: the first port's name (quoted) when it has one, else its number. */
const TARGET = `(${C}.ports[0].?name.orValue('') != '' ? '"' + ${C}.ports[0].name + '"' : string(${C}.ports[0].containerPort))`;

/** The check of rule.ts in CEL, at admission: serving = declares a port that is not a health or metrics port. */
export const readinessProbeCel: ExportedRule = {
  rule: readinessProbe,
  findings() {
    return `variables.serving.filter(i, !has(${C}.readinessProbe)).map(i, ${finding(celText(noReadinessProbe(CONTAINER, SERVING_REASON, cel(TARGET))))})`;
  },
};
