import { bind, celText, literal } from '../../export/cel.js';
import { finding } from '../../export/workload-cel.js';
import { cel } from '../../util/message.js';
import { DEFAULT_PROGRESS_DEADLINE_SECONDS, DEPLOYMENT_TIMES_OUT, ROLLOUT_TIMES_OUT, minReadyFor, outlastsDeadline, probesAllow, progressDeadline } from './rule.js';
import type { ExportContext, ExportedRule } from '../../export/exported-rule.js';

/** Math.ceil(a / b) * b for non-negative ints. */
const roundUp = (a: string, b: string) => `((${a} + ${b} - 1) / ${b} * ${b})`;

/** pod-timing.ts slowestReadySeconds for container c (probes are defaulted by the apiserver before admission). */
const STARTED = `(has(c.startupProbe) ? ${roundUp('c.startupProbe.?initialDelaySeconds.orValue(0)', 'c.startupProbe.?periodSeconds.orValue(10)')} + (c.startupProbe.?failureThreshold.orValue(3) - 1) * c.startupProbe.?periodSeconds.orValue(10) : 0)`;
const READY = bind(
  's',
  STARTED,
  `has(c.readinessProbe) ? ${bind('r', 'c.readinessProbe', `${roundUp(`(r.?initialDelaySeconds.orValue(0) > s ? r.?initialDelaySeconds.orValue(0) : s)`, 'r.?periodSeconds.orValue(10)')} + (r.?successThreshold.orValue(1) - 1) * r.?periodSeconds.orValue(10)`)} : s`,
);

/**
 * pod-timing.ts for a template the apiserver did not default (a Rollout's): probeField reads 0 as unset (but an
 * initialDelaySeconds), and the startupProbe's own successThreshold counts (only Pod validation holds it to 1).
 */
const field = (probe: string, name: string, fallback: number) =>
  name === 'initialDelaySeconds' ? `${probe}.?${name}.orValue(0)` : `(${probe}.?${name}.orValue(0) == 0 ? ${fallback} : ${probe}.${name})`;
/** Math.ceil(a / b) * b for any ints, b not 0 (CEL's division truncates toward 0). */
const ceilTimes = (a: string, b: string) => bind('q', `[dyn(${a}), dyn(${b})]`, 'q[0] / q[1] * q[1] + (q[0] % q[1] != 0 && (q[0] % q[1] > 0) == (q[1] > 0) ? q[1] : 0)');
/** probePasses: the first tick at or after max(initialDelaySeconds, at), then successThreshold - 1 more periods. */
const passes = (probe: string, at: string) =>
  bind(
    'p',
    field(probe, 'periodSeconds', 10),
    bind('d', field(probe, 'initialDelaySeconds', 0), `${ceilTimes(`(d > ${at} ? d : ${at})`, 'p')} + (${field(probe, 'successThreshold', 1)} - 1) * p`),
  );
const ALLOWANCE = bind('p', field('c.startupProbe', 'periodSeconds', 10), `${ceilTimes(field('c.startupProbe', 'initialDelaySeconds', 0), 'p')} + (${field('c.startupProbe', 'failureThreshold', 3)} - 1) * p`);
const UNDEFAULTED_READY = bind(
  'a',
  `has(c.startupProbe) ? ${ALLOWANCE} : 0`,
  bind('s', `has(c.startupProbe) ? ${passes('c.startupProbe', 'a')} : 0`, `has(c.readinessProbe) ? ${passes('c.readinessProbe', '(s > a ? s : a)')} : s`),
);

/** The check of rule.ts in CEL. */
export const progressDeadlineCel: ExportedRule = {
  rule: progressDeadline,
  variables: ({ rollouts }: ExportContext) => [
    // With Rollouts the undefaulted reading for every kind: it equals the other on a defaulted template.
    { name: 'pdReady', expression: `([0] + variables.all.map(c, ${rollouts ? UNDEFAULTED_READY : READY})).max()` },
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
