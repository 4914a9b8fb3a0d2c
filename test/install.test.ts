/** manifests/, certs/generate.sh and the Dockerfile: what a platform team installs. */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { TEST_DIR } from './helpers/fixtures.js';
import { schemaError } from './helpers/k8s-schema.js';
import { binaryDirs } from './helpers/control-plane.js';
import { runCli } from './helpers/run-cli.js';

const ROOT = join(TEST_DIR, '..');
const MANIFESTS = join(ROOT, 'manifests');
const GENERATE = join(ROOT, 'certs', 'generate.sh');
const KUBECTL = join(binaryDirs().kube, 'kubectl');

type Obj = Record<string, any>;

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? yamlFiles(path) : /\.ya?ml$/.test(name) ? [path] : [];
  });
}

function render(dir: string): Obj[] {
  const output = execFileSync(KUBECTL, ['kustomize', dir], { encoding: 'utf8' });
  return parseAllDocuments(output).map((doc) => doc.toJS() as Obj);
}

function find(objects: Obj[], kind: string, name?: string): Obj {
  const found = objects.find((o) => o.kind === kind && (name === undefined || o.metadata?.name === name));
  if (!found) throw new Error(`no ${kind}${name ? ` ${name}` : ''} in the rendered objects`);
  return found;
}

t.test('every manifest file parses and validates against the Kubernetes schema of its kind', async (t) => {
  const files = yamlFiles(MANIFESTS);
  t.ok(files.length >= 12);
  for (const file of files) {
    for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
      t.same(doc.errors, [], `${relative(ROOT, file)} parses`);
      const object = doc.toJS() as Obj;
      if (object.kind === 'Kustomization' || object.kind === 'Component') continue; // not API objects; rendered below
      t.equal(schemaError(object), undefined, `${relative(ROOT, file)}: ${object.kind} ${object.metadata?.name}`);
    }
  }
});

t.test('kubectl (the pinned build from test/cluster-bins) renders the overlays', async (t) => {
  const version = spawnSync(KUBECTL, ['version', '--client'], { encoding: 'utf8' });
  t.equal(version.status, 0);
  t.match(version.stdout, /Client Version: v1\.\d+\.\d+/);
});

