import { existsSync } from 'node:fs';
import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** A failure that ends the cluster audit with one line and exit code 2. */
export class ClusterError extends Error {
  override name = 'ClusterError';
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

export interface ApiClient {
  /** The API server URL and kubeconfig context, for messages. */
  server: string;
  context: string;
  /** The context's default namespace ("default" when unset). */
  namespace: string;
  request(method: 'GET' | 'PATCH', path: string, body?: { contentType: string; data: string }): Promise<ApiResponse>;
  /** Ends requests still in flight. */
  close(): void;
}

export interface ConnectOptions {
  kubeconfig?: string;
  context?: string;
  /** How long one request may take, from sending it to the end of the answer (default 30 s). */
  requestTimeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * Connects through @kubernetes/client-node's KubeConfig, which resolves the context, cluster, CA and
 * credentials (client certificates, tokens, exec plugins). Requests go out as plain HTTPS with those options,
 * so list pages arrive as the apiserver's own JSON without a typed-model copy of every object.
 * The library is imported here, lazily: the file audit never loads it.
 */
export async function connect(options: ConnectOptions): Promise<ApiClient> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const config = new KubeConfig();
  try {
    if (options.kubeconfig) config.loadFromFile(options.kubeconfig);
    else if (!defaultConfigExists()) {
      // loadFromDefault would fall back to http://localhost:8080 and fail later with a library message.
      throw new ClusterError('no kubeconfig found: give --kubeconfig FILE, set $KUBECONFIG, or create ~/.kube/config (in a pod, the service account is used)');
    } else config.loadFromDefault();
  } catch (error) {
    if (error instanceof ClusterError) throw error;
    throw new ClusterError(`cannot load kubeconfig ${options.kubeconfig ?? '(default)'}: ${(error as Error).message.split('\n')[0]}`);
  }
  if (options.context) {
    if (!config.getContextObject(options.context)) throw new ClusterError(`kubeconfig has no context "${options.context}"`);
    config.setCurrentContext(options.context);
  }
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new ClusterError(`kubeconfig context "${config.getCurrentContext()}" has no cluster`);
  const base = new URL(cluster.server);
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const live = new Set<ClientRequest>();

  return {
    server: cluster.server,
    context: config.getCurrentContext(),
    namespace: config.getContextObject(config.getCurrentContext())?.namespace || 'default',
    async request(method, path, body) {
      const url = new URL(path, base);
      const requestOptions: RequestOptions = {
        method,
        headers: { accept: 'application/json', ...(body ? { 'content-type': body.contentType } : {}) },
      };
      try {
        await config.applyToHTTPSOptions(requestOptions);
      } catch (error) {
        // Credentials the library cannot use (an exec plugin that fails, a plain-HTTP server without skip-TLS).
        throw new ClusterError(`cannot use the credentials of context "${config.getCurrentContext()}": ${(error as Error).message.split('\n')[0]}`);
      }
      const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
      const what = `${method} ${url.pathname}`;
      return new Promise<ApiResponse>((resolve, reject) => {
        let answered = false;
        let deadline: NodeJS.Timeout | undefined;
        const fail = (error: ClusterError) => {
          clearTimeout(deadline);
          live.delete(req);
          reject(error);
        };
        let req: ClientRequest;
        try {
          req = send(url, requestOptions, (response) => {
            answered = true;
            const chunks: Buffer[] = [];
            response.on('data', (chunk: Buffer) => chunks.push(chunk));
            response.on('end', () => {
              clearTimeout(deadline);
              const text = Buffer.concat(chunks).toString();
              let parsed: unknown = text;
              try {
                parsed = JSON.parse(text);
              } catch {
                // not JSON (e.g. a proxy's error page): keep the text for the message
              }
              live.delete(req);
              resolve({ status: response.statusCode ?? 0, body: parsed });
            });
            response.on('error', (error) => fail(broken(error, what, timeoutMs, cluster.server)));
            response.on('aborted', () => fail(broken(new Error('aborted'), what, timeoutMs, cluster.server)));
          });
        } catch (error) {
          // Refused before anything was sent: a header with a newline in a token, a server URL of another scheme.
          reject(new ClusterError(`cannot send a request to the API server ${cluster.server}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`));
          return;
        }
        live.add(req);
        // One deadline for the whole exchange: a server that sends headers and then stalls is cut off too.
        deadline = setTimeout(() => req.destroy(new TimeoutError()), timeoutMs);
        req.on('error', (error: NodeJS.ErrnoException) => {
          fail(answered || error instanceof TimeoutError ? broken(error, what, timeoutMs, cluster.server) : new ClusterError(`cannot reach the API server ${cluster.server}: ${error.code ?? error.message}`));
        });
        req.end(body?.data);
      });
    },
    close() {
      // Requests still running when the audit ended on another one's error: their sockets and deadlines
      // would keep the process alive until they finish or time out.
      for (const req of live) req.destroy();
      live.clear();
    },
  };
}

class TimeoutError extends Error {}

/** An exchange that started but did not finish: timed out, or the connection closed mid-answer. */
function broken(error: Error, what: string, timeoutMs: number, server: string): ClusterError {
  if (error instanceof TimeoutError) return new ClusterError(`the API server ${server} did not answer ${what} within ${timeoutMs / 1000} s (--request-timeout)`);
  return new ClusterError(`the API server ${server} closed the connection in the middle of the answer to ${what}`);
}

/** Where @kubernetes/client-node's loadFromDefault looks: $KUBECONFIG, ~/.kube/config, or a pod's service account. */
function defaultConfigExists(): boolean {
  const paths = (process.env['KUBECONFIG'] ?? '').split(delimiter).filter(Boolean);
  if (paths.some((path) => existsSync(path))) return true;
  if (existsSync(join(homedir(), '.kube', 'config'))) return true;
  return Boolean(process.env['KUBERNETES_SERVICE_HOST']) && existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token');
}
