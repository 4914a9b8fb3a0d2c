/**
 * Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource, quantity.go) compared by value. The
 * Argo Rollouts controller writes a Rollout back through its typed structs, where ParseQuantity reads each
 * quantity and String() prints it in canonical form (CanonicalizeBytes): `1` (a YAML int) becomes "1", `0.5`
 * "500m", `1024Mi` "1Gi", `1000m` "1". The value is kept, rounded up (away from zero) to a whole nano
 * (ParseQuantity: "This is a de-facto standard: round up to nano"), so two texts of one value are one quantity.
 */

/** Binary suffixes: powers of 2. */
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
/** Decimal suffixes: powers of 10. */
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
/** ParseQuantity's syntax: a sign, digits with at most one decimal point, then a suffix or a decimal exponent. */
const SYNTAX = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:([KMGTPE]i|[numkMGTPE]?)|[eE]([+-]?[0-9]+))$/;
/** Exponents past this are not compared by value (they would make huge numbers): compared as written. */
const MAX_EXPONENT = 400;

/**
 * A quantity's exact value in nanos (whole billionths, rounded away from zero), or undefined for a text that is
 * no quantity. A number (a JSON int or float) is read as its decimal text, as the apiserver's JSON would be.
 */
export function parseQuantity(value: unknown): bigint | undefined {
  const text = typeof value === 'number' ? String(value) : value;
  if (typeof text !== 'string') return undefined;
  const match = SYNTAX.exec(text);
  if (!match) return undefined;
  const [, sign, whole = '', fraction = '', suffix, exponent] = match;
  if (whole === '' && fraction === '') return undefined;
  let power10 = exponent !== undefined ? Number(exponent) : suffix !== undefined && suffix in DECIMAL ? (DECIMAL[suffix] as number) : 0;
  const power2 = suffix !== undefined && suffix in BINARY ? (BINARY[suffix] as number) : 0;
  if (!Number.isSafeInteger(power10) || Math.abs(power10) > MAX_EXPONENT) return undefined;
  // digits × 10^(power10 − fraction digits) × 2^power2, in nanos.
  power10 += 9 - fraction.length;
  let nanos = BigInt(whole + fraction) << BigInt(power2);
  if (power10 >= 0) nanos *= 10n ** BigInt(power10);
  else {
    const divisor = 10n ** BigInt(-power10);
    nanos = nanos / divisor + (nanos % divisor === 0n ? 0n : 1n);
  }
  return sign === '-' ? -nanos : nanos;
}

/** Whether two quantities are the same value; what is no quantity compares as written. */
export function sameQuantity(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const x = parseQuantity(a);
  return x !== undefined && x === parseQuantity(b);
}
