/**
 * What the rollout simulations share: the controllers react at once to every change, so a rollout is a run of
 * instants (milliseconds from the template change) at which pods become Ready or available or finish
 * terminating; at each, the controller syncs until it has nothing more to do.
 */
import type { RolloutStep } from './deployment-rollout.js';

/** Steps recorded in order; a step equal to the one before it adds nothing. */
export function appendStep(steps: RolloutStep[], step: RolloutStep): void {
  const last = steps[steps.length - 1];
  if (!last || last.at !== step.at || last.old !== step.old || last.new !== step.new || last.ready !== step.ready || last.terminating !== step.terminating) steps.push(step);
}

export interface Controller {
  /** One sync at `now`; true when it changed anything (the controller then syncs again). */
  sync(now: number): boolean;
  /** Records the state once the controller has settled at `now`. */
  settle(now: number): void;
  done(now: number): boolean;
  /** Every time something will happen to a pod (ready, available, gone), past ones included. */
  upcoming(): number[];
}

/** Runs the instants until the rollout is done; the time it ends, in milliseconds. */
export function runInstants(controller: Controller): number {
  let now = 0;
  for (;;) {
    while (controller.sync(now)) {
      // The controller syncs again after every write it makes.
    }
    controller.settle(now);
    if (controller.done(now)) return now;
    const next = controller.upcoming().filter((at) => at > now);
    // Nothing left to wait for yet not done: a stuck rollout (it cannot be with valid input).
    if (next.length === 0) return now;
    now = Math.min(...next);
  }
}

/** The totals every prediction reports, from its steps. */
export function totals(steps: RolloutStep[]): { peakPods: number; minReady: number } {
  return {
    peakPods: Math.max(...steps.map((step) => step.old + step.new + step.terminating)),
    minReady: Math.min(...steps.map((step) => step.ready)),
  };
}
