/**
 * The text a Kubernetes resource quantity is written back as (k8s.io/apimachinery/pkg/api/resource, quantity.go
 * v0.34: ParseQuantity, then MarshalJSON). The Argo Rollouts controller writes a Rollout back through its typed
 * structs and hashes that text, so two quantities are one only when their texts are: `0.5` becomes "500m" and
 * `1024Mi` "1Gi", but "1Gi" and "1073741824", or "1k" and "1e3", stay two (ParseQuantity keeps a text already in
 * canonical form as it was written, and the format follows the suffix).
 *
 * Both of ParseQuantity's paths are followed: int64 (at most 18 digits, nothing finer than a nano, no fraction
 * with a binary suffix), where a canonical text is kept as written, and inf.Dec (the rest, rounded up to a
 * nano). Exponents past 18, texts over 64 characters and what is no quantity give undefined: callers then
 * compare the value as written.
 */

type Format = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL_SUFFIX = new Map(Object.entries(DECIMAL).map(([suffix, exponent]) => [exponent, suffix]));
const BINARY_SUFFIX = new Map<number, string>([[0, ''], ...Object.entries(BINARY).map(([suffix, exponent]): [number, string] => [exponent / 10, suffix])]);
const INT64_MAX = 9223372036854775807n;
/** The longest quantity text printed as Go does (a request may bring megabytes of digits). */
const MAX_TEXT = 64;

/** parseQuantityString: the sign, the integer digits without leading zeros ("0" when none), the fraction digits, the suffix. */
const SYNTAX = /^([+-]?)0*([0-9]*)(?:\.([0-9]*))?([eEinumkKMGTP]*(?:[+-]?[0-9]*)?)$/;

/** suffixHandler.interpret, for exponents this port follows. */
function interpret(suffix: string): { base: 10 | 2; exponent: number; format: Format } | undefined {
  if (Object.prototype.hasOwnProperty.call(DECIMAL, suffix)) return { base: 10, exponent: DECIMAL[suffix] as number, format: 'DecimalSI' };
  if (Object.prototype.hasOwnProperty.call(BINARY, suffix)) return { base: 2, exponent: BINARY[suffix] as number, format: 'BinarySI' };
  const exponent = /^[eE]([+-]?[0-9]{1,3})$/.exec(suffix)?.[1];
  if (exponent === undefined || Math.abs(Number(exponent)) > 18) return undefined;
  return { base: 10, exponent: Number(exponent), format: 'DecimalExponent' };
}

/** removeInt64Factors: the value without its factors of `base`, and how many there were. */
function removeFactors(value: bigint, base: bigint): [bigint, number] {
  let result = value < 0n ? -value : value;
  let times = 0;
  while (result >= base && result % base === 0n) {
    result /= base;
    times++;
  }
  return [value < 0n ? -result : result, times];
}

const fitsInt64 = (value: bigint) => value <= INT64_MAX && value >= -INT64_MAX - 1n;

/** CanonicalizeBytes of an int64Amount {value, scale} in a format, or undefined where Go leaves the int64 path. */
function canonical(value: bigint, scale: number, format: Format): string | undefined {
  if (value === 0n) return '0';
  if (format === 'BinarySI') {
    // Here scale is 0 (no fraction with a binary suffix): the value is a whole number.
    if (value > -1024n && value < 1024n) format = 'DecimalSI';
    else {
      const [amount, times] = removeFactors(value, 1024n);
      const suffix = BINARY_SUFFIX.get(times);
      return suffix === undefined ? undefined : `${amount}${suffix}`;
    }
  }
  // int64Amount.AsCanonicalBytes: the exponent made a multiple of 3 (past int64, Go goes on in inf.Dec, which
  // arrives at the same digits: BigInt here does both).
  let [amount, times] = removeFactors(value, 10n);
  let exponent = scale + times;
  const remainder = ((exponent % 3) + 3) % 3;
  if (remainder !== 0) {
    amount *= remainder === 1 ? 10n : 100n;
    exponent -= remainder;
  }
  if (format === 'DecimalExponent') return exponent === 0 ? `${amount}` : `${amount}e${exponent}`;
  const suffix = DECIMAL_SUFFIX.get(exponent);
  return suffix === undefined ? undefined : `${amount}${suffix}`;
}

/**
 * The text the apiserver's Quantity type writes back for a value (a JSON text or number), or undefined where it
 * is no quantity or this port does not follow Go (see the module comment).
 */
