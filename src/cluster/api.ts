import { request as httpRequest } from 'node:http';
import { request as httpsRequest, type RequestOptions } from 'node:https';

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
}

export interface ConnectOptions {
  kubeconfig?: string;
  context?: string;
}

const REQUEST_TIMEOUT_MS = 30_000;

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
    else config.loadFromDefault();
  } catch (error) {
    throw new ClusterError(`cannot load kubeconfig ${options.kubeconfig ?? '(default)'}: ${(error as Error).message.split('\n')[0]}`);
  }
  if (options.context) {
    if (!config.getContextObject(options.context)) throw new ClusterError(`kubeconfig has no context "${options.context}"`);
    config.setCurrentContext(options.context);
  }
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new ClusterError(`kubeconfig context "${config.getCurrentContext()}" has no cluster`);
  const base = new URL(cluster.server);

  return {
    server: cluster.server,
    context: config.getCurrentContext(),
    namespace: config.getContextObject(config.getCurrentContext())?.namespace || 'default',
    async request(method, path, body) {
      const url = new URL(path, base);
      const options: RequestOptions = {
        method,
        headers: { accept: 'application/json', ...(body ? { 'content-type': body.contentType } : {}) },
        timeout: REQUEST_TIMEOUT_MS,
      };
      await config.applyToHTTPSOptions(options);
      const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
      return new Promise<ApiResponse>((resolve, reject) => {
        const req = send(url, options, (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {
              // not JSON (e.g. a proxy's error page): keep the text for the message
            }
            resolve({ status: response.statusCode ?? 0, body: parsed });
          });
          response.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000}s`)));
        req.on('error', (error: NodeJS.ErrnoException) =>
          reject(new ClusterError(`cannot reach the API server ${cluster.server}: ${error.code ?? error.message}`)),
        );
        req.end(body?.data);
      });
    },
  };
}
