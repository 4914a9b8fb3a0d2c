/**
 * canonical-template.ts against the Argo Rollouts controller's own structs: random pod templates, drawn field by
 * field from the template's shape with the values that encoding/json treats apart (empty and zero values, null,
 * pointers to zero values, quantities in many notations, IntOrStrings as ints and texts), are written back by
 * test/cluster-bins/argo-rollouts/template-roundtrip (json.Unmarshal into v1alpha1.RolloutSpec's Template, then
 * json.Marshal: what ComputePodTemplateHash hashes). Two properties:
 * - the write-back starts no rollout: a template and its write-back have one canonical form;
 * - no rollout goes unjudged: two templates with one canonical form are written back byte for byte the same
 *   (one hash), drawn from a small vocabulary so that such pairs are common.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import t from 'tap';
import { TEMPLATE_SHAPE_ROOT, TEMPLATE_SHAPE_TYPES } from '../src/admission/argo-template-shape.js';
import { canonicalRolloutTemplate } from '../src/admission/canonical-template.js';
import { quantityText as quantityTextOf } from '../src/util/quantity.js';
import { jsonEqual } from '../src/util/object.js';
import { TEST_DIR } from './helpers/fixtures.js';

type Json = unknown;
const MODULE = join(TEST_DIR, 'cluster-bins', 'argo-rollouts');

/** The controller's write-back of each template (one line each), or "error: ..." where it could not read one. */
async function writtenBack(templates: Json[]): Promise<string[]> {
  const child = execFile('go', ['run', './template-roundtrip'], { cwd: MODULE, env: { ...process.env, GOFLAGS: '-mod=readonly -buildvcs=false', GOTOOLCHAIN: 'local' }, maxBuffer: 1 << 28 });
  const output = new Promise<string>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (chunk) => (stdout += chunk));
    child.stderr!.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(stdout) : reject(new Error(`template-roundtrip exited ${code}: ${stderr}`))));
  });
  child.stdin!.end(templates.map((template) => JSON.stringify(template)).join('\n') + '\n');
  const lines = (await output).split('\n');
  lines.pop();
  return lines;
}

/** Fields of a struct that the draw uses: the template's spine always, a few others at random. */
const SPINE = new Set(['metadata', 'spec', 'containers', 'resources', 'limits', 'requests']);

/**
 * A value for a field of this shape code (argo-template-shape.ts), or undefined for none. `rich` draws from many
 * values, the small vocabulary otherwise; `depth` bounds the nesting.
 */
function valueOf(code: string, depth: number, rich: boolean): fc.Arbitrary<Json> {
  const type = code.replace(/[?!]+$/, '');
  const absent = fc.constant(undefined);
  if (type.startsWith('*')) return fc.oneof(absent, fc.constant(null), valueOf(type.slice(1), depth, rich));
  if (type.startsWith('[]')) {
    return depth <= 0 ? fc.oneof(absent, fc.constant([])) : fc.oneof(absent, fc.constant(null), fc.array(valueOf(type.slice(2), depth - 1, rich).filter((v) => v !== undefined), { maxLength: rich ? 2 : 1 }));
  }
  if (type.startsWith('{}')) {
    const keys = rich ? fc.constantFrom('cpu', 'memory', 'a', 'b/c') : fc.constantFrom('cpu', 'a');
    return fc.oneof(absent, fc.constant(null), fc.dictionary(keys, valueOf(type.slice(2), depth - 1, rich).filter((v) => v !== undefined && v !== null), { maxKeys: 2 }));
  }
  if (type.startsWith('T:')) {
    const fields = TEMPLATE_SHAPE_TYPES[type.slice(2)]!;
    if (depth <= 0) return fc.oneof(absent, fc.constant({}));
    const names = Object.keys(fields);
    const spine = names.filter((name) => SPINE.has(name));
    const others = names.filter((name) => !SPINE.has(name));
    return fc
      .tuple(fc.subarray(others, { maxLength: Math.min(others.length, rich ? 4 : 2) }), fc.boolean())
      .chain(([picked, withNull]) => {
        const chosen = [...spine, ...picked];
        return fc.tuple(...chosen.map((name) => valueOf(fields[name]!, depth - 1, rich))).map((values) => {
          const object: Record<string, Json> = {};
          chosen.forEach((name, index) => {
            if (values[index] !== undefined) object[name] = values[index];
          });
          // Required names the apiserver would insist on make no difference here: none is added.
          return withNull && chosen.length > 0 && object[chosen[0]!] === undefined ? { ...object, [chosen[0]!]: null } : object;
        });
      });
  }
  switch (type) {
    case 'b':
      return fc.oneof(absent, fc.constant(null), fc.boolean());
    case 'i':
      return fc.oneof(absent, fc.constant(null), rich ? fc.constantFrom(0, 1, 30, -1) : fc.constantFrom(0, 1));
    case 'f':
      return fc.oneof(absent, fc.constantFrom(0, 0.5));
    case 's':
      return fc.oneof(absent, fc.constant(null), rich ? fc.constantFrom('', 'a', 'TCP', 'x y') : fc.constantFrom('', 'a'));
    case 'q':
      return fc.oneof(
        absent,
        fc.constant(null),
        rich ? fc.constantFrom(...QUANTITIES.filter((q) => quantityTextOf(q) !== undefined)) : fc.constantFrom('1', 1, '1000m', '0', '+1', '1e0', '1000', '1k', '1Gi', '1073741824', '1024Mi'),
      );
    case 'o':
      return fc.oneof(absent, fc.constant(null), rich ? fc.constantFrom(0, 8080, '8080', 'http', '25%', '') : fc.constantFrom(0, 8080, '8080'));
    case 't':
      return fc.oneof(absent, fc.constant(null), fc.constant('2030-01-02T03:04:05Z'));
    default:
      return absent;
  }
}

