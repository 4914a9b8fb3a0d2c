import type { ScalarTag } from 'yaml';

/**
 * Plain (unquoted) scalars as kubectl reads them. kubectl, and the apiserver for a YAML body, turn YAML into
 * JSON with sigs.k8s.io/yaml (`yamlToJSON`), which reads it with its fork of go-yaml v2, a YAML 1.1 reader:
 * go-yaml's `resolve` (goyaml.v2/resolve.go) makes `yes`, `on`, `y` (and `no`, `off`, `n`, in three
 * capitalisations each) booleans, `010` the octal 8, `0b101` 5 and `1_000` 1000, where YAML 1.2 (the `yaml`
 * library's core schema, what rollsafe read before) keeps the first ones strings and reads `010` as 10. Then
 * `convertToJSONableObject` makes map keys strings. Quoted scalars are strings in both: only plain ones get here.
 * Checked against kubectl itself (`kubectl label --local -o json`) in test/input-encoding.test.ts.
 *
 * Not covered here: go-yaml also merges `<<` keys (YAML 1.1's merge key, in document order, so a merged key
 * overrides an explicit one written before it); both readers keep `<<` as a plain key, as YAML 1.2 does.
 */

/** A plain scalar's value: what JSON (and so the apiserver) gets. */
export type Plain = string | number | boolean | null;

