import { celText, literal } from '../../export/cel.js';
import { finding, POD } from '../../export/workload-cel.js';
import { cel } from '../../util/message.js';
import { afterSignalCel, plannedPreStopCel } from '../grace-period/cel.js';
import {
  DRAIN_DURATION,
  fromMeshDefault,
  fromPodTemplate,
  ISTIO_INJECT,
  ISTIO_NATIVE_SIDECAR,
  ISTIO_PROXY,
  ISTIO_PROXY_CONFIG,
  ISTIO_REVISION,
  LINKERD_INJECT,
  LINKERD_NATIVE,
  LINKERD_PROXY,
  LINKERD_WAIT,
  linkerdRefusesEarly,
  sidecarDrain,
  sidecarExitsEarly,
} from './rule.js';
import type { ExportContext, ExportedRule } from '../../export/exported-rule.js';

/** The pod template's metadata; a Rollout's template may have none (the apiserver fills none in). */
const metaOf = ({ rollouts }: ExportContext) => (rollouts ? 'object.spec.template.?metadata' : 'object.spec.template.metadata');

function podVariables(context: ExportContext) {
  const META = metaOf(context);
  const label = (key: string) => `${META}.?labels[?${literal(key)}].orValue('')`;
  const annotation = (key: string) => `${META}.?annotations[?${literal(key)}].orValue('')`;

  /** rule.ts classicIstioSidecar at admission: the pod's own labels, annotations and containers (no namespace). */
  const CLASSIC = [
    `!(${annotation(ISTIO_NATIVE_SIDECAR)} == 'true' || ${POD}.?initContainers.orValue([]).exists(c, c.name == ${literal(ISTIO_PROXY)} && c.?restartPolicy.orValue('') == 'Always'))`,
    `(${POD}.containers.exists(c, c.name == ${literal(ISTIO_PROXY)}) || (${label(ISTIO_INJECT)} != 'false' && ${annotation(ISTIO_INJECT)} != 'false' && (${label(ISTIO_INJECT)} == 'true' || ${annotation(ISTIO_INJECT)} == 'true' || ${META}.?labels.orValue({}).exists(k, k == ${literal(ISTIO_REVISION)}))))`,
  ].join(' && ');

  /** rule.ts classicLinkerdProxy at admission: the pod's own annotation and containers (no namespace). */
  const LINKERD = [
    `!(${LINKERD_NATIVE.map((key) => `${annotation(key)} == 'true'`).join(' || ')} || ${POD}.?initContainers.orValue([]).exists(c, c.name == ${literal(LINKERD_PROXY)} && c.?restartPolicy.orValue('') == 'Always'))`,
    `(${POD}.containers.exists(c, c.name == ${literal(LINKERD_PROXY)}) || ${annotation(LINKERD_INJECT)} in ['enabled', 'ingress'])`,
  ].join(' && ');

  return [
    { name: 'sdClassic', expression: CLASSIC },
    { name: 'sdLinkerd', expression: LINKERD },
    // linkerdWaitSeconds: whole seconds as written, else 0.
    { name: 'sdLinkerdWait', expression: `${annotation(LINKERD_WAIT)}.matches('^[0-9]{1,6}$') ? int(${annotation(LINKERD_WAIT)}) : 0` },
    // drainDurationSeconds: the first match of DRAIN_DURATION, its number times 60 for minutes; -1 when unset.
    { name: 'sdDrainText', expression: `${annotation(ISTIO_PROXY_CONFIG)}.find(${literal(DRAIN_DURATION.source)})` },
    {
      name: 'sdWritten',
      expression: `variables.sdDrainText == '' ? -1 : int(variables.sdDrainText.find('[0-9]+[ms]').find('[0-9]+')) * (variables.sdDrainText.find('[0-9]+[ms]').endsWith('m') ? 60 : 1)`,
    },
  ];
}

export const sidecarDrainCel: ExportedRule = {
  rule: sidecarDrain,
  variables: podVariables,
  findings(input) {
    const preStop = plannedPreStopCel(input);
    const required = `(${preStop} + ${afterSignalCel(input)})`;
    const mesh = literal(input.policy.istio.terminationDrainSeconds);
    const drain = `(variables.sdWritten >= 0 ? variables.sdWritten : ${mesh})`;
    const because = cel(`variables.sdWritten >= 0 ? ${celText(fromPodTemplate)} : ${celText(fromMeshDefault)}`);
    const message = celText(sidecarExitsEarly(cel(`string(${drain})`), [because], cel(`string(${required})`)));
    const linkerd = finding(celText(linkerdRefusesEarly(cel('string(variables.sdLinkerdWait)'), cel(`string(${preStop})`), cel(`string(${preStop} + 1)`))));
    const istio = `${drain} >= ${required} ? [] : [${finding(message)}]`;
    return `!(variables.sdClassic || variables.sdLinkerd) || (${preStop} == 0 && size(variables.serving) == 0) ? [] : variables.sdLinkerd ? (variables.sdLinkerdWait > ${preStop} ? [] : [${linkerd}]) : ${istio}`;
  },
};
