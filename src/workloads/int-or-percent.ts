/**
 * Resolves an IntOrString such as maxSurge ("25%" or 1) against a total, as the Kubernetes controllers do:
 * the Deployment controller rounds maxSurge up and maxUnavailable down. Undefined for malformed values.
 */
export function resolveIntOrPercent(value: unknown, total: number, round: 'up' | 'down'): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = /^(\d+)%$/.exec(value);
  if (!match) return /^\d+$/.test(value) ? Number(value) : undefined;
  const exact = (total * Number(match[1])) / 100;
  return round === 'up' ? Math.ceil(exact) : Math.floor(exact);
}
