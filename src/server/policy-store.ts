import type { Logger } from 'pino';
import { defaultPolicy, loadPolicyFile, PolicyError } from '../policy/load.js';
import type { Policy } from '../policy/types.js';
import { watchFiles } from './file-watch.js';
import type { Metrics } from './metrics.js';

/** The policy in force. Reloads when the file changes; an invalid file leaves the previous policy serving. */
export class PolicyStore {
  #policy: Policy;
  #stop: (() => void) | undefined;

  constructor(
    readonly path: string | undefined,
    private readonly logger: Logger,
    private readonly metrics: Metrics,
  ) {
    this.#policy = path === undefined ? defaultPolicy() : loadPolicyFile(path);
  }

  get current(): Policy {
    return this.#policy;
  }

  reload(): boolean {
    if (this.path === undefined) return true;
    try {
      this.#policy = loadPolicyFile(this.path);
      this.metrics.policyReloads.inc({ result: 'ok' });
      this.logger.info({ event: 'policy-reload', file: this.path, result: 'ok' }, 'policy reloaded');
      return true;
    } catch (error) {
      this.metrics.policyReloads.inc({ result: 'failed' });
      const problems = error instanceof PolicyError ? error.problems : [(error as Error).message];
      this.logger.error({ event: 'policy-reload', file: this.path, result: 'failed', problems }, 'policy reload failed; keeping the previous policy');
      return false;
    }
  }

  watch(intervalMs: number): void {
    if (this.path === undefined || this.#stop) return;
    this.#stop = watchFiles([this.path], intervalMs, () => this.reload());
  }

  close(): void {
    this.#stop?.();
    this.#stop = undefined;
  }
}
