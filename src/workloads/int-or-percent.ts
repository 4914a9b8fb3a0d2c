/**
 * IntOrString values such as maxSurge ("25%" or 1), read as Kubernetes reads them.
 *
 * Validity follows pkg/apis/apps/validation ValidatePositiveIntOrPercent: an integer >= 0, or a string that
 * IsValidPercent accepts (digits then "%": "1" or "1.5%" are refused). Scaling follows intstr
 * GetScaledValueFromIntOrPercent: the Deployment controller rounds maxSurge up and maxUnavailable down.
 */
export type IntOrPercent = { kind: 'int'; value: number } | { kind: 'percent'; value: number };

export function parseIntOrPercent(value: unknown): IntOrPercent | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? { kind: 'int', value } : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^([0-9]+)%$/.exec(value);
  return match ? { kind: 'percent', value: Number(match[1]) } : undefined;
}

/** The number of pods an IntOrPercent stands for out of `total`. */
export function scale(parsed: IntOrPercent, total: number, round: 'up' | 'down'): number {
  if (parsed.kind === 'int') return parsed.value;
  const exact = (total * parsed.value) / 100;
  return round === 'up' ? Math.ceil(exact) : Math.floor(exact);
}

/** Resolves a valid IntOrString against a total; undefined for values the apiserver refuses. */
export function resolveIntOrPercent(value: unknown, total: number, round: 'up' | 'down'): number | undefined {
  const parsed = parseIntOrPercent(value);
  return parsed ? scale(parsed, total, round) : undefined;
}
