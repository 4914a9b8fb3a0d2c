/**
 * decision.ts startsRollout on what the Argo Rollouts controller writes back (it canonicalises resource
 * quantities and restartAt through its typed structs): the same values written another way start no rollout,
 * other values do. Deployments are stored typed, and compared as before.
 */
import t from 'tap';
import { startsRollout } from '../src/admission/decision.js';
import { quantityText } from '../src/util/quantity.js';

type Obj = Record<string, any>;

function rollout(resources: Obj | undefined, restartAt?: string, kind = 'Rollout'): Obj {
  const container: Obj = { name: 'app', image: 'example.com/app:1' };
  if (resources) container.resources = resources;
  const spec: Obj = { replicas: 2, template: { metadata: { labels: { app: 'a' } }, spec: { containers: [container], initContainers: [{ name: 'init', image: 'example.com/init:1', ...(resources ? { resources } : {}) }] } } };
  if (restartAt !== undefined) spec.restartAt = restartAt;
  return kind === 'Rollout' ? { apiVersion: 'argoproj.io/v1alpha1', kind, metadata: { name: 'a' }, spec } : { apiVersion: 'apps/v1', kind, metadata: { name: 'a' }, spec };
}

const update = (oldObject: Obj, object: Obj) =>
  startsRollout({ uid: 'u', kind: object.kind === 'Rollout' ? { group: 'argoproj.io', version: 'v1alpha1', kind: 'Rollout' } : { group: 'apps', version: 'v1', kind: object.kind }, operation: 'UPDATE', object, oldObject });

t.test('a quantity is the text Go prints for it (ParseQuantity, then MarshalJSON), where the port follows Go', async (t) => {
  // Each pinned against test/cluster-bins/argo-rollouts/template-roundtrip; canonical-template.test.ts compares many more.
  const printed: Array<[unknown, string]> = [
    ['0.5', '500m'],
    [0.5, '500m'],
    [1, '1'],
    ['1000m', '1'],
    ['1000', '1k'],
    ['1024Mi', '1Gi'],
    ['1Gi', '1Gi'],
    ['1073741824', '1073741824'],
    ['8Ki', '8Ki'],
    ['1e3', '1e3'],
    ['+1', '+1'],
    ['01', '01'],
    ['1.', '1.'],
    ['100E', '100E'],
    ['0.0', '0'],
    ['.', '0'],
    ['Ki', '0'],
    // ParseQuantity's inf.Dec path: rounded up to a nano, never kept as written.
    ['1.5Gi', '1536Mi'],
    ['0.5Ki', '512'],
    ['1234567890123456789', '1234567890123456789'],
    ['0.1n', '1n'],
    ['1e-12', '1e-9'],
  ];
  for (const [written, text] of printed) t.equal(quantityText(written), text, `${JSON.stringify(written)} is written back ${JSON.stringify(text)}`);
  // Exponents past 18 (Go wraps them at 32 bits), suffixes Go prints without, or no quantity at all.
  for (const written of ['1e19', '1'.repeat(65), `${'9'.repeat(1_000_000)}.5`, '1e4294967296', '1000E', 'x', '', '1 Mi', ' 1', true, 1e21]) {
    t.equal(quantityText(written), undefined, `${JSON.stringify(written).slice(0, 40)}: compared as written`);
  }
});

