/**
 * Pods on kwok's nodes that behave like an app with a readiness delay and a preStop sleep: the annotations
 * that select the timed stages of kwok-timed-stages.yaml, which control-plane.ts gives kwok. A pod without
 * them keeps kwok's fast stages: Running and Ready at once, removed at once when deleted.
 */
import { join } from 'node:path';
import { TEST_DIR } from './fixtures.js';

export const TIMED_STAGES_FILE = join(TEST_DIR, 'helpers', 'kwok-timed-stages.yaml');

export interface PodTiming {
  /** The pod becomes Running and Ready this long after it is scheduled. */
  readyAfterMs?: number;
  /** A deleted pod stays Terminating this long (keep it within terminationGracePeriodSeconds, as a preStop sleep). */
  terminateAfterMs?: number;
}

/** The annotations that give a pod (or a pod template) this timing. */
export function timedPodAnnotations(timing: PodTiming): Record<string, string> {
  const annotations: Record<string, string> = {};
  if (timing.readyAfterMs !== undefined) annotations['plan.rollsafe.dev/ready-after-ms'] = String(timing.readyAfterMs);
  if (timing.terminateAfterMs !== undefined) annotations['plan.rollsafe.dev/terminate-after-ms'] = String(timing.terminateAfterMs);
  return annotations;
}
