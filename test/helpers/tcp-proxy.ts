/**
 * A round-robin TCP proxy on loopback in front of several HTTPS backends, like a Service with kube-proxy:
 * it checks each backend's /readyz every 100 ms and sends new connections only to ready ones. TLS passes
 * through untouched.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface Backend {
  port: number;
  ready: boolean;
}

export interface TcpProxy {
  port: number;
  backends: Backend[];
  connectionsTo: Map<number, number>;
  close(): Promise<void>;
}

function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', rejectUnauthorized: false, timeout: 500 }, (response) => {
      response.resume();
      resolve(response.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

export async function startTcpProxy(ports: number[]): Promise<TcpProxy> {
  const backends: Backend[] = ports.map((port) => ({ port, ready: true }));
  const connectionsTo = new Map<number, number>();
  const sockets = new Set<Socket>();
  let next = 0;
  const timer = setInterval(() => {
    for (const backend of backends) void probe(backend.port).then((ready) => (backend.ready = ready));
  }, 100);
  const server: Server = createServer((client) => {
    const ready = backends.filter((backend) => backend.ready);
    const backend = ready[next++ % Math.max(ready.length, 1)];
    if (!backend) return client.destroy();
    connectionsTo.set(backend.port, (connectionsTo.get(backend.port) ?? 0) + 1);
    const upstream = connect(backend.port, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    backends,
    connectionsTo,
    close: () =>
      new Promise((resolve) => {
        clearInterval(timer);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