t.test('a Rollout: the controller write-back of quantities starts no rollout, other texts do', async (t) => {
  const none: Array<[string, Obj, Obj]> = [
    ['an int cpu written back as a string', { limits: { cpu: 1 } }, { limits: { cpu: '1' } }],
    ['0.5 written back as 500m', { requests: { cpu: 0.5, memory: '1024Mi' } }, { requests: { cpu: '500m', memory: '1Gi' } }],
    ['1000m and 1, 1000 and 1k', { limits: { cpu: '1000m', 'example.com/gpu': '1000' } }, { limits: { cpu: '1', 'example.com/gpu': '1k' } }],
    ['no resources and resources: {}', {}, {}],
  ];
  for (const [source, before, after] of none) {
    t.notOk(update(rollout(before), rollout(after)), `${source}: no rollout`);
    t.notOk(update(rollout(after), rollout(before)), `${source}, the other way: no rollout`);
  }
  t.notOk(update(rollout(undefined), rollout({})), 'resources: {} added');
  const starts: Array<[string, Obj, Obj]> = [
    ['1 to 2', { limits: { cpu: 1 } }, { limits: { cpu: 2 } }],
    ['500m to 600m', { limits: { cpu: '500m' } }, { limits: { cpu: '600m' } }],
    ['a request added', { limits: { cpu: '1' } }, { limits: { cpu: '1' }, requests: { cpu: '1' } }],
    ['a resource added', { limits: { cpu: '1' } }, { limits: { cpu: '1000m', memory: '1Gi' } }],
    ['1Gi to 1G', { limits: { memory: '1Gi' } }, { limits: { memory: '1G' } }],
    // One value, two texts Go keeps as written (a canonical form of another format): two hashes.
    ['1Gi to 1073741824', { limits: { memory: '1Gi' } }, { limits: { memory: '1073741824' } }],
    ['1k to 1e3', { limits: { cpu: '1k' } }, { limits: { cpu: '1e3' } }],
    ['1 to +1', { limits: { cpu: '1' } }, { limits: { cpu: '+1' } }],
    ['text that is no quantity, changed', { limits: { cpu: 'x' } }, { limits: { cpu: 'y' } }],
  ];
  for (const [source, before, after] of starts) t.ok(update(rollout(before), rollout(after)), `${source}: a rollout`);
  const changed = rollout({ limits: { cpu: '1' } });
  changed.spec.template.spec.containers[0].image = 'example.com/app:2';
  t.ok(update(rollout({ limits: { cpu: 1 } }), changed), 'a canonical quantity and a new image: a rollout');
  const claims = rollout({ limits: { cpu: 1 }, claims: [{ name: 'a' }] });
  t.ok(update(claims, rollout({ limits: { cpu: '1' }, claims: [{ name: 'b' }] })), 'claims compare as written');
  t.notOk(update(claims, rollout({ limits: { cpu: '1' }, claims: [{ name: 'a' }] })), 'claims the same, a canonical quantity');
});

t.test('a Rollout: restartAt compares as an instant at second precision', async (t) => {
  const base = rollout(undefined, '2030-01-02T03:04:05Z');
  const none = ['2030-01-02T04:04:05.123+01:00', '2030-01-02T03:04:05.999999999Z', '2030-01-01T22:34:05-04:30', '2030-01-02T03:04:05Z'];
  for (const restartAt of none) {
    t.notOk(update(base, rollout(undefined, restartAt)), `${restartAt}: the same restart`);
    t.notOk(update(rollout(undefined, restartAt), base), `${restartAt}, written back: the same restart`);
  }
  for (const restartAt of ['2030-01-02T03:04:06Z', '2030-01-02T04:04:06.001+01:00', '2031-01-01T00:00:00Z', '2030-01-02 03:04:05Z', '2030-01-02t03:04:05z']) {
    t.ok(update(base, rollout(undefined, restartAt)), `${restartAt}: a restart`);
  }
  t.ok(update(rollout(undefined), base), 'restartAt newly set: a restart');
  t.notOk(update(base, rollout(undefined)), 'restartAt removed: no restart');
  t.notOk(update(rollout(undefined, 'soon'), rollout(undefined, 'soon')), 'no date-time, unchanged');
  t.ok(update(rollout(undefined, 'soon'), rollout(undefined, 'later')), 'no date-time, changed');
  t.ok(update(rollout(undefined, '2030-02-31T00:00:00Z'), rollout(undefined, '2030-03-03T00:00:00Z')), 'no such day: compared as written');
});

t.test('a Deployment: its template as the apiserver hands it over (stored typed), as the exported CEL compares it', async (t) => {
  t.notOk(update(rollout({ limits: { cpu: '1' } }, undefined, 'Deployment'), rollout({ limits: { cpu: '1' } }, undefined, 'Deployment')), 'the same template');
  // The apiserver prints every quantity canonical before admission: another text never reaches the webhook.
  t.ok(update(rollout({ limits: { cpu: 1 } }, undefined, 'Deployment'), rollout({ limits: { cpu: '1' } }, undefined, 'Deployment')), 'another text is another template');
  const helm = rollout(undefined, undefined, 'Deployment');
  helm.spec.template.spec.tolerations = [];
  t.ok(update(rollout(undefined, undefined, 'Deployment'), helm), 'the Argo controller\'s write-back rules are not applied to a Deployment');
  t.ok(update(rollout({ limits: { cpu: '1' } }, undefined, 'Deployment'), rollout({ limits: { cpu: '2' } }, undefined, 'Deployment')), 'another value');
  t.ok(update(rollout({ limits: { cpu: '1' } }, undefined, 'StatefulSet'), rollout({ limits: { cpu: '1' }, requests: { cpu: '1' } }, undefined, 'StatefulSet')), 'a request added');
});

/**
 * The rest of the controller's write-back (encoding/json over the typed corev1.PodTemplateSpec of the release
 * the tests run; canonical-template.ts and the table argo-template-shape.ts): omitempty drops false, 0, "" and
 * empty lists and maps, never a pointer's value nor a struct; what the table does not know stays as written.
 */