/** Quantities written the ways users, charts and hostile clients write them (Go keeps some texts, prints others). */
const QUANTITIES: Json[] = ['0', '1', 1, 0.5, '500m', '0.5', '1000m', '1Gi', '1024Mi', '1073741824', '1e3', '1k', '1E3', '1.5Gi', '+1Ki', '0.1n', '100M', '+1', '1.', '01', '8Ki', '8192', '1e+3', '1e21', '1e+21', '1e4294967296', '1000E', ' 1', '.', 'Ki', '-1', '-0', '1e-9', '0.000000001'];

/** Quantity texts drawn as ParseQuantity's grammar allows: a sign, digits, a fraction, a suffix or an exponent. */
const quantityText = fc
  .tuple(
    fc.constantFrom('', '', '+', '-'),
    fc.stringMatching(/^[0-9]{0,20}$/),
    fc.option(fc.stringMatching(/^[0-9]{0,10}$/), { nil: undefined }),
    fc.constantFrom('', '', 'm', 'n', 'u', 'k', 'M', 'G', 'T', 'P', 'E', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'e3', 'E-3', 'e+6', 'e18', 'e19', 'e-10', 'e0'),
  )
  .map(([sign, digits, fraction, suffix]) => `${sign}${digits}${fraction === undefined ? '' : `.${fraction}`}${suffix}`);

const template = (rich: boolean) => valueOf(TEMPLATE_SHAPE_ROOT, 7, rich).map((value) => value ?? {});

t.test('a template and its write-back by the controller have one canonical form', async (t) => {
  const seed = Date.now();
  const drawn = fc.sample(template(true), { numRuns: 400, seed });
  const back = await writtenBack(drawn);
  t.equal(back.length, drawn.length, 'one write-back a template');
  let checked = 0;
  for (const [index, written] of back.entries()) {
    if (written.startsWith('error: ')) {
      t.fail(`seed ${seed}, template ${index}: the controller could not read ${JSON.stringify(drawn[index])}: ${written}`);
      continue;
    }
    const same = jsonEqual(canonicalRolloutTemplate(drawn[index]), canonicalRolloutTemplate(JSON.parse(written)));
    if (!same) t.fail(`seed ${seed}: ${JSON.stringify(drawn[index])} is written back ${written}, another canonical form`);
    else checked++;
  }
  t.equal(checked, drawn.length, `every write-back is the same template (seed ${seed})`);
});

