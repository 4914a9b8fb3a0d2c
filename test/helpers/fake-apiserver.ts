/**
 * A stand-in Kubernetes API server, only for the faults a real kube-apiserver cannot be made to show
 * (test/cluster-faults.test.ts; everything else runs against the real one in cluster-audit.test.ts): pages
 * shorter than `limit` (at most PAGE items, with continue tokens), 500s, answers that never come, stall or
 * are cut mid-body, and bodies that are no list. Serves objects a real kube-apiserver returned (the captured
 * AdmissionReviews), reached through a real kubeconfig file.
 */
import { createServer, type Server } from 'node:https';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { FIXTURES } from './fixtures.js';
import { makeCertificates } from './tls.js';

export const TOKEN = 'test-token-7f3a';
const PAGE = 3;

type Obj = Record<string, any>;

function admissionObject(file: string, namespace: string, uid: string): Obj {
  const object = structuredClone(JSON.parse(readFileSync(join(FIXTURES, 'admission', file), 'utf8')).request.object);
  object.metadata = { ...object.metadata, namespace, uid };
  delete object.apiVersion; // list items come without apiVersion and kind
  delete object.kind;
  return object;
}

export interface ClusterData {
  namespaces: Obj[];
  /** namespace -> collection (deployments, services, ...) -> items */
  items: Record<string, Record<string, Obj[]>>;
  forbidden: Set<string>;
}

export function recordedCluster(): ClusterData {
  const boutique = ['adservice', 'cartservice', 'checkoutservice', 'currencyservice', 'emailservice', 'frontend', 'loadgenerator'].map((name, index) =>
    admissionObject(`boutique--deployment-create-${name}.json`, 'infra', `00000000-0000-0000-0000-00000000010${index}`),
  );
  const operated = admissionObject('deploy-create-good--deployment-create.json', 'shop', 'aaaaaaaa-0000-0000-0000-000000000002');
  operated.metadata.name = 'api-operated';
  operated.metadata.ownerReferences = [{ apiVersion: 'example.com/v1', kind: 'AppSet', name: 'storefront', uid: 'x', controller: true }];
  operated.spec.replicas = 1;
  return {
    namespaces: [
      { metadata: { name: 'default', labels: { 'kubernetes.io/metadata.name': 'default' } } },
      { metadata: { name: 'infra', labels: { 'kubernetes.io/metadata.name': 'infra' } } },
      { metadata: { name: 'legacy', labels: { 'kubernetes.io/metadata.name': 'legacy', 'rollsafe.dev/mode': 'warn' } } },
      { metadata: { name: 'secret-team', labels: { 'kubernetes.io/metadata.name': 'secret-team' } } },
      { metadata: { name: 'shop', labels: { 'kubernetes.io/metadata.name': 'shop' } } },
    ],
    items: {
      default: { statefulsets: [admissionObject('cassandra--statefulset-create.json', 'default', 'cccccccc-0000-0000-0000-000000000001')] },
      infra: { deployments: boutique },
      legacy: { deployments: [admissionObject('deploy-create-noprobes--deployment-create.json', 'legacy', 'dddddddd-0000-0000-0000-000000000001')] },
      shop: {
        deployments: [
          admissionObject('deploy-create-noprobes--deployment-create.json', 'shop', 'aaaaaaaa-0000-0000-0000-000000000001'),
          admissionObject('deploy-create-good--deployment-create.json', 'shop', 'aaaaaaaa-0000-0000-0000-000000000003'),
          operated,
        ],
        services: [{ metadata: { name: 'api', namespace: 'shop' }, spec: { selector: { app: 'api' }, ports: [{ port: 80 }] } }],
        horizontalpodautoscalers: [],
        poddisruptionbudgets: [{ metadata: { name: 'api', namespace: 'shop' }, spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'api' } } } }],
        persistentvolumeclaims: [],
      },
    },
    forbidden: new Set(['secret-team']),
  };
}

const LIST_KIND: Record<string, [string, string]> = {
  namespaces: ['v1', 'NamespaceList'],
  deployments: ['apps/v1', 'DeploymentList'],
  statefulsets: ['apps/v1', 'StatefulSetList'],
  daemonsets: ['apps/v1', 'DaemonSetList'],
  services: ['v1', 'ServiceList'],
  horizontalpodautoscalers: ['autoscaling/v2', 'HorizontalPodAutoscalerList'],
  poddisruptionbudgets: ['policy/v1', 'PodDisruptionBudgetList'],
  persistentvolumeclaims: ['v1', 'PersistentVolumeClaimList'],
};

export interface FakeApiServer {
  url: string;
  kubeconfig: string;
  /** Every request line, e.g. "GET /apis/apps/v1/namespaces/shop/deployments?limit=250". */
  requests: string[];
  applied: Array<{ path: string; contentType: string; body: Obj }>;
  close(): Promise<void>;
}

