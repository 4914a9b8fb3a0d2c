import { bind } from '../cel.js';
import { C, finding, NAMED } from '../workload-cel.js';
import type { ExportedRule } from './types.js';

const PROBES = [
  ['readinessProbe', 'its new pods never become ready: with maxUnavailable 0 the rollout hangs, otherwise every replaced pod is capacity lost'],
  ['startupProbe', 'its containers never finish starting: the kubelet restarts them over and over and the rollout never completes'],
  ['livenessProbe', 'the kubelet restarts the container over and over: new pods crash-loop and the rollout never completes'],
] as const;

const PORTS = `${C}.?ports.orValue([])`;

/** rules/probe-port.ts: a named probe port the container does not declare (error), an undeclared number (info). */
export const probePortCel: ExportedRule = {
  id: 'probe-port',
  findings() {
    const perProbe = PROBES.map(([field, consequence]) => {
      const probe = `${C}.${field}`;
      const names = `${PORTS}.filter(x, has(x.name)).map(x, '"' + x.name + '"')`;
      const named = finding(
        `${NAMED} + ${JSON.stringify(` has a ${field} on port "`)} + string(port) + '", which is not one of its port names (' + (size(${names}) > 0 ? 'it names ' + ${names}.join(', ') : 'it names none') + ${JSON.stringify(`): the kubelet cannot resolve it and the probe fails every time, so ${consequence}. Name the port in the container's ports, or probe its number.`)}`,
      );
      const numbered = finding(
        `${NAMED} + ${JSON.stringify(` has a ${field} on port `)} + string(port) + ', which it does not declare (it declares ' + ${PORTS}.map(x, string(x.containerPort)).join(', ') + ${JSON.stringify(`): if nothing listens there the probe never succeeds and ${consequence}. Probe a declared port, or declare the one the app answers probes on.`)}`,
        "''",
        "'info'",
      );
      const judged =
        `type(port) == string ? (${PORTS}.exists(x, x.?name.orValue('') == port) ? [] : [${named}])` +
        ` : size(${PORTS}) == 0 || ${PORTS}.exists(x, x.containerPort == port) ? [] : [${numbered}]`;
      // probePort: the first of httpGet, tcpSocket, grpc that is there.
      const port = `has(${probe}.httpGet) ? ${probe}.httpGet.port : has(${probe}.tcpSocket) ? ${probe}.tcpSocket.port : ${probe}.grpc.port`;
      return `(has(${probe}) && (has(${probe}.httpGet) || has(${probe}.tcpSocket) || has(${probe}.grpc)) ? ${bind('port', port, judged)} : [])`;
    });
    return `lists.range(size(variables.all)).map(i, ${perProbe.join(' + ')}).flatten()`;
  },
};
