// The committed copies of what the rules' homes (src/rules/<id>/rule.ts) define: the README's rules table, its
// comparison with peers and its policy example's rules, and the kustomize base's policy ConfigMap; and the
// README's `rollsafe plan` example (its text and docs/plan-example.svg). Generated
// from the built descriptors (dist/), so a rule is described once; test/generated.test.ts fails on a stale copy.
// Run: npm run generate (builds first).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
const { RULES } = await import(new URL('dist/rules/index.js', root).href);
const { defaultPolicyDocument } = await import(new URL('dist/policy/default-document.js', root).href);
const { planFiles } = await import(new URL('dist/plan/plan.js', root).href);
const { planText } = await import(new URL('dist/commands/plan.js', root).href);
const { planSvg } = await import(new URL('dist/plan/svg.js', root).href);
const { parseManifest } = await import(new URL('dist/manifests/read.js', root).href);

/** The README's plan example: test/fixtures/plan/web.yaml, its app answering 3 s after it starts and exiting at once. */
function planExample() {
  const file = 'test/fixtures/plan/web.yaml';
  const plans = planFiles([parseManifest(readFileSync(new URL(file, root), 'utf8'), file)], { podStartSeconds: 0, appStartSeconds: 3, exitSeconds: 0 }, '1.30');
  return { text: planText(plans), svg: planSvg(plans) };
}

const cell = (text) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const row = (cells) => `| ${cells.map(cell).join(' | ')} |`;

function rulesTable() {
  return [
    '| id | default severity | fixable | what it checks |',
    '|---|---|---|---|',
    ...RULES.map((rule) => row([`\`${rule.id}\``, rule.defaultSeverity, rule.fixable ? 'yes' : 'no', rule.docs.readme.checks])),
  ].join('\n');
}

function peersTable() {
  return [
    '| rollsafe rule | Polaris | kube-score | kube-linter | Kyverno | where rollsafe differs, and why |',
    '|---|---|---|---|---|---|',
    ...RULES.map(({ id, docs: { readme: { peers } } }) => row([`\`${id}\``, peers.polaris, peers.kubeScore, peers.kubeLinter, peers.kyverno, peers.differs])),
  ].join('\n');
}

/** Replaces what stands between `<!-- NAME:start -->` and `<!-- NAME:end -->`. */
function between(text, name, content, file) {
  const pattern = new RegExp(`(<!-- ${name}:start -->\\n)[\\s\\S]*?(<!-- ${name}:end -->)`);
  if (!pattern.test(text)) throw new Error(`${file} has no <!-- ${name}:start --> ... <!-- ${name}:end --> markers`);
  return text.replace(pattern, (_match, start, end) => `${start}${content}\n${end}`);
}

/** The `rules:` lines of the README's policy example, one per rule with its defaults. */
function policyExampleRules(text) {
  const pattern = /(\nrules: [^\n]*\n)(?: {2}[a-z0-9-]+: \{[^\n]*\n)+/;
  if (!pattern.test(text)) throw new Error('README.md: the policy example has no rules: block');
  const lines = RULES.map((rule) => `  ${rule.id}: {mode: ${rule.defaultMode}, severity: ${rule.defaultSeverity}}\n`).join('');
  return text.replace(pattern, (_match, head) => `${head}${lines}`);
}

function readme(text) {
  const planned = '```\n$ rollsafe plan test/fixtures/plan/web.yaml --app-start-seconds 3 --exit-seconds 0\n' + planExample().text + '```';
  return policyExampleRules(between(between(between(text, 'peers', peersTable(), 'README.md'), 'rules', rulesTable(), 'README.md'), 'plan-text', planned, 'README.md'));
}

function policyConfigMap() {
  const indented = defaultPolicyDocument().trimEnd().split('\n').map((line) => `    ${line}`).join('\n');
  return [
    '# The policy, mounted as a file: edits are picked up without a restart (a bad edit is logged and ignored).',
    '# Generated from the rules (npm run generate): the default policy, as `rollsafe policy --print-default` prints it.',
    'apiVersion: v1',
    'kind: ConfigMap',
    'metadata:',
    '  name: rollsafe-policy',
    'data:',
    '  policy.yaml: |',
    indented,
    '',
  ].join('\n');
}

/** Every generated file: its path and the content it should have. */
export function generatedFiles() {
  const read = (path) => readFileSync(new URL(path, root), 'utf8');
  return [
    { path: 'README.md', content: readme(read('README.md')) },
    { path: 'manifests/base/policy-configmap.yaml', content: policyConfigMap() },
    { path: 'docs/plan-example.svg', content: planExample().svg },
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const { path, content } of generatedFiles()) {
    if (existsSync(new URL(path, root)) && readFileSync(new URL(path, root), 'utf8') === content) continue;
    writeFileSync(new URL(path, root), content);
    console.log(`generated ${path}`);
  }
}