t.test('a Rollout: what omitempty drops starts no rollout; a pointer, a struct or an unknown field does', async (t) => {
  type Change = (spec: Obj, container: Obj, template: Obj) => void;
  const variant = (change: Change) => {
    const object = rollout(undefined);
    change(object.spec.template.spec, object.spec.template.spec.containers[0], object.spec.template);
    return object;
  };
  const none: Array<[string, Change]> = [
    ['Helm\'s empty defaults', (s) => Object.assign(s, { tolerations: [], nodeSelector: {}, imagePullSecrets: [], volumes: [], affinity: undefined })],
    ['false and "" in the pod', (s) => Object.assign(s, { hostNetwork: false, hostPID: false, hostIPC: false, nodeName: '', dnsPolicy: '' })],
    ['empty lists and false in a container', (_s, c) => Object.assign(c, { args: [], command: [], env: [], envFrom: [], ports: [], volumeMounts: [], stdin: false, tty: false, workingDir: '' })],
    ['empty labels and annotations', (_s, _c, template) => Object.assign(template.metadata, { annotations: {} })],
    ['a null creationTimestamp (omitzero)', (_s, _c, template) => Object.assign(template.metadata, { creationTimestamp: null })],
    ['a probe\'s zero integers', (_s, c) => (c.readinessProbe = { httpGet: { path: '/', port: 8080 }, initialDelaySeconds: 0, successThreshold: 0 })],
    ['a quantity in an emptyDir', (s, c) => ((s.volumes = [{ name: 'v', emptyDir: { sizeLimit: '1024Mi' } }]), (c.volumeMounts = [{ name: 'v', mountPath: '/v' }]))],
    ['pod-level resources and overhead', (s) => Object.assign(s, { resources: { limits: { cpu: 1 } }, overhead: { memory: '1024Ki' } })],
    ['a container port with nothing else', (_s, c) => (c.ports = [{ containerPort: 8080, hostPort: 0, name: '', protocol: 'TCP' }])],
  ];
  const written: Array<[string, Change]> = [
    ['Helm\'s empty defaults', () => undefined],
    ['false and "" in the pod', () => undefined],
    ['empty lists and false in a container', () => undefined],
    ['empty labels and annotations', () => undefined],
    ['a null creationTimestamp (omitzero)', () => undefined],
    ['a probe\'s zero integers', (_s, c) => (c.readinessProbe = { httpGet: { path: '/', port: 8080 } })],
    ['a quantity in an emptyDir', (s, c) => ((s.volumes = [{ name: 'v', emptyDir: { sizeLimit: '1Gi' } }]), (c.volumeMounts = [{ name: 'v', mountPath: '/v' }]))],
    ['pod-level resources and overhead', (s) => Object.assign(s, { resources: { limits: { cpu: '1' } }, overhead: { memory: '1Mi' } })],
    ['a container port with nothing else', (_s, c) => (c.ports = [{ containerPort: 8080, protocol: 'TCP' }])],
  ];
  for (const [index, [source, change]] of none.entries()) {
    const asWritten = variant(change);
    const writtenBack = variant(written[index]![1]);
    t.notOk(update(asWritten, writtenBack), `${source}: written back, no rollout`);
    t.notOk(update(writtenBack, asWritten), `${source}: the other way, no rollout`);
  }
  const starts: Array<[string, Change]> = [
    ['a toleration', (s) => (s.tolerations = [{ key: 'a', operator: 'Exists' }])],
    ['hostNetwork: true', (s) => (s.hostNetwork = true)],
    ['privileged: false (a pointer: set is not unset)', (_s, c) => (c.securityContext = { privileged: false })],
    ['securityContext: {} (a pointer to a struct)', (s) => (s.securityContext = {})],
    ['terminationGracePeriodSeconds: 0 (a pointer)', (s) => (s.terminationGracePeriodSeconds = 0)],
    ['automountServiceAccountToken: false (a pointer)', (s) => (s.automountServiceAccountToken = false)],
    ['a field the table does not know, even empty', (s) => (s.someFutureField = {})],
    ['a value of the wrong type, kept as written', (s) => (s.hostNetwork = 'false')],
    ['an annotation', (_s, _c, template) => (template.metadata.annotations = { a: '' })],
  ];
  for (const [source, change] of starts) {
    t.ok(update(rollout(undefined), variant(change)), `${source}: a rollout`);
    t.ok(update(variant(change), rollout(undefined)), `${source}: removed, a rollout`);
  }
  const port = (value: unknown): Change => (_s, c) => (c.readinessProbe = { httpGet: { path: '/', port: value } });
  t.ok(update(variant(port(8080)), variant(port('8080'))), 'an IntOrString: 8080 and "8080" are two values');
});
