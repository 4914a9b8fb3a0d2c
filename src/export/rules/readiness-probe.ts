import { C, finding, NAMED, SERVING_REASON } from '../workload-cel.js';
import type { ExportedRule } from './types.js';

/** The hint's port: the first port's name (quoted) when it has one, else its number. */
const TARGET = `(${C}.ports[0].?name.orValue('') != '' ? '"' + ${C}.ports[0].name + '"' : string(${C}.ports[0].containerPort))`;

/** rules/readiness-probe.ts at admission: serving = declares a port that is not a health or metrics port. */
export const readinessProbeCel: ExportedRule = {
  id: 'readiness-probe',
  findings() {
    return `variables.serving.filter(i, !has(${C}.readinessProbe)).map(i, ${finding(
      `${NAMED} + ' ' + ${SERVING_REASON} + ' but has no readinessProbe: during a rollout its new pods join the Service as soon as they start, before the app listens, and clients get connection refused. Add a readinessProbe that succeeds only when the app can serve (rollsafe never invents one), for example: readinessProbe: {httpGet: {path: /ready, port: ' + ${TARGET} + '}, periodSeconds: 5}, with /ready answering 200 only once the app serves.'`,
    )})`;
  },
};