t.test('two templates with one canonical form are written back the same: no rollout goes unjudged', async (t) => {
  const seed = Date.now();
  const pairs = fc.sample(fc.tuple(template(false), template(false)), { numRuns: 1500, seed });
  const back = await writtenBack(pairs.flat());
  let same = 0;
  let different = 0;
  for (const [index, [a, b]] of pairs.entries()) {
    const [writtenA, writtenB] = [back[2 * index], back[2 * index + 1]];
    if (jsonEqual(canonicalRolloutTemplate(a), canonicalRolloutTemplate(b))) {
      same++;
      if (writtenA !== writtenB) t.fail(`seed ${seed}: ${JSON.stringify(a)} and ${JSON.stringify(b)} have one canonical form, but the controller writes ${writtenA} and ${writtenB}`);
    } else {
      different++;
      // The other way, for templates of known fields only (all of these): another canonical form is another write-back.
      if (writtenA === writtenB) t.fail(`seed ${seed}: ${JSON.stringify(a)} and ${JSON.stringify(b)} are written back the same (${writtenA}), but have two canonical forms`);
    }
  }
  t.ok(same >= 50 && different >= 50, `pairs of both kinds compared (${same} the same, ${different} not; seed ${seed})`);
});

const limitsOf = (cpu: Json): Json => ({ spec: { containers: [{ name: 'a', resources: { limits: { cpu } } }] } });

t.test('quantities: one text from Go is one canonical form, and two are two', async (t) => {
  const seed = Date.now();
  const quantities = [...QUANTITIES, ...fc.sample(quantityText, { numRuns: 400, seed })];
  const templates = quantities.map(limitsOf);
  const back = await writtenBack(templates);
  const canonical = templates.map(canonicalRolloutTemplate);
  let unreadable = 0;
  for (const [i, written] of back.entries()) {
    if (written.startsWith('error: ')) {
      unreadable++;
      continue;
    }
    t.ok(jsonEqual(canonical[i], canonicalRolloutTemplate(JSON.parse(written))) || quantityOffPath(quantities[i]), `seed ${seed}: ${JSON.stringify(quantities[i])} keeps its canonical form through ${written}`);
  }
  let compared = 0;
  for (let i = 0; i < templates.length; i++) {
    for (let j = i + 1; j < templates.length; j++) {
      if (back[i]!.startsWith('error: ') || back[j]!.startsWith('error: ')) continue;
      const sameCanonical = jsonEqual(canonical[i], canonical[j]);
      const sameText = back[i] === back[j];
      // One canonical form, one write-back (else a rollout would go unjudged); the other way where both are on the port's path.
      if (sameCanonical && !sameText) t.fail(`seed ${seed}: ${JSON.stringify(quantities[i])} and ${JSON.stringify(quantities[j])} have one canonical form, but Go writes ${back[i]} and ${back[j]}`);
      if (sameText && !sameCanonical && !quantityOffPath(quantities[i]) && !quantityOffPath(quantities[j])) t.fail(`seed ${seed}: Go writes ${JSON.stringify(quantities[i])} and ${JSON.stringify(quantities[j])} the same, the port not`);
      compared++;
    }
  }
  t.ok(compared > 50_000 && unreadable < quantities.length / 2, `${compared} pairs compared, ${unreadable} of ${quantities.length} texts no quantity for Go (seed ${seed})`);
});

/** Whether the port leaves a quantity as written (off ParseQuantity's int64 path): only extra judging, never less. */
function quantityOffPath(value: Json): boolean {
  return quantityTextOf(value) === undefined;
}

t.test('a key that only case-folds onto a field is compared as written (encoding/json reads it by key order)', async (t) => {
  const pairs: Array<[Json, Json]> = [
    [{ spec: { volumes: [{ EmptyDir: { medium: 'Memory' }, emptyDir: null, name: 'v' }] } }, { spec: { volumes: [{ EmptyDir: { medium: 'Memory' }, name: 'v' }] } }],
    [{ spec: { volumes: [{ Name: 'x', name: '' }] } }, { spec: { volumes: [{ Name: 'x' }] } }],
    [{ spec: { volumes: [{ name: 'v', nfs: { ReadOnly: true, readOnly: false, server: 's', path: '/' } }] } }, { spec: { volumes: [{ name: 'v', nfs: { ReadOnly: true, server: 's', path: '/' } }] } }],
  ];
  const back = await writtenBack(pairs.flat());
  for (const [index, [a, b]] of pairs.entries()) {
    t.not(back[2 * index], back[2 * index + 1], `Go writes ${JSON.stringify(a)} and ${JSON.stringify(b)} apart`);
    t.notOk(jsonEqual(canonicalRolloutTemplate(a), canonicalRolloutTemplate(b)), 'and so does the canonical form');
  }
});