function status(code: number, reason: string, message: string): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

export type Fault = 'status500' | 'status404' | 'hang' | 'stall' | 'cut' | 'garbage' | 'same-continue';

export interface FakeOptions {
  policyReportCrd?: boolean;
  /** Requests whose path starts with `path` get the fault instead of an answer. */
  faults?: Array<{ path: string; fault: Fault }>;
}

export async function startFakeApiServer(data: ClusterData = recordedCluster(), options: FakeOptions = {}): Promise<FakeApiServer> {
  const certificates = makeCertificates();
  const requests: string[] = [];
  const applied: FakeApiServer['applied'] = [];
  const server: Server = createServer({ cert: readFileSync(certificates.cert), key: readFileSync(certificates.key) }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://x');
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    const send = (code: number, body: Obj) => res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.headers.authorization !== `Bearer ${TOKEN}`) return send(401, status(401, 'Unauthorized', 'Unauthorized'));
    const fault = options.faults?.find((candidate) => url.pathname.startsWith(candidate.path))?.fault;
    switch (fault) {
      case 'status500':
        return send(500, status(500, 'InternalError', 'Internal error occurred: etcdserver: request timed out'));
      case 'hang':
        return; // never answered
      case 'stall':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"kind":"DeploymentList","items":[');
        return; // headers and half a body, then nothing
      case 'cut':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"kind":"DeploymentList","items":[', () => res.socket?.destroy());
        return;
      case 'garbage':
        return res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Bad gateway</body></html>');
      case 'status404':
        return send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
      case 'same-continue':
        return send(200, { apiVersion: 'apps/v1', kind: 'DeploymentList', metadata: { continue: 'again' }, items: [] });
    }
    let bodyText = '';
    req.on('data', (chunk) => (bodyText += chunk));
    req.on('end', () => {
      const parts = url.pathname.split('/').filter(Boolean);
      if (req.method === 'PATCH' && parts[1] === 'wgpolicyk8s.io') {
        if (options.policyReportCrd === false) return send(404, status(404, 'NotFound', 'the server could not find the requested resource'));
        applied.push({ path: `${url.pathname}${url.search}`, contentType: String(req.headers['content-type']), body: JSON.parse(bodyText) });
        return send(201, JSON.parse(bodyText));
      }
      let items: Obj[];
      let collection: string;
      if (parts.join('/') === 'api/v1/namespaces') {
        collection = 'namespaces';
        items = data.namespaces;
      } else if (parts[0] === 'api' && parts[2] === 'namespaces' && parts.length === 4) {
        const namespace = data.namespaces.find((ns) => ns.metadata.name === parts[3]);
        return namespace ? send(200, { apiVersion: 'v1', kind: 'Namespace', ...namespace }) : send(404, status(404, 'NotFound', `namespaces "${parts[3]}" not found`));
      } else {
        const index = parts.indexOf('namespaces');
        const namespace = parts[index + 1] ?? '';
        collection = parts[index + 2] ?? '';
        if (data.forbidden.has(namespace)) {
          return send(403, status(403, 'Forbidden', `${collection} is forbidden: User "audit" cannot list resource "${collection}" in the namespace "${namespace}"`));
        }
        items = data.items[namespace]?.[collection] ?? [];
      }
      const limit = Math.min(Number(url.searchParams.get('limit') ?? 500), PAGE);
      const start = Number(url.searchParams.get('continue') ?? 0);
      const page = items.slice(start, start + limit);
      const next = start + limit < items.length ? String(start + limit) : undefined;
      const [apiVersion, kind] = LIST_KIND[collection] ?? ['v1', 'List'];
      return send(200, { apiVersion, kind, metadata: { resourceVersion: '12345', ...(next ? { continue: next } : {}) }, items: page });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = join(mkdtempSync(join(tmpdir(), 'rollsafe-kubeconfig-')), 'config');
  writeFileSync(
    kubeconfig,
    `apiVersion: v1
kind: Config
clusters:
  - name: test
    cluster:
      server: ${url}
      certificate-authority-data: ${certificates.ca.toString('base64')}
  - name: nowhere
    cluster:
      server: https://127.0.0.1:1
users:
  - name: auditor
    user:
      token: ${TOKEN}
  - name: stranger
    user:
      token: wrong-token
contexts:
  - name: test
    context: {cluster: test, user: auditor, namespace: shop}
  - name: bad-credentials
    context: {cluster: test, user: stranger}
  - name: unreachable
    context: {cluster: nowhere, user: auditor}
current-context: test
`,
  );
  return { url, kubeconfig, requests, applied, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
