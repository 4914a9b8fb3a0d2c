import t from 'tap';
import { auditFiles } from '../src/audit/audit.js';
import { ALL_ACTIVE_MODES } from '../src/engine/engine.js';
import { editsByFile } from '../src/manifests/fix-files.js';
import { parseManifest } from '../src/manifests/read.js';
import { writeFixed } from '../src/manifests/write.js';
import { defaultPolicy } from '../src/policy/load.js';
import { auditText, findingsOf, fixture } from './helpers/fixtures.js';

const DEPLOYMENT = fixture('rules', 'prestop-delay', 'fail-missing.yaml');

t.test('YAML syntax errors name the line and column', async (t) => {
  const parsed = parseManifest('apiVersion: v1\nkind: Service\n---\napiVersion: apps/v1\nkind: [Deployment\n', 'bad.yaml');
  t.equal(parsed.objects.length, 1, 'the good document is still read');
  t.match(parsed.errors, [{ file: 'bad.yaml', document: 2, line: Number, column: Number, message: /YAML syntax error/ }]);
  t.ok((parsed.errors[0]?.line ?? 0) >= 5);
});

t.test('unrendered templates are refused at the line of the `{{` that breaks the YAML, with the command to render them', async (t) => {
  const cases: Array<[string, number]> = [
    ['apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n', 4],
    // Valid YAML only by accident: `{{ .Values.replicas }}` reads as a mapping used as a key.
    ['apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: {{ .Values.replicas }}\n', 6],
    ['apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n{{- if .Values.labels }}\n  labels: {a: b}\n{{- end }}\n', 5],
  ];
  for (const [text, line] of cases) {
    const parsed = parseManifest(text, 'chart/templates/d.yaml');
    t.match(parsed.errors, [{ document: 1, line, message: /unrendered template.*helm template/ }], text);
    t.same(parsed.objects, []);
  }
});

t.test('rendered manifests with `{{ }}` inside strings are read: alert annotations, Vault templates, ConfigMaps', async (t) => {
  const rendered = [
    'apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: r\nspec:\n  groups:\n  - name: g\n    rules:\n    - alert: Down\n      annotations:\n        description: Pod {{ $labels.pod }} is down\n        summary: "{{ $labels.pod }} down"\n',
    'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  tpl: |\n    {{- with secret "x" -}}\n    {{ .Data.password }}\n    {{- end }}\n',
    DEPLOYMENT.replace(/metadata:\n/, "metadata:\n  annotations:\n    vault.hashicorp.com/agent-inject-template-db: '{{- with secret \"db\" -}}{{ .Data.x }}{{- end }}'\n"),
  ];
  const { audit } = auditText(rendered.join('---\n'));
  t.same(audit.inputErrors, []);
  t.equal(audit.results.length, 1, 'the Deployment is judged');
  t.equal(audit.skipped.length, 2, 'the PrometheusRule and ConfigMap are read and skipped as other kinds');
});

t.test('alias bombs are refused, not expanded', async (t) => {
  const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    levels.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(',')}]`);
  }
  const started = process.memoryUsage().heapUsed;
  const parsed = parseManifest(`${levels.join('\n')}\nkind: Deployment\napiVersion: apps/v1\n`, 'bomb.yaml');
  t.match(parsed.errors, [{ message: /alias/ }]);
  t.ok(process.memoryUsage().heapUsed - started < 200 * 1024 * 1024, 'memory stayed bounded');
});

t.test('huge inputs are refused before parsing', async (t) => {
  const parsed = parseManifest(`# ${'x'.repeat(65 * 1024 * 1024)}\n`, 'huge.yaml');
  t.match(parsed.errors, [{ message: /larger than 64 MiB/ }]);
});

t.test('non-objects and objects without a kind', async (t) => {
  const parsed = parseManifest('- just\n- a list\n---\n42\n---\n---\nfoo: bar\n', 'odd.yaml');
  t.match(parsed.errors, [{ document: 1, message: /not a mapping/ }, { document: 2, message: /not a mapping/ }]);
  t.equal(parsed.objects.length, 1, 'an object without kind is kept (and counted as skipped later)');
});

t.test('List documents are unpacked with the line of each item', async (t) => {
  const list = `apiVersion: v1\nkind: List\nitems:\n${DEPLOYMENT.split('\n').map((line, i) => (i === 0 ? `- ${line}` : line ? `  ${line}` : line)).join('\n')}`;
  const parsed = parseManifest(list, 'list.yaml');
  t.same(parsed.errors, []);
  t.match(parsed.objects, [{ document: 1, item: 0, line: 4, object: { kind: 'Deployment' } }]);
  const { audit, fixed } = auditText(list);
  t.ok(findingsOf(audit, 'prestop-delay').length > 0);
  t.match(fixed, /items:\n- apiVersion: apps\/v1[\s\S]*preStop:\n\s+sleep:\n\s+seconds: 10/);
  t.equal(auditText(fixed).fixed, fixed, 'idempotent inside a List');
});

