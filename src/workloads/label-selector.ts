import { asArray, asRecord, asString } from '../util/object.js';

/**
 * Kubernetes label-selector semantics (matchLabels and matchExpressions: In, NotIn, Exists, DoesNotExist).
 * A selector with no requirements matches everything; callers decide what an absent selector means.
 */
export function selectorMatches(selector: unknown, labels: Record<string, string>): boolean {
  const record = asRecord(selector);
  if (!record) return false;
  const matchLabels = asRecord(record['matchLabels']) ?? {};
  for (const [key, value] of Object.entries(matchLabels)) {
    if (labels[key] !== value) return false;
  }
  for (const raw of asArray(record['matchExpressions'])) {
    const expression = asRecord(raw);
    const key = asString(expression?.['key']);
    if (!expression || key === undefined) return false;
    const values = asArray(expression['values']).filter((v): v is string => typeof v === 'string');
    const has = Object.prototype.hasOwnProperty.call(labels, key);
    switch (expression['operator']) {
      case 'In':
        if (!has || !values.includes(labels[key] as string)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[key] as string)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

/** A Service's spec.selector is a plain map; an empty or absent one selects no pods (endpoints are managed by hand). */
export function serviceSelects(selector: unknown, labels: Record<string, string>): boolean {
  const record = asRecord(selector);
  if (!record || Object.keys(record).length === 0) return false;
  return Object.entries(record).every(([key, value]) => labels[key] === value);
}
