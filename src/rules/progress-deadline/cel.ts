import { bind, celText, literal } from '../../export/cel.js';
import { finding } from '../../export/workload-cel.js';
import { cel } from '../../util/message.js';
import { DEFAULT_PROGRESS_DEADLINE_SECONDS, DEPLOYMENT_TIMES_OUT, ROLLOUT_TIMES_OUT, minReadyFor, outlastsDeadline, probesAllow, progressDeadline } from './rule.js';
import type { ExportedRule } from '../../export/exported-rule.js';

/** Math.ceil(a / b) * b for non-negative ints. */
const roundUp = (a: string, b: string) => `((${a} + ${b} - 1) / ${b} * ${b})`;

/** pod-timing.ts slowestReadySeconds for container c (probes are defaulted by the apiserver before admission). */
const STARTED = `(has(c.startupProbe) ? ${roundUp('c.startupProbe.?initialDelaySeconds.orValue(0)', 'c.startupProbe.?periodSeconds.orValue(10)')} + (c.startupProbe.?failureThreshold.orValue(3) - 1) * c.startupProbe.?periodSeconds.orValue(10) : 0)`;
const READY = bind(
  's',
  STARTED,
  `has(c.readinessProbe) ? ${bind('r', 'c.readinessProbe', `${roundUp(`(r.?initialDelaySeconds.orValue(0) > s ? r.?initialDelaySeconds.orValue(0) : s)`, 'r.?periodSeconds.orValue(10)')} + (r.?successThreshold.orValue(1) - 1) * r.?periodSeconds.orValue(10)`)} : s`,
);

/** The check of rule.ts in CEL. */
export const progressDeadlineCel: ExportedRule = {
  rule: progressDeadline,
  variables: [
    { name: 'pdReady', expression: `([0] + variables.all.map(c, ${READY})).max()` },
    { name: 'pdMinReady', expression: 'object.spec.?minReadySeconds.orValue(0)' },
    { name: 'pdDeadline', expression: `object.spec.?progressDeadlineSeconds.orValue(${literal(DEFAULT_PROGRESS_DEADLINE_SECONDS)})` },
  ],
  findings() {
    const wait = '(variables.pdMinReady > variables.pdReady ? variables.pdMinReady : variables.pdReady)';
    const why = cel(
      `variables.pdMinReady > variables.pdReady ? ${celText(minReadyFor(cel('string(variables.pdMinReady)')))} : ${celText(probesAllow(cel('string(variables.pdReady)')))}`,
    );
    const consequence = cel(`object.kind == 'Rollout' ? ${literal(ROLLOUT_TIMES_OUT)} : ${literal(DEPLOYMENT_TIMES_OUT)}`);
    const message = celText(outlastsDeadline(cel(`string(${wait})`), [why], cel('string(variables.pdDeadline)'), [consequence]));
    return `(object.kind == 'Deployment' || object.kind == 'Rollout') && ${wait} > variables.pdDeadline ? [${finding(message)}] : []`;
  },
};