t.test('JSON files are read and written as JSON', async (t) => {
  const object = parseManifest(DEPLOYMENT, 'd.yaml').objects[0]?.object;
  const json = `${JSON.stringify(object, null, 4)}\n`;
  const parsed = parseManifest(json, 'd.json');
  t.equal(parsed.format, 'json');
  const { fixed } = auditText(json, undefined, 'd.json');
  const fixedObject = JSON.parse(fixed);
  t.same(fixedObject.spec.template.spec.containers[0].lifecycle, { preStop: { sleep: { seconds: 10 } } });
  t.match(fixed, /^\{\n {4}"apiVersion"/, 'indentation kept');
  t.same(Object.keys(fixedObject), Object.keys(object ?? {}), 'key order kept');
  // JSON allows integers past 2^53; rewriting must not round them (Number(9007199254740993) is ...992).
  const big = json.replace('"replicas": 3', '"replicas": 3,\n    "x-big": 9007199254740993');
  t.not(big, json);
  t.match(auditText(big, undefined, 'd.json').fixed, /"x-big": 9007199254740993,/, 'digits kept');
});

t.test('fix leaves untouched documents byte for byte and adds into empty flow maps', async (t) => {
  const other = '# a config map, untouched\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  key:   "value"   # spaced\n';
  const text = `${other}---\n${DEPLOYMENT.replace("ports: [{containerPort: 8080, name: http}]", "ports: [{containerPort: 8080, name: http}]\n          lifecycle: {}")}`;
  const { fixed } = auditText(text);
  t.ok(fixed.startsWith(`${other}---\n`), 'first document unchanged');
  t.match(fixed, /lifecycle: \{preStop: \{sleep: \{seconds: 10\}\}\}/);
});

t.test('a file without a trailing newline gets valid YAML', async (t) => {
  const text = DEPLOYMENT.trimEnd();
  const { fixed } = auditText(text);
  t.same(parseManifest(fixed, 'x.yaml').errors, []);
  t.match(fixed, /seconds: 10\n/);
  t.ok(fixed.endsWith('\n'), 'the last inserted line ends the file with a newline');
});

t.test('workloads without a pod template (patch fragments) are skipped with the reason, never fixed', async (t) => {
  const fragment = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: metrics-server\nspec:\n  replicas: 2\n  strategy:\n    rollingUpdate:\n      maxUnavailable: 1\n';
  const { audit, fixed } = auditText(`${fragment}---\n${DEPLOYMENT}`);
  t.equal(audit.results.length, 1);
  t.match(audit.skipped, [{ kind: 'Deployment', name: 'metrics-server', reason: /no pod template/ }]);
  t.ok(fixed.startsWith(fragment), 'the fragment is left as it is');
  const lone = auditText('apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: x}\nspec: null\n');
  t.equal(lone.audit.results.length, 0);
  t.equal(lone.fixed, 'apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: x}\nspec: null\n');
});

t.test('fix never loses or misplaces an edit (review cases, in test/fixtures/manifests/), finding nodes in the text or in the tree', async (t) => {
  const { readdirSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { FIXTURES } = await import('./helpers/fixtures.js');
  const { parseAllDocuments } = await import('yaml');
  const dir = join(FIXTURES, 'manifests');
  for (const name of readdirSync(dir).sort()) {
    const text = fixture('manifests', name);
    for (const locate of [true, false]) {
      const how = `${name} (${locate ? 'text' : 'tree'})`;
      const parsed = parseManifest(text, name);
      const audit = auditFiles([parsed], defaultPolicy(), { fixModes: ALL_ACTIVE_MODES });
      t.same(audit.inputErrors, [], `${how}: reads`);
      const fixed = writeFixed(parsed, editsByFile(audit).get(name) ?? [], { locate });
      const documents = parseAllDocuments(fixed);
      t.same(documents.flatMap((document) => document.errors), [], `${how}: the output parses`);
      t.equal(documents.filter((document) => document.contents !== null).length, parseAllDocuments(text).filter((document) => document.contents !== null).length, `${how}: every document kept`);
      const again = auditText(fixed, undefined, name);
      t.same(findingsOf(again.audit).filter((finding) => finding.fix && !finding.exempt), [], `${how}: every fixable finding fixed (none dropped)`);
      t.equal(again.fixed, fixed, `${how}: idempotent`);
      t.equal(again.audit.results.length, audit.results.length, `${how}: every workload kept`);
    }
  }
});

t.test('template blame only for a `{{` outside strings; a parse error stopping a document early still finds its `{{`', async (t) => {
  const duplicate = parseManifest('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    summary: "{{ $labels.instance }} down"\n    summary: "dup"\n', 'dup.yaml');
  t.match(duplicate.errors, [{ line: 7, message: /YAML syntax error: Map keys must be unique/ }]);
  const end = parseManifest('apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicas: x\n  {{- end }}\n  selector: {}\n', 'end.yaml');
  t.match(end.errors, [{ line: 7, message: /unrendered template/ }]);
});

t.test('a byte-order mark is kept in the text (fix keeps every byte it does not fix) and skipped when reading', async (t) => {
  const parsed = parseManifest(`\uFEFF---\n${DEPLOYMENT}`, 'bom.yaml');
  t.same(parsed.errors, []);
  t.equal(parsed.objects.length, 1);
  t.ok(parsed.text.startsWith('\uFEFF'));
});
