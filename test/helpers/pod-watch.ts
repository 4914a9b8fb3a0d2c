/**
 * The pods of one namespace as the apiserver changes them: listed once, then watched from the list's
 * resourceVersion, so that no change between the two is lost and every change is seen in the apiserver's
 * order, however briefly a state lasts (polling would miss them). A watch the server ends is resumed from the
 * last resourceVersion seen; one it cannot resume (410 Gone) fails the waits.
 */
import { KubeConfig, Watch } from '@kubernetes/client-node';
import { connect } from '../../src/cluster/api.js';

type Obj = Record<string, any>;

export interface PodChange {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  pod: Obj;
}

export class PodWatch {
  /** The pods as they are now, by name. */
  readonly pods = new Map<string, Obj>();
  private readonly listeners = new Set<(change: PodChange) => void>();
  private readonly failures = new Set<(error: Error) => void>();
  private resourceVersion = '';
  private abort: AbortController | undefined;
  private stopped = false;
  private failure: Error | undefined;

  private constructor(
    private readonly config: KubeConfig,
    private readonly namespace: string,
  ) {}

  static async start(kubeconfig: string, namespace: string): Promise<PodWatch> {
    const config = new KubeConfig();
    config.loadFromFile(kubeconfig);
    const watch = new PodWatch(config, namespace);
    const list = await getJson(kubeconfig, watch.path());
    for (const pod of list['items']) watch.pods.set(pod.metadata.name, pod);
    watch.resourceVersion = list['metadata'].resourceVersion;
    await watch.resume();
    return watch;
  }

  /** Calls listener after every change, once `pods` holds it. */
  onChange(listener: (change: PodChange) => void): void {
    this.listeners.add(listener);
  }

  /** Resolves once done() holds: at once, or after the change that makes it hold. */
  until(what: string, done: () => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const finish = (error?: Error) => {
        clearTimeout(timer);
        this.listeners.delete(check);
        this.failures.delete(finish);
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        if (done()) finish();
      };
      const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`)), timeoutMs);
      this.listeners.add(check);
      this.failures.add(finish);
      if (this.failure) finish(this.failure);
      else check();
    });
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  private path(): string {
    return `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods`;
  }

  private async resume(): Promise<void> {
    const query = { resourceVersion: this.resourceVersion, allowWatchBookmarks: true };
    const abort = await new Watch(this.config).watch(this.path(), query, (type, object) => this.receive(type, object), (error) => {
      if (this.stopped) return;
      if (error) this.fail(new Error(`the pod watch of ${this.namespace} failed: ${error.message ?? error}`));
      else this.resume().catch((error: Error) => this.fail(error));
    });
    this.abort = abort;
    if (this.stopped) abort.abort();
  }

  private receive(type: string, object: Obj): void {
    if (type === 'ERROR') return this.fail(new Error(`the pod watch of ${this.namespace} ended: ${object['message']}`));
    this.resourceVersion = object['metadata'].resourceVersion;
    if (type === 'BOOKMARK') return;
    const name: string = object['metadata'].name;
    if (type === 'DELETED') this.pods.delete(name);
    else this.pods.set(name, object);
    for (const listener of [...this.listeners]) listener({ type: type as PodChange['type'], pod: object });
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.stop();
    for (const failed of [...this.failures]) failed(error);
  }
}

/** GET path through src/cluster/api.ts; the parsed body of a 200, else an error. */
export async function getJson(kubeconfig: string, path: string): Promise<Obj> {
  const api = await connect({ kubeconfig });
  try {
    const response = await api.request('GET', path);
    if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body as Obj;
  } finally {
    api.close();
  }
}

export function isReady(pod: Obj | undefined): boolean {
  return (pod?.['status']?.conditions ?? []).some((condition: Obj) => condition['type'] === 'Ready' && condition['status'] === 'True');
}