t.test('the base renders with everything a highly available, least-privilege webhook needs', async (t) => {
  const objects = render(join(MANIFESTS, 'base'));
  for (const object of objects) t.equal(schemaError(object), undefined, `${object.kind} ${object.metadata.name} validates`);
  t.match(find(objects, 'Namespace'), { metadata: { name: 'rollsafe-system' } });
  t.match(find(objects, 'ServiceAccount'), { metadata: { name: 'rollsafe', namespace: 'rollsafe-system' }, automountServiceAccountToken: false });
  t.notOk(objects.some((o) => /Role/.test(o.kind)), 'no RBAC: the server reads nothing from the API');
  const policy = find(objects, 'ConfigMap', 'rollsafe-policy');
  t.match(policy.data['policy.yaml'], /^apiVersion: rollsafe.dev\/v1alpha1\nkind: Policy/);

  const deployment = find(objects, 'Deployment', 'rollsafe');
  const pod = deployment.spec.template.spec;
  const [container] = pod.containers;
  t.ok(deployment.spec.replicas >= 2);
  t.same(deployment.spec.strategy.rollingUpdate, { maxSurge: 1, maxUnavailable: 0 });
  t.match(pod.topologySpreadConstraints, [{ topologyKey: 'kubernetes.io/hostname', maxSkew: 1 }]);
  t.match(container.readinessProbe, { httpGet: { path: '/readyz', scheme: 'HTTPS' } });
  t.match(container.livenessProbe, { httpGet: { path: '/healthz', scheme: 'HTTPS' } });
  t.same(container.lifecycle.preStop, { sleep: { seconds: 10 } });
  t.ok(pod.terminationGracePeriodSeconds >= 10 + 20, 'grace covers preStop + drain');
  t.match(pod.securityContext, { runAsNonRoot: true, runAsUser: 65532, seccompProfile: { type: 'RuntimeDefault' } });
  t.match(container.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  t.ok(container.resources.requests.cpu && container.resources.requests.memory && container.resources.limits.memory, 'requests and limits');
  t.match(deployment.spec.template.metadata.annotations, { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9090' });
  t.same(container.ports.map((p: Obj) => p.containerPort), [8443, 9090]);
  t.ok(container.args.includes('--policy=/etc/rollsafe/policy/policy.yaml'));
  t.match(find(objects, 'PodDisruptionBudget'), { spec: { maxUnavailable: 1, selector: { matchLabels: deployment.spec.selector.matchLabels } } });
  t.match(find(objects, 'Service'), { spec: { ports: [{ port: 443, targetPort: 'https' }], selector: deployment.spec.selector.matchLabels } });

  for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
    const config = find(objects, kind);
    const endpoint = kind.startsWith('Validating') ? 'validate' : 'mutate';
    const modes = ['', '/enforce', '/warn', '/audit'];
    // Validation also learns the AWS readiness gate label of the namespace from the entry's path.
    const paths = endpoint === 'validate' ? modes.flatMap((mode) => [`/validate${mode}/ns/no-elbv2-gates`, `/validate${mode}/ns/elbv2-gates`]) : modes.map((mode) => `/mutate${mode}`);
    t.same(config.webhooks.map((w: Obj) => w.clientConfig.service.path), paths);
    for (const webhook of config.webhooks) {
      t.same(webhook.admissionReviewVersions, ['v1']);
      t.equal(webhook.sideEffects, 'None', 'so kubectl apply --dry-run=server works');
      t.ok(webhook.timeoutSeconds <= 5);
      t.equal(webhook.failurePolicy, 'Ignore');
      t.match(webhook.clientConfig.service, { namespace: 'rollsafe-system', name: 'rollsafe', port: 443 });
      t.same(webhook.rules, [{ apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments', 'statefulsets', 'daemonsets'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' }]);
      const [names, mode] = webhook.namespaceSelector.matchExpressions;
      t.same(names, { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'kube-node-lease', 'rollsafe-system'] });
      t.equal(mode.key, 'rollsafe.dev/mode');
      t.notOk(JSON.stringify(mode).includes('"off"'), 'namespaces labelled off match no entry');
      if (endpoint === 'mutate') t.equal(webhook.reinvocationPolicy, 'IfNeeded');
    }
  }
});

t.test('rollsafe audits its own manifests with zero findings', async (t) => {
  const run = await runCli(['audit', MANIFESTS, '--output', 'json', '--fail-on', 'warning']);
  const report = JSON.parse(run.stdout);
  t.equal(run.code, 0);
  t.equal(report.summary.objects, 1);
  t.same(report.results[0].findings, []);
  const rendered = await runCli(['audit', '-', '--output', 'json', '--fail-on', 'warning'], { stdin: execFileSync(KUBECTL, ['kustomize', join(MANIFESTS, 'base')], { encoding: 'utf8' }) });
  t.same(JSON.parse(rendered.stdout).results[0].findings, [], 'also rendered, with the PDB and Service as context');
});

t.test('cert-manager overlay: issuer chain, serving certificate, CA injection', async (t) => {
  const objects = render(join(MANIFESTS, 'overlays', 'cert-manager'));
  for (const object of objects) t.equal(schemaError(object), undefined, `${object.kind} ${object.metadata.name} validates`);
  const serving = find(objects, 'Certificate', 'rollsafe-serving');
  t.match(serving.spec, { secretName: 'rollsafe-tls', dnsNames: ['rollsafe.rollsafe-system.svc', 'rollsafe.rollsafe-system.svc.cluster.local'], privateKey: { algorithm: 'ECDSA', size: 256 }, issuerRef: { name: 'rollsafe-ca' } });
  t.match(find(objects, 'Certificate', 'rollsafe-ca'), { spec: { isCA: true, issuerRef: { name: 'rollsafe-selfsigned' } } });
  t.match(find(objects, 'Issuer', 'rollsafe-ca'), { spec: { ca: { secretName: 'rollsafe-ca' } } });
  for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
    t.equal(find(objects, kind).metadata.annotations['cert-manager.io/inject-ca-from'], 'rollsafe-system/rollsafe-serving');
  }
});

