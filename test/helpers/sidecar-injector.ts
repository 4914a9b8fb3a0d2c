/**
 * A second mutating webhook for the cluster tests: adds a "proxy" container (with a port and a readiness
 * probe, as mesh sidecars have) to the pod template of Deployments that lack one, the way sidecar injectors
 * work. Registered after rollsafe (configurations are called in name order), it makes the apiserver
 * reinvoke rollsafe (reinvocationPolicy: IfNeeded), which must then fix the injected container too.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import type { TestCertificates } from './tls.js';

export interface SidecarInjector {
  url: string;
  /** Names of the objects it was asked about, one entry per call. */
  calls: string[];
  close(): Promise<void>;
}

export const SIDECAR = {
  name: 'proxy',
  image: 'example.com/proxy:1.0',
  ports: [{ name: 'proxy', containerPort: 15001 }],
  readinessProbe: { tcpSocket: { port: 15001 } },
};

/**
 * Its MutatingWebhookConfiguration: Deployments in the namespaces `matchLabels` selects, never reinvoked
 * itself. The apiserver calls configurations in name order: a name after rollsafe's makes rollsafe's turn
 * come first, so rollsafe is reinvoked once the sidecar is in.
 */
export function injectorConfiguration(name: string, injector: SidecarInjector, ca: Buffer, matchLabels: Record<string, string>): Record<string, unknown> {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name },
    webhooks: [
      {
        name: `inject.${name}.example.com`,
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Fail',
        reinvocationPolicy: 'Never',
        clientConfig: { url: injector.url, caBundle: ca.toString('base64') },
        rules: [{ apiGroups: ['apps'], apiVersions: ['v1'], resources: ['deployments'], operations: ['CREATE', 'UPDATE'] }],
        namespaceSelector: { matchLabels },
      },
    ],
  };
}

export async function startSidecarInjector(certificates: TestCertificates): Promise<SidecarInjector> {
  const calls: string[] = [];
  const server: Server = createServer({ cert: readFileSync(certificates.cert), key: readFileSync(certificates.key) }, (request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const review = JSON.parse(body);
      const object = review.request.object;
      calls.push(`${review.request.namespace}/${object?.metadata?.name}`);
      const containers: Array<{ name: string }> = object?.spec?.template?.spec?.containers ?? [];
      const answer: Record<string, unknown> = { uid: review.request.uid, allowed: true };
      if (!containers.some((container) => container.name === SIDECAR.name)) {
        answer['patchType'] = 'JSONPatch';
        answer['patch'] = Buffer.from(JSON.stringify([{ op: 'add', path: '/spec/template/spec/containers/-', value: SIDECAR }])).toString('base64');
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ apiVersion: review.apiVersion, kind: 'AdmissionReview', response: answer }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}/inject`,
    calls,
    // The apiserver keeps idle connections open for 90 s: close them, or close() waits for them.
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