export function quantityText(written: unknown): string | undefined {
  // UnmarshalJSON reads a JSON number from its text: only texts JavaScript prints as the apiserver's JSON does.
  const text = typeof written === 'number' ? (Number.isSafeInteger(written) || (Number.isFinite(written) && !/e/i.test(String(written))) ? String(written) : undefined) : written;
  // Past int64's 19 digits there is no meaning left to compare, and a megabyte of digits costs BigInt a
  // fraction of a second: such a text is compared as written.
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_TEXT) return undefined;
  if (text === '0') return '0';
  const match = SYNTAX.exec(text);
  if (!match) return undefined;
  const [, sign = '', digits = '', fraction = '', suffixText = ''] = match;
  const num = digits === '' ? '0' : digits;
  const unit = interpret(suffixText);
  if (!unit) return undefined;
  const shifted = num + fraction;
  if (unit.format !== 'BinarySI' || fraction === '') {
    const fast = int64Path(text, sign, num, fraction, unit);
    if (fast !== null) return fast;
  }
  return decimalPath(sign, shifted, fraction.length, unit, match[0].slice(0, match[0].length - suffixText.length));
}

/** ParseQuantity's int64 path: its text, undefined where this port stops, or null where Go takes the inf.Dec path. */
function int64Path(text: string, sign: string, num: string, fraction: string, unit: { exponent: number; format: Format }): string | undefined | null {
  let scale: number;
  let mantissa = 1n;
  if (unit.format === 'BinarySI') {
    const precision = 15 - num.length - Math.trunc(Math.fround((unit.exponent * 3) / 10)) - 1;
    if (precision < 0) return null;
    mantissa = 1n << BigInt(unit.exponent);
    scale = 0;
  } else {
    if (18 - (num.length + fraction.length) < 0) return null;
    scale = unit.exponent - fraction.length;
  }
  if (scale < -9) return null;
  const shifted = num + fraction;
  const parsed = BigInt(shifted);
  const magnitude = parsed * mantissa;
  if (!fitsInt64(magnitude)) return null;
  const value = sign === '-' ? -magnitude : magnitude;
  // "if the number is in canonical form, reuse the string"
  const reused = unit.format === 'BinarySI' ? unit.exponent % 10 === 0 && (parsed & 7n) !== 0n : scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
  return reused ? text : canonical(value, scale, unit.format);
}

/**
 * ParseQuantity's inf.Dec path: the exact value rounded up (away from zero) to a nano, BinarySI capped at the
 * int64 maximum and turned DecimalSI below 1; then CanonicalizeBytes (infDecAmount: AsCanonicalBytes, or for
 * whole BinarySI values of 1024 and more, AsCanonicalBase1024Bytes).
 */
function decimalPath(sign: string, digits: string, fractionDigits: number, unit: { base: 10 | 2; exponent: number; format: Format }, numberText: string): string | undefined {
  // inf.Dec's SetString reads the number's text: at least one digit, a point on either side of them or none.
  if (!/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)$/.test(numberText)) return undefined;
  // nanos = digits × 10^(exponent − fraction digits + 9), or × 2^exponent × 10^(9 − fraction digits), rounded up.
  const power10 = (unit.base === 10 ? unit.exponent : 0) - fractionDigits + 9;
  let numerator = BigInt(digits) << BigInt(unit.base === 2 ? unit.exponent : 0);
  let denominator = 1n;
  if (power10 >= 0) numerator *= 10n ** BigInt(power10);
  else denominator = 10n ** BigInt(-power10);
  let nanos = numerator / denominator + (numerator % denominator === 0n ? 0n : 1n);
  if (nanos === 0n) return '0';
  let format = unit.format;
  const maxNanos = INT64_MAX * 1_000_000_000n;
  if (format === 'BinarySI' && nanos > maxNanos) nanos = maxNanos;
  if (format === 'BinarySI' && nanos < 1_000_000_000n) format = 'DecimalSI';
  const negative = sign === '-';
  if (format === 'BinarySI') {
    if (nanos < 1024n * 1_000_000_000n || nanos % 1_000_000_000n !== 0n) format = 'DecimalSI';
    else {
      const [amount, times] = removeFactors(nanos / 1_000_000_000n, 1024n);
      const suffix = BINARY_SUFFIX.get(times);
      return suffix === undefined ? undefined : `${negative ? '-' : ''}${amount}${suffix}`;
    }
  }
  let [amount, times] = removeFactors(nanos, 10n);
  let exponent = -9 + times;
  while (exponent % 3 !== 0) {
    amount *= 10n;
    exponent--;
  }
  const number = `${negative ? '-' : ''}${amount}`;
  if (format === 'DecimalExponent') return exponent === 0 ? number : `${number}e${exponent}`;
  const suffix = DECIMAL_SUFFIX.get(exponent);
  return suffix === undefined ? undefined : `${number}${suffix}`;
}