/** go-yaml's `resolveMap`: the scalars it reads by lookup alone. */
const RESOLVE_MAP = new Map<string, Plain>([
  ...['y', 'Y', 'yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'on', 'On', 'ON'].map((text): [string, Plain] => [text, true]),
  ...['n', 'N', 'no', 'No', 'NO', 'false', 'False', 'FALSE', 'off', 'Off', 'OFF'].map((text): [string, Plain] => [text, false]),
  ...['', '~', 'null', 'Null', 'NULL'].map((text): [string, Plain] => [text, null]),
  ...['.nan', '.NaN', '.NAN'].map((text): [string, Plain] => [text, NaN]),
  ...['.inf', '.Inf', '.INF', '+.inf', '+.Inf', '+.INF'].map((text): [string, Plain] => [text, Infinity]),
  ...['-.inf', '-.Inf', '-.INF'].map((text): [string, Plain] => [text, -Infinity]),
]);

/** go-yaml's `resolveTable`: the first character decides what a scalar may be; any other is a string. */
function hint(text: string): 'map' | 'dot' | 'number' | undefined {
  const first = text[0];
  if (first === undefined) return 'map';
  if ('yYnNtTfFoO~'.includes(first)) return 'map';
  if (first === '.') return 'dot';
  return '+-0123456789'.includes(first) ? 'number' : undefined;
}

/** go-yaml's `yamlStyleFloat`, matched after its underscores are dropped. */
const YAML_STYLE_FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;
/** Go's integer literals, as strconv.ParseInt(s, 0, 64) reads them: a leading 0 alone means octal. */
const GO_INTEGER = /^([-+]?)(?:0[xX]([0-9a-fA-F]+)|0[bB]([01]+)|0[oO]([0-7]+)|0([0-7]*)|([1-9][0-9]*))$/;
/** A float strconv.ParseFloat reads that starts with a dot; `_` only between digits (Go's `underscoreOK`). */
const DOT_FLOAT = /^\.[0-9]+(?:_[0-9]+)*(?:[eE][-+]?[0-9]+(?:_[0-9]+)*)?$/;

/** A decimal int that no rule below reads otherwise, and exact as a JavaScript number. */
const SMALL_DECIMAL = /^(?:0|-?[1-9][0-9]{0,14})$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function bigInteger(match: RegExpExecArray): bigint {
  const [, sign, hex, binary, octal, leadingZero, decimal] = match;
  const magnitude =
    hex !== undefined ? BigInt(`0x${hex}`) : binary !== undefined ? BigInt(`0b${binary}`) : octal !== undefined ? BigInt(`0o${octal}`) : leadingZero !== undefined ? BigInt(`0o${leadingZero || '0'}`) : BigInt(decimal ?? '0');
  return sign === '-' ? -magnitude : magnitude;
}

/** What go-yaml resolves a plain scalar to (its tag), and the value JSON gets. */
export interface Resolved {
  kind: 'null' | 'bool' | 'int' | 'float' | 'str';
  value: Plain;
  /** An int's exact value: JSON numbers past 2^53 lose digits in JavaScript, a key (a string) keeps them. */
  exact?: bigint;
}

/**
 * go-yaml's 'D' and 'S' branch: strconv.ParseInt(plain, 0, 64), then ParseUint (no sign), then a float when
 * yamlStyleFloat matches (so `08` is the float 8, and a decimal past 64 bits a float), then, past 64 bits
 * without a sign, a big.Int (sigs.k8s.io's fork). JSON numbers all: a number here.
 */
function goNumber(text: string): Resolved | undefined {
  // Most numbers in manifests (ports, counts, seconds): read directly.
  if (SMALL_DECIMAL.test(text)) return { kind: 'int', value: Number(text) };
  const plain = text.replace(/_/g, '');
  const integer = GO_INTEGER.exec(plain);
  if (integer) {
    const value = bigInteger(integer);
    if (value >= INT64_MIN && value <= INT64_MAX) return { kind: 'int', value: Number(value), exact: value };
    if (integer[1] === '' && value <= UINT64_MAX) return { kind: 'int', value: Number(value), exact: value };
  }
  if (YAML_STYLE_FLOAT.test(plain)) {
    // ParseFloat fails (ErrRange) past float64: `1e400` stays a string.
    const float = Number(plain);
    if (Number.isFinite(float)) return { kind: 'float', value: float };
  }
  // ParseUint's error was ErrRange (no sign, too big): big.Int.SetString(plain, 0).
  if (!integer || integer[1] !== '') return undefined;
  const big = bigInteger(integer);
  return { kind: 'int', value: Number(big), exact: big };
}

function kindOf(value: Plain): Resolved['kind'] {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return 'bool';
  return typeof value === 'string' ? 'str' : 'float'; // the lookups' numbers are .nan and .inf
}

/** A plain scalar as go-yaml v2 `resolve` reads it (untagged). */
export function resolvePlain(text: string): Resolved {
  const where = hint(text);
  if (where !== undefined && RESOLVE_MAP.has(text)) {
    const value = RESOLVE_MAP.get(text) as Plain;
    return { kind: kindOf(value), value };
  }
  if (where === 'dot' && DOT_FLOAT.test(text)) return { kind: 'float', value: Number(text.replace(/_/g, '')) };
  if (where === 'number') return goNumber(text) ?? { kind: 'str', value: text };
  return { kind: 'str', value: text };
}

/** A plain scalar's value as JSON gets it from kubectl. */
export function readPlain(text: string): Plain {
  return resolvePlain(text).value;
}

/** YAML 1.2's core schema as the `yaml` library reads it: `0o`/`0x` ints, `true`/`false`, `null`, `~`. */
const YAML_12: Array<[RegExp, (text: string) => Plain]> = [
  [/^(?:~|[Nn]ull|NULL)?$/, () => null],
  [/^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/, (text) => text[0] === 't' || text[0] === 'T'],
  [/^[-+]?[0-9]+$/, (text) => parseInt(text, 10)],
  [/^0o[0-7]+$/, (text) => parseInt(text.slice(2), 8)],
  [/^0x[0-9a-fA-F]+$/, (text) => parseInt(text.slice(2), 16)],
  [/^[-+]?\.(?:inf|Inf|INF)$/, (text) => (text.startsWith('-') ? -Infinity : Infinity)],
  [/^\.(?:nan|NaN|NAN)$/, () => NaN],
  [/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/, (text) => parseFloat(text)],
];

/** A plain scalar as YAML 1.2 reads it (what a YAML 1.2 tool, or rollsafe before, makes of it). */
export function readPlainYaml12(text: string): Plain {
  for (const [test, read] of YAML_12) if (test.test(text)) return read(text);
  return text;
}

function same(a: Plain, b: Plain): boolean {
  return a === b || (typeof a === 'number' && typeof b === 'number' && Number.isNaN(a) && Number.isNaN(b));
}

/**
 * Both readings of a plain scalar whose value differs between YAML 1.1 (kubectl) and YAML 1.2; else undefined.
 * `yaml11` is readPlain(text), when the caller has it.
 */
export function meaningChange(text: string, yaml11: Plain = readPlain(text)): { yaml11: Plain; yaml12: Plain } | undefined {
  // Most scalars are names and images: their first character already says they are strings in both.
  if (hint(text) === undefined) return undefined;
  const yaml12 = readPlainYaml12(text);
  return same(yaml11, yaml12) ? undefined : { yaml11, yaml12 };
}

/**
 * strconv.FormatFloat(f, 'g', -1, 32): the shortest digits that read back as the same float32, in %e form when
 * the exponent is below -4 or at least 6 (two exponent digits at least).
 */
function goFloat32(value: number): string {
  const single = Math.fround(value);
  if (!Number.isFinite(single)) return single > 0 ? '.inf' : '-.inf'; // past float32: "+Inf", which sigs.k8s.io/yaml writes .inf
  if (single === 0) return Object.is(single, -0) ? '-0' : '0';
  let digits = '';
  let exponent = 0;
  for (let precision = 1; precision <= 9; precision++) {
    const [mantissa = '', power = '0'] = Math.abs(single).toExponential(precision - 1).split('e');
    if (Math.fround(Number(`${mantissa}e${power}`)) === Math.abs(single)) {
      digits = mantissa.replace('.', '');
      exponent = Number(power);
      break;
    }
  }
  const sign = single < 0 ? '-' : '';
  if (exponent < -4 || exponent >= 6) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1);
  return `${sign}${whole}${fraction ? `.${fraction}` : ''}`;
}

