import { bind, celText, literal } from '../../export/cel.js';
import { C, CONTAINER, finding } from '../../export/workload-cel.js';
import { cel } from '../../util/message.js';
import { itNames, NAMES_NONE, PROBES, probePort, undeclaredName, undeclaredNumber } from './rule.js';
import type { ExportedRule } from '../../export/exported-rule.js';


const PORTS = `${C}.?ports.orValue([])`;

/** The check of rule.ts in CEL, a named probe port the container does not declare (error), an undeclared number (info). */
export const probePortCel: ExportedRule = {
  rule: probePort,
  findings() {
    const perProbe = PROBES.map(([field, consequence]) => {
      const probe = `${C}.${field}`;
      const names = `${PORTS}.filter(x, has(x.name)).map(x, '"' + x.name + '"')`;
      const nameList = cel(`size(${names}) > 0 ? ${celText(itNames(cel(`${names}.join(', ')`)))} : ${literal(NAMES_NONE)}`);
      const named = finding(celText(undeclaredName(CONTAINER, field, cel('string(port)'), [nameList], consequence)));
      const declared = cel(`${PORTS}.map(x, string(x.containerPort)).join(', ')`);
      const numbered = finding(celText(undeclaredNumber(CONTAINER, field, cel('string(port)'), declared, consequence)), "''", "'info'");
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
