import { createServer, type Server } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { trackConnections } from './connections.js';
import { createMetrics, type Metrics } from './metrics.js';
import { PolicyStore } from './policy-store.js';
import { loadKeyPair, watchKeyPair } from './tls-reloader.js';

export interface ServerConfig {
  host: string;
  port: number;
  /** 0 picks a free port; negative disables the metrics listener. */
  metricsPort: number;
  certFile: string;
  keyFile: string;
  policyFile?: string;
  shutdownDelayMs: number;
  /** How often certificate and policy files are checked for changes. */
  watchIntervalMs: number;
  logger: Logger;
  /** Slow-client limits (defaults: headers 10 s, whole request 30 s). */
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** Distinct namespace label values in rollsafe_findings_total (tests lower it). */
  maxNamespaceLabels?: number;
}

export interface RunningServer {
  app: FastifyInstance;
  metrics: Metrics;
  url: string;
  metricsUrl: string | undefined;
  /** Graceful stop: /readyz fails at once, keep serving for the delay, then stop accepting and drain. */
  shutdown(): Promise<void>;
}

function listenMetrics(metrics: Metrics, host: string, port: number): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url?.split('?')[0] === '/metrics') {
      metrics.registry.metrics().then(
        (body) => response.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
        () => response.writeHead(500).end('metrics unavailable\n'),
      );
      return;
    }
    response.writeHead(404, { 'content-type': 'text/plain' }).end('see /metrics\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

function urlOf(host: string, address: AddressInfo | string | null, scheme: string): string {
  const port = typeof address === 'object' && address ? address.port : 0;
  const shown = host.includes(':') ? `[${host}]` : host;
  return `${scheme}://${shown}:${port}`;
}

export async function startServer(config: ServerConfig): Promise<RunningServer> {
  const { logger } = config;
  const metrics = createMetrics();
  const policy = new PolicyStore(config.policyFile, logger, metrics);
  const tls = loadKeyPair(config.certFile, config.keyFile);
  let shuttingDown = false;
  const app = buildApp({
    policy,
    logger,
    metrics,
    tls,
    isReady: () => !shuttingDown,
    isDraining: () => shuttingDown,
    ...(config.headersTimeoutMs !== undefined ? { headersTimeoutMs: config.headersTimeoutMs } : {}),
    ...(config.requestTimeoutMs !== undefined ? { requestTimeoutMs: config.requestTimeoutMs } : {}),
    ...(config.maxNamespaceLabels !== undefined ? { maxNamespaceLabels: config.maxNamespaceLabels } : {}),
  });
  const connections = trackConnections(app.server as unknown as Http2SecureServer);
  await app.listen({ host: config.host, port: config.port });
  const stopCertificates = watchKeyPair(app.server as never, { cert: config.certFile, key: config.keyFile }, config.watchIntervalMs, logger, metrics);
  policy.watch(config.watchIntervalMs);
  const metricsServer = config.metricsPort >= 0 ? await listenMetrics(metrics, config.host, config.metricsPort) : undefined;
  const url = urlOf(config.host, app.server.address(), 'https');
  const metricsUrl = metricsServer ? `${urlOf(config.host, metricsServer.address(), 'http')}/metrics` : undefined;

  let stopped: Promise<void> | undefined;
  const shutdown = () => {
    stopped ??= (async () => {
      shuttingDown = true;
      logger.info({ event: 'shutdown', delayMs: config.shutdownDelayMs }, 'shutting down: readyz fails, still serving during the delay');
      await new Promise((resolve) => setTimeout(resolve, config.shutdownDelayMs));
      stopCertificates();
      policy.close();
      // Idle keep-alive connections (the apiserver's) would hold close() for up to 90 s.
      connections.closeIdle();
      await app.close();
      await new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve()));
      logger.info({ event: 'shutdown' }, 'stopped');
    })();
    return stopped;
  };
  return { app, metrics, url, metricsUrl, shutdown };
}
