/**
 * A create straight to the test apiserver as its admin (system:masters), as a server-side dry run: the whole
 * admission chain runs and nothing is stored. Many per second, no kubectl process per request.
 */
import { readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { ControlPlaneInfo } from './control-plane.js';

const RESOURCES: Record<string, string> = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' };

export interface DryRunAnswer {
  /** The HTTP status; 0 when no answer came (a network error or the timeout). */
  status: number;
  body: Record<string, any>;
  /** The apiserver's warnings (Warning headers), decoded. */
  warnings: string[];
}

/** RFC 7234 Warning header values, `299 - "text"`, possibly several comma-separated in one header. */
function parseWarnings(header: string): string[] {
  const texts: string[] = [];
  const pattern = /299 - "((?:[^"\\]|\\.)*)"/g;
  // Node reads header bytes as latin1; the apiserver writes UTF-8.
  for (let match = pattern.exec(header); match; match = pattern.exec(header)) texts.push(Buffer.from((match[1] as string).replace(/\\(.)/g, '$1'), 'latin1').toString('utf8'));
  return texts;
}

export function createDryRun(plane: ControlPlaneInfo, namespace: string, object: Record<string, any>, timeoutMs = 30_000): Promise<DryRunAnswer> {
  const resource = RESOURCES[object['kind']];
  if (!resource) throw new Error(`createDryRun: no resource for kind ${object['kind']}`);
  return dryRunRequest(plane, 'POST', `/apis/apps/v1/namespaces/${namespace}/${resource}`, object, {}, timeoutMs);
}

/** Any write to `path` (a collection for POST, an object for PUT) as a server-side dry run, with extra headers (impersonation). */
export function dryRunRequest(plane: ControlPlaneInfo, method: 'POST' | 'PUT', path: string, object: Record<string, any>, headers: Record<string, string> = {}, timeoutMs = 30_000): Promise<DryRunAnswer> {
  const pki = plane.pkiDir;
  return new Promise((resolve) => {
    const request = httpsRequest(
      `${plane.server}${path}?dryRun=All`,
      {
        method,
        ca: readFileSync(join(pki, 'ca.crt')),
        cert: readFileSync(join(pki, 'admin.crt')),
        key: readFileSync(join(pki, 'admin.key')),
        headers: { 'content-type': 'application/json', ...headers },
        timeout: timeoutMs,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Record<string, any>;
          try {
            body = JSON.parse(text);
          } catch {
            body = { message: text };
          }
          const header = response.headers['warning'];
          const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
          resolve({ status: response.statusCode ?? 0, body, warnings: lines.flatMap(parseWarnings) });
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer in ${timeoutMs} ms`)));
    request.on('error', (error) => resolve({ status: 0, body: { message: error.message }, warnings: [] }));
    request.end(JSON.stringify(object));
  });
}
