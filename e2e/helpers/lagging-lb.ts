/**
 * A load balancer in front of a Service's pods the way an IP-mode cloud load balancer is (an AWS ALB or NLB
 * with target-type ip, fed by the AWS Load Balancer Controller; GKE's container-native NEGs alike): it sends
 * each new connection straight to a pod address, not through kube-proxy, and learns the addresses from the
 * Service's EndpointSlices, late. A pod becomes a target once its endpoint is ready; once its endpoint turns
 * terminating (`terminating: true`, or `ready: false`, or it leaves the slice), the target is deregistered only
 * `deregistrationDelaySeconds` later, and new connections still go to it meanwhile, as with a controller that
 * deregisters late and a load balancer that takes its time to stop sending.
 *
 * A TCP proxy on loopback: round robin over the targets; a connection whose target does not answer is closed
 * (the client sees a reset or its own timeout). It counts what it did, by target and whether the target was
 * being deregistered.
 */
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { getJson } from '../../test/helpers/pod-watch.js';

type Obj = Record<string, any>;

export interface LaggingLbOptions {
  kubeconfig: string;
  namespace: string;
  service: string;
  /** The pods' port (the Service's targetPort, as a number). */
  targetPort: number;
  deregistrationDelaySeconds: number;
}

export interface LaggingLbStats {
  connections: number;
  /** Connections sent to a target whose endpoint was already terminating (it was being deregistered). */
  toDeregistering: number;
  /** Connections whose target did not accept them (refused, unreachable, or no answer before the client gave up). */
  upstreamFailed: number;
  /** Of those, to a target being deregistered. */
  upstreamFailedDeregistering: number;
  /** Connections that found no target at all. */
  noTarget: number;
  /** Every target's registration and deregistration, as "ms since start: event address". */
  events: string[];
}

export interface LaggingLb {
  url: string;
  stats: LaggingLbStats;
  /** The addresses new connections go to now. */
  targets(): string[];
  close(): Promise<void>;
}

interface Target {
  address: string;
  /** When its endpoint was first seen terminating (Date.now()); undefined while it serves. */
  deregisteringSince?: number;
  removal?: NodeJS.Timeout;
}

export async function startLaggingLb(options: LaggingLbOptions): Promise<LaggingLb> {
  const started = Date.now();
  const stats: LaggingLbStats = { connections: 0, toDeregistering: 0, upstreamFailed: 0, upstreamFailedDeregistering: 0, noTarget: 0, events: [] };
  const targets = new Map<string, Target>();
  const slices = new Map<string, Obj>();
  const event = (what: string, address: string) => stats.events.push(`${Date.now() - started} ms: ${what} ${address}`);

  /** The endpoints of every slice, by address: ready (and serving new connections) or not. */
  const reconcile = () => {
    const ready = new Set<string>();
    const present = new Set<string>();
    for (const slice of slices.values()) {
      for (const endpoint of slice['endpoints'] ?? []) {
        const conditions = endpoint['conditions'] ?? {};
        for (const address of endpoint['addresses'] ?? []) {
          present.add(address);
          // EndpointSlice conditions: ready is false for a terminating endpoint; unset means ready.
          if (conditions['ready'] !== false && conditions['terminating'] !== true) ready.add(address);
        }
      }
    }
    for (const address of ready) {
      const target = targets.get(address);
      if (!target) {
        targets.set(address, { address });
        event('registered', address);
      }
    }
    for (const target of targets.values()) {
      if (ready.has(target.address) || target.deregisteringSince !== undefined) continue;
      target.deregisteringSince = Date.now();
      event(present.has(target.address) ? 'terminating, deregistering' : 'gone from the slice, deregistering', target.address);
      target.removal = setTimeout(() => {
        targets.delete(target.address);
        event('deregistered', target.address);
      }, options.deregistrationDelaySeconds * 1000);
    }
  };

  // The slices of the Service: listed, then watched from the list's resourceVersion (resumed when the server
  // ends the watch).
  const path = `/apis/discovery.k8s.io/v1/namespaces/${encodeURIComponent(options.namespace)}/endpointslices`;
  const labelSelector = `kubernetes.io/service-name=${options.service}`;
  const list = await getJson(options.kubeconfig, `${path}?labelSelector=${encodeURIComponent(labelSelector)}`);
  for (const slice of list['items']) slices.set(slice.metadata.name, slice);
  reconcile();
  const config = new KubeConfig();
  config.loadFromFile(options.kubeconfig);
  let resourceVersion: string = list['metadata'].resourceVersion;
  let stopped = false;
  let abort: AbortController | undefined;
  const watch = async (): Promise<void> => {
    abort = await new Watch(config).watch(
      path,
      { labelSelector, resourceVersion, allowWatchBookmarks: true },
      (type, object: Obj) => {
        if (type === 'ERROR') return;
        resourceVersion = object['metadata'].resourceVersion;
        if (type === 'BOOKMARK') return;
        if (type === 'DELETED') slices.delete(object['metadata'].name);
        else slices.set(object['metadata'].name, object);
        reconcile();
      },
      () => {
        if (!stopped) void watch().catch(() => undefined);
      },
    );
    if (stopped) abort.abort();
  };
  await watch();

  let next = 0;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    stats.connections++;
    const candidates = [...targets.values()];
    const target = candidates[next++ % Math.max(candidates.length, 1)];
    if (!target) {
      stats.noTarget++;
      client.destroy();
      return;
    }
    const deregistering = target.deregisteringSince !== undefined;
    if (deregistering) stats.toDeregistering++;
    const upstream = connect(options.targetPort, target.address);
    let connected = false;
    upstream.once('connect', () => (connected = true));
    const fail = () => {
      if (!connected) {
        connected = true; // count once
        stats.upstreamFailed++;
        if (deregistering) stats.upstreamFailedDeregistering++;
      }
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    upstream.on('error', fail);
    client.on('error', () => upstream.destroy());
    // The client gave up (its timeout) before the target answered: that connection failed at the target.
    client.on('close', () => {
      if (!connected) fail();
      upstream.destroy();
    });
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    stats,
    targets: () => [...targets.keys()],
    close: () =>
      new Promise<void>((resolve) => {
        stopped = true;
        abort?.abort();
        for (const target of targets.values()) clearTimeout(target.removal);
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
