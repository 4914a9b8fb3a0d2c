import { celText, literal } from '../../export/cel.js';
import { finding } from '../../export/workload-cel.js';
import { cel } from '../../util/message.js';
import { DEFAULT_REVISION_HISTORY, noRollbackHistory, rollbackHistory } from './rule.js';
import type { ExportedRule } from '../../export/exported-rule.js';

/** The check of rule.ts in CEL. */
export const rollbackHistoryCel: ExportedRule = {
  rule: rollbackHistory,
  findings() {
    return `object.spec.?revisionHistoryLimit.orValue(${literal(DEFAULT_REVISION_HISTORY)}) == 0 ? [${finding(celText(noRollbackHistory(cel('object.kind'))))}] : []`;
  },
};
