import t from 'tap';
import { allowedDisruptions } from '../src/rules/disruption-budget/rule.js';
import { resolveIntOrPercent } from '../src/workloads/int-or-percent.js';
import { selectorMatches } from '../src/workloads/label-selector.js';
import { readPreStop, sleepSeconds, supportsNativeSleep } from '../src/workloads/pre-stop.js';

const exec = (...command: unknown[]) => ({ lifecycle: { preStop: { exec: { command } } } });

t.test('preStop forms', async (t) => {
  t.same(readPreStop({}), { kind: 'none' });
  t.same(readPreStop({ lifecycle: { preStop: {} } }), { kind: 'none' });
  t.same(readPreStop({ lifecycle: { preStop: { sleep: { seconds: 12 } } } }), { kind: 'sleep', seconds: 12, form: 'native' });
  t.same(readPreStop(exec('sleep', '10')), { kind: 'sleep', seconds: 10, form: 'exec' });
  t.same(readPreStop(exec('/bin/sleep', '15s')), { kind: 'sleep', seconds: 15, form: 'exec' });
  t.same(readPreStop(exec('busybox', 'sleep', '5')), { kind: 'sleep', seconds: 5, form: 'exec' });
  t.same(readPreStop(exec('sh', '-c', 'sleep 20')), { kind: 'sleep', seconds: 20, form: 'exec' });
  t.same(readPreStop(exec('/bin/bash', '-ec', 'sleep 10 && nginx -s quit')), { kind: 'sleep', seconds: 10, form: 'exec' });
  t.same(readPreStop(exec('/bin/sh', '-c', 'sleep 2m; kill 1')), { kind: 'sleep', seconds: 120, form: 'exec' });
  t.match(readPreStop(exec('sh', '-c', 'nginx -s quit && sleep 10')), { kind: 'custom' }, 'the sleep must come first');
  t.match(readPreStop(exec('/wait-shutdown')), { kind: 'custom', description: 'exec /wait-shutdown' });
  t.match(readPreStop(exec('sleep', 'infinity')), { kind: 'custom' });
  t.match(readPreStop({ lifecycle: { preStop: { httpGet: { path: '/drain', port: 8080 } } } }), { kind: 'custom', description: 'httpGet /drain' });
  t.equal(sleepSeconds('1.5'), 1.5);
  t.equal(sleepSeconds('1h'), 3600);
  t.equal(sleepSeconds('-1'), undefined);
  t.ok(supportsNativeSleep('1.30'));
  t.ok(supportsNativeSleep('v1.32.1'));
  t.notOk(supportsNativeSleep('1.29'));
});

t.test('IntOrString resolution rounds like the controllers', async (t) => {
  t.equal(resolveIntOrPercent('25%', 1, 'up'), 1);
  t.equal(resolveIntOrPercent('25%', 1, 'down'), 0);
  t.equal(resolveIntOrPercent('25%', 10, 'down'), 2);
  t.equal(resolveIntOrPercent('100%', 3, 'down'), 3);
  t.equal(resolveIntOrPercent(2, 10, 'down'), 2);
  t.equal(resolveIntOrPercent('x', 10, 'down'), undefined);
  t.equal(resolveIntOrPercent(-1, 10, 'down'), undefined);
});

t.test('label selectors', async (t) => {
  const labels = { app: 'api', tier: 'web' };
  t.ok(selectorMatches({ matchLabels: { app: 'api' } }, labels));
  t.notOk(selectorMatches({ matchLabels: { app: 'db' } }, labels));
  t.ok(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'In', values: ['web', 'edge'] }] }, labels));
  t.notOk(selectorMatches({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, labels));
  t.ok(selectorMatches({ matchExpressions: [{ key: 'track', operator: 'NotIn', values: ['canary'] }] }, labels));
  t.ok(selectorMatches({ matchExpressions: [{ key: 'app', operator: 'Exists' }] }, labels));
  t.notOk(selectorMatches({ matchExpressions: [{ key: 'app', operator: 'DoesNotExist' }] }, labels));
  t.notOk(selectorMatches({ matchExpressions: [{ key: 'app', operator: 'Bogus' }] }, labels));
  t.ok(selectorMatches({}, labels), 'no requirements: matches all');
});