t.test('certs/generate.sh: CA-signed P-256 certificate with the Service names, 0600 keys, no overwrite', async (t) => {
  const copy = mkdtempSync(join(tmpdir(), 'rollsafe-install-'));
  cpSync(MANIFESTS, join(copy, 'manifests'), { recursive: true });
  const out = join(copy, 'manifests', 'overlays', 'self-signed');
  const first = spawnSync('bash', [GENERATE, '--out', out], { encoding: 'utf8' });
  t.equal(first.status, 0, first.stderr);
  t.notMatch(first.stdout + first.stderr, /PRIVATE KEY/, 'keys never printed');
  const verify = spawnSync('openssl', ['verify', '-CAfile', join(out, 'ca.crt'), join(out, 'tls.crt')], { encoding: 'utf8' });
  t.equal(verify.status, 0, verify.stderr);
  const text = execFileSync('openssl', ['x509', '-in', join(out, 'tls.crt'), '-noout', '-text'], { encoding: 'utf8' });
  for (const name of ['rollsafe', 'rollsafe.rollsafe-system', 'rollsafe.rollsafe-system.svc', 'rollsafe.rollsafe-system.svc.cluster.local']) {
    t.match(text, new RegExp(`DNS:${name.replace(/\./g, '\\.')}(,|\\n)`));
  }
  t.match(text, /ASN1 OID: prime256v1/);
  t.match(text, /TLS Web Server Authentication/);
  for (const key of ['ca.key', 'tls.key']) t.equal(statSync(join(out, key)).mode & 0o777, 0o600, `${key} is 0600`);
  const before = readFileSync(join(out, 'tls.key'));
  const second = spawnSync('bash', [GENERATE, '--out', out], { encoding: 'utf8' });
  t.equal(second.status, 1);
  t.match(second.stderr, /refusing to overwrite/);
  t.same(readFileSync(join(out, 'tls.key')), before, 'the key is untouched');
  t.equal(spawnSync('bash', [GENERATE, '--out', out, '--force'], { encoding: 'utf8' }).status, 0, '--force replaces');

  // The self-signed overlay renders with the generated Secret and the CA in every webhook entry.
  const objects = render(out);
  const secret = find(objects, 'Secret', 'rollsafe-tls');
  t.match(secret, { type: 'kubernetes.io/tls', metadata: { namespace: 'rollsafe-system' } });
  t.equal(Buffer.from(secret.data['tls.crt'], 'base64').toString(), readFileSync(join(out, 'tls.crt'), 'utf8'));
  const ca = readFileSync(join(out, 'ca.crt')).toString('base64');
  for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
    const config = find(objects, kind);
    t.equal(config.webhooks.length, kind.startsWith('Validating') ? 8 : 4);
    for (const webhook of config.webhooks) t.equal(webhook.clientConfig.caBundle, ca, `${kind} ${webhook.name} has the CA`);
  }
});

/**
 * A copy of manifests/ and, beside it, a user's kustomization of `resources` with the Argo Rollouts component, as
 * the README shows it; returns the kustomization's folder.
 */
function withArgoRollouts(resource: string, prepare?: (copy: string) => void): string {
  const copy = mkdtempSync(join(tmpdir(), 'rollsafe-argo-'));
  cpSync(MANIFESTS, join(copy, 'manifests'), { recursive: true });
  prepare?.(copy);
  mkdirSync(join(copy, 'mine'));
  writeFileSync(join(copy, 'mine', 'kustomization.yaml'), `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../manifests/${resource}]\ncomponents: [../manifests/components/argo-rollouts]\n`);
  return join(copy, 'mine');
}

const APPS_RULE = { apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments', 'statefulsets', 'daemonsets'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' };
const ROLLOUTS_RULE = { apiGroups: ['argoproj.io'], apiVersions: ['v1alpha1'], resources: ['rollouts'], operations: ['CREATE', 'UPDATE'], scope: 'Namespaced' };

t.test('the Argo Rollouts component: the Rollout rule in every webhook entry, exactly once; nothing else changes', async (t) => {
  const base = render(join(MANIFESTS, 'base'));
  const objects = render(withArgoRollouts('base'));
  t.equal(objects.length, base.length, 'the same objects');
  for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
    const plain = find(base, kind);
    const argo = find(objects, kind);
    t.equal(schemaError(argo), undefined, `${kind} validates`);
    t.equal(argo.webhooks.length, kind.startsWith('Validating') ? 8 : 4);
    for (const webhook of plain.webhooks) t.same(webhook.rules, [APPS_RULE], `without the component, ${webhook.name} matches apps only`);
    for (const webhook of argo.webhooks) t.same(webhook.rules, [APPS_RULE, ROLLOUTS_RULE], `${webhook.name} matches Rollouts too`);
    t.same(argo.webhooks.map((webhook: Obj) => ({ ...webhook, rules: undefined })), plain.webhooks.map((webhook: Obj) => ({ ...webhook, rules: undefined })), `${kind}: only the rules change`);
  }
  const others = (rendered: Obj[]) => rendered.filter((object) => !/WebhookConfiguration$/.test(object.kind));
  t.same(others(objects), others(base), 'every other object as in the base');
  t.notOk(JSON.stringify(base).includes('argoproj'), 'the base alone has no trace of Argo');

  // With either overlay: the certificate's patches and the component's compose.
  const managed = render(withArgoRollouts('overlays/cert-manager'));
  for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
    const config = find(managed, kind);
    t.equal(config.metadata.annotations['cert-manager.io/inject-ca-from'], 'rollsafe-system/rollsafe-serving');
    t.ok(config.webhooks.every((webhook: Obj) => isDeepStrictEqual(webhook.rules, [APPS_RULE, ROLLOUTS_RULE])), `cert-manager overlay: ${kind}`);
  }
  const selfSigned = render(withArgoRollouts('overlays/self-signed', (copy) => {
    execFileSync('bash', [GENERATE, '--out', join(copy, 'manifests', 'overlays', 'self-signed')], { stdio: 'ignore' });
  }));
  for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
    const config = find(selfSigned, kind);
    t.ok(config.webhooks.every((webhook: Obj) => webhook.clientConfig.caBundle && isDeepStrictEqual(webhook.rules, [APPS_RULE, ROLLOUTS_RULE])), `self-signed overlay: ${kind} has the CA and the rule in every entry`);
  }
});