/**
 * A plain map key as JSON gets it (sigs.k8s.io/yaml `convertToJSONableObject`): an int in decimal, a bool as
 * `true`/`false`, a float through FormatFloat(f, 'g', -1, 32) (`1e7` is the key `1e+07`, `.inf` stays `.inf`).
 */
export function jsonKey(text: string): string {
  const { kind, value, exact } = resolvePlain(text);
  if (exact !== undefined) return exact.toString();
  if (kind !== 'float' || typeof value !== 'number') return String(value);
  if (Number.isNaN(value)) return '.nan';
  if (!Number.isFinite(value)) return value > 0 ? '.inf' : '-.inf';
  return goFloat32(value);
}

/**
 * The `yaml` library's scalar tags, reading plain scalars as go-yaml does (its `test` is the only part of a
 * RegExp the library calls: `tag.test?.test(source)`). Each keeps its source when written back (`fix`
 * re-emitting a document), so `010` stays `010`; strings the library writes are quoted when these would read
 * them as anything else.
 */
function kubectlTag(tag: Resolved['kind'], accepts: ReadonlyArray<Resolved['kind']>, identify: (value: unknown) => boolean): ScalarTag {
  return {
    tag: `tag:yaml.org,2002:${tag}`,
    default: true,
    identify,
    test: Object.assign(new RegExp(''), { test: (text: string) => resolvePlain(text).kind === tag }),
    // Also for an explicit tag (`!!int 010`), where go-yaml fails on a scalar of another type.
    resolve: (text: string, onError: (message: string) => void) => {
      const { kind, value } = resolvePlain(text);
      if (accepts.includes(kind)) return value;
      onError(`cannot decode \`${text}\` as a !!${tag}`);
      return text;
    },
    stringify: ({ source, value }) => (source !== undefined && same(readPlain(source), value as Plain) ? source : written(value)),
  };
}

/** A value a fix adds, as go-yaml reads it back. */
function written(value: unknown): string {
  if (typeof value !== 'number' || Number.isFinite(value)) return String(value);
  return Number.isNaN(value) ? '.nan' : value > 0 ? '.inf' : '-.inf';
}

const isInteger = (value: unknown): boolean => typeof value === 'number' && Number.isInteger(value);

export const KUBECTL_SCALAR_TAGS: ScalarTag[] = [
  kubectlTag('null', ['null'], (value) => value === null || value === undefined),
  kubectlTag('bool', ['bool'], (value) => typeof value === 'boolean'),
  kubectlTag('int', ['int'], isInteger),
  // go-yaml reads `!!float 1` as the float 1.
  kubectlTag('float', ['float', 'int'], (value) => typeof value === 'number' && !Number.isInteger(value)),
];
