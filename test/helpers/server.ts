import { request as httpsRequest, Agent } from 'node:https';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { startServer, type RunningServer, type ServerConfig } from '../../src/server/start.js';
import { makeCertificates, type TestCertificates } from './tls.js';

export interface TestServer extends RunningServer {
  certificates: TestCertificates;
  agent: Agent;
  /** Every JSON log line the server wrote. */
  logs: string[];
  post(path: string, body: string | Buffer, headers?: Record<string, string>): Promise<HttpResult>;
  get(path: string): Promise<HttpResult>;
  close(): Promise<void>;
}

export interface HttpResult {
  status: number;
  body: string;
  /** The request went over a kept-alive connection. */
  reusedSocket: boolean;
  json(): any;
}

/** Starts a real HTTPS server on an ephemeral loopback port, with its own certificates and captured logs. */
export async function startTestServer(config: Partial<ServerConfig> = {}): Promise<TestServer> {
  const certificates = makeCertificates();
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    metricsPort: 0,
    certFile: certificates.cert,
    keyFile: certificates.key,
    shutdownDelayMs: 0,
    watchIntervalMs: 100,
    logger: pino({ level: 'info' }, sink),
    ...config,
  });
  const agent = new Agent({ keepAlive: true, ca: certificates.ca, maxSockets: 16 });
  const url = new URL(server.url);
  const send = (method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}) =>
    new Promise<HttpResult>((resolve, reject) => {
      const request = httpsRequest({ host: url.hostname, port: url.port, path, method, agent, headers }, (response) => {
        const reusedSocket = request.reusedSocket;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          resolve({ status: response.statusCode ?? 0, body: text, reusedSocket, json: () => JSON.parse(text) });
        });
        response.on('error', reject);
      });
      request.on('error', reject);
      request.end(body);
    });
  return {
    ...server,
    certificates,
    agent,
    logs,
    post: (path, body, headers = { 'content-type': 'application/json' }) => send('POST', path, body, headers),
    get: (path) => send('GET', path),
    close: async () => {
      agent.destroy();
      await server.shutdown();
    },
  };
}