t.test('certs/generate.sh --dev issues for 127.0.0.1 and localhost', async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'rollsafe-dev-'));
  t.equal(spawnSync('bash', [GENERATE, '--dev', '--out', out]).status, 0);
  const text = execFileSync('openssl', ['x509', '-in', join(out, 'tls.crt'), '-noout', '-text'], { encoding: 'utf8' });
  t.match(text, /DNS:localhost/);
  t.match(text, /IP Address:127\.0\.0\.1/);
  t.notOk(existsSync(join(out, 'ca-bundle.yaml')), 'no webhook patch in dev mode');
});

t.test('Dockerfile: multi-stage, production dependencies only, non-root, entrypoint runs rollsafe serve', async (t) => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const stages = [...dockerfile.matchAll(/^FROM (\S+)(?: AS (\S+))?$/gm)];
  t.equal(stages.length, 2, 'build and runtime stages');
  t.match(stages[0]?.[1], /^node:20/);
  t.match(stages[1]?.[1], /nodejs20/);
  t.match(dockerfile, /RUN npm ci /);
  t.match(dockerfile, /npm run build && npm prune --omit=dev/);
  t.match(dockerfile, /^USER 65532:65532$/m);
  t.match(dockerfile, /^EXPOSE 8443 9090$/m);
  const entrypoint = JSON.parse(/^ENTRYPOINT (.+)$/m.exec(dockerfile)?.[1] ?? '[]');
  t.same(entrypoint.slice(1), ['dist/cli.js', 'serve']);
  for (const [, source] of dockerfile.matchAll(/^COPY (?!--from)(.+) \S+$/gm)) {
    for (const path of (source ?? '').split(' ')) t.ok(existsSync(join(ROOT, path)), `COPY source ${path} exists`);
  }
  const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
  for (const path of ['node_modules', 'dist', 'test', '.git']) t.ok(ignored.includes(path), `.dockerignore has ${path}`);
  for (const path of ['src', 'package.json', 'package-lock.json', 'tsconfig.json']) t.notOk(ignored.includes(path), `${path} reaches the build`);
  // The manifests pass only flags: the entrypoint already says `serve`.
  const args = render(join(MANIFESTS, 'base')).find((o) => o.kind === 'Deployment')?.spec.template.spec.containers[0].args;
  t.ok(args.every((arg: string) => arg.startsWith('--')));
});

t.test('the entrypoint runs with production dependencies only', async (t) => {
  const app = mkdtempSync(join(tmpdir(), 'rollsafe-image-'));
  cpSync(join(ROOT, 'package.json'), join(app, 'package.json'));
  cpSync(join(ROOT, 'package-lock.json'), join(app, 'package-lock.json'));
  cpSync(join(ROOT, 'dist'), join(app, 'dist'), { recursive: true });
  const install = spawnSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, encoding: 'utf8' });
  t.equal(install.status, 0, install.stderr.slice(-500));
  t.notOk(existsSync(join(app, 'node_modules', 'tap')), 'no dev dependency installed');
  const certs = mkdtempSync(join(tmpdir(), 'rollsafe-image-certs-'));
  execFileSync('bash', [GENERATE, '--dev', '--out', certs], { stdio: 'ignore' });
  const child = spawn(process.execPath, ['dist/cli.js', 'serve', '--tls-cert', join(certs, 'tls.crt'), '--tls-key', join(certs, 'tls.key'), '--port', '0', '--metrics-port=0', '--host', '127.0.0.1', '--shutdown-delay', '0'], { cwd: app });
  const run = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk) => (run.stdout += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  await new Promise<void>((resolve) => {
    child.stderr.on('data', (chunk) => {
      run.stderr += chunk;
      if (/serving https/.test(run.stderr)) resolve();
    });
    child.on('exit', () => resolve());
  });
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'exit 0 on SIGTERM');
  t.match(run.stderr, /rollsafe: serving https:\/\/127\.0\.0\.1:\d+/, 'it started');
  t.match(run.stdout, /"msg":"stopped"/, 'and stopped cleanly');
  t.notMatch(run.stderr, /Cannot find (module|package)/);
});