t.test('PDB allowed disruptions', async (t) => {
  const pdb = (spec: object, apiVersion = 'policy/v1') => ({ apiVersion, kind: 'PodDisruptionBudget', spec });
  t.equal(allowedDisruptions(pdb({ maxUnavailable: 1 }), 3), 1);
  t.equal(allowedDisruptions(pdb({ maxUnavailable: '10%' }), 3), 1, 'rounds up');
  t.equal(allowedDisruptions(pdb({ minAvailable: 3 }), 3), 0);
  t.equal(allowedDisruptions(pdb({ minAvailable: '50%' }), 3), 1, '50% of 3 rounds up to 2 available');
  t.equal(allowedDisruptions(pdb({ minAvailable: '100%' }), 5), 0);
  t.equal(allowedDisruptions(pdb({ maxUnavailable: 0 }), 5), 0);
  t.equal(allowedDisruptions(pdb({}), 3), 0, 'neither set: the disruption controller allows nothing');
  t.equal(allowedDisruptions(pdb({}, 'policy/v1beta1'), 3), 0);
});

t.test('probe equality applies API defaults and resolves named ports', async (t) => {
  const { probesEqual } = await import('../src/rules/probes-identical/rule.js');
  const container = { ports: [{ name: 'http', containerPort: 8080 }] };
  t.ok(probesEqual({ httpGet: { path: '/h', port: 'http' } }, { httpGet: { path: '/h', port: 8080, scheme: 'HTTP' }, periodSeconds: 10, failureThreshold: 3 }, container));
  t.ok(probesEqual({ httpGet: { port: 8080 } }, { httpGet: { path: '/', port: 8080 } }, container), 'path defaults to /');
  t.ok(probesEqual({ httpGet: { path: '', port: 8080 } }, { httpGet: { port: 8080 } }, container), 'empty path is defaulted too');
  t.notOk(probesEqual({ httpGet: { path: '/h', port: 8080 } }, { httpGet: { path: '/h', port: 8080 }, failureThreshold: 6 }, container));
  t.notOk(probesEqual({ httpGet: { path: '/a', port: 8080 } }, { httpGet: { path: '/b', port: 8080 } }, container));
  t.notOk(probesEqual({ httpGet: { path: '/h', port: 8080 } }, { tcpSocket: { port: 8080 } }, container));
  t.ok(probesEqual({ grpc: { port: 9555 } }, { grpc: { port: 9555 }, timeoutSeconds: 1 }, container));
  t.ok(probesEqual({ exec: { command: ['ready'] } }, { exec: { command: ['ready'] } }, container));
  t.notOk(probesEqual({ exec: { command: ['ready'] } }, { exec: { command: ['live'] } }, container));
});

t.test('rollsafe rules ID: every rule explained, and its example manifest passes every rule', async (t) => {
  const { RULE_IDS } = await import('../src/rules/index.js');
  const { runCli } = await import('./helpers/run-cli.js');
  for (const id of RULE_IDS) {
    const run = await runCli(['rules', id]);
    t.equal(run.code, 0, id);
    t.match(run.stdout, new RegExp(`^${id}: `));
    t.match(run.stdout, /Why: .{40,}/);
    const example = run.stdout.split('A manifest that passes:\n\n')[1]?.split('\nTo exempt one workload')[0] ?? '';
    const audit = await runCli(['audit', '-', '--output', 'json', '--fail-on', 'warning'], { stdin: example });
    const report = JSON.parse(audit.stdout);
    t.equal(report.summary.objects, 1, `${id}: the example holds a workload`);
    t.same(report.results[0].findings, [], `${id}: the example passes every rule`);
    t.equal(audit.code, 0);
  }
  const json = JSON.parse((await runCli(['rules', 'grace-period', '-o', 'json'])).stdout);
  t.match(json, { id: 'grace-period', fixable: true, why: /SIGKILL/, example: /terminationGracePeriodSeconds/ });
});
