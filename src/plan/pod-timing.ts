/**
 * How long a pod of a workload takes to become Ready, and to go away once deleted, read from its template as
 * the kubelet runs it. What the template cannot say (how long the app takes to start listening, how long it
 * takes to exit after its stop signal) comes from the caller.
 */
import { asInteger, asRecord, type JsonObject } from '../util/object.js';
import { DEFAULT_GRACE_SECONDS, readPreStop } from '../workloads/pre-stop.js';
import type { Workload } from '../workloads/workload.js';

export interface TimingAssumptions {
  /** Seconds from a pod's creation until its containers run (scheduling, image pull, init containers). */
  podStartSeconds: number;
  /** Seconds from a container's start until the app answers its probes. */
  appStartSeconds: number;
  /** Seconds the app takes to exit after its stop signal (it drains meanwhile). */
  exitSeconds: number;
  /** Nodes a DaemonSet runs on, where its live object does not say (status.desiredNumberScheduled). */
  nodes?: number;
}

export interface PodTiming {
  readySeconds: number;
  terminatingSeconds: number;
  /** How each figure was found, for people. */
  readyBecause: string;
  terminatingBecause: string;
}

/** SetDefaults_Probe: a zero is replaced like an absent value. */
function probeField(probe: JsonObject, field: string, fallback: number): number {
  const value = asInteger(probe[field]);
  return value === undefined || (value === 0 && field !== 'initialDelaySeconds') ? fallback : value;
}

/**
 * When a probe first succeeds, for an app that answers from `answersAt` seconds after the container starts.
 * The kubelet's probe worker probes at the container's start and then every periodSeconds, skipping ticks
 * before initialDelaySeconds (prober worker doProbe); successThreshold successes in a row make it pass.
 */
function probePasses(probe: JsonObject, answersAt: number): number {
  const period = probeField(probe, 'periodSeconds', 10);
  const first = Math.max(probeField(probe, 'initialDelaySeconds', 0), answersAt);
  return Math.ceil(first / period) * period + (probeField(probe, 'successThreshold', 1) - 1) * period;
}

/**
 * One container's Ready time after it starts: its startupProbe first (readiness is not probed before it
 * passes), then readiness. Without a readiness probe the kubelet reports it Ready once it runs (or once its
 * startupProbe passes), whether the app listens or not.
 */
function containerReady(container: JsonObject, appStartSeconds: number): number {
  const startup = asRecord(container['startupProbe']);
  const started = startup ? probePasses(startup, appStartSeconds) : 0;
  const readiness = asRecord(container['readinessProbe']);
  return readiness ? probePasses(readiness, Math.max(started, appStartSeconds)) : started;
}

/**
 * The last moment a startupProbe lets its container start: the kubelet restarts the container after
 * failureThreshold failures in a row, so the app may first answer at the tick of the last allowed attempt.
 */
export function startupAllowance(probe: JsonObject): number {
  const period = probeField(probe, 'periodSeconds', 10);
  return Math.ceil(probeField(probe, 'initialDelaySeconds', 0) / period) * period + (probeField(probe, 'failureThreshold', 3) - 1) * period;
}

/**
 * How long a new pod may take to become Ready while its probes still allow it: each container starting as late
 * as its startupProbe lets it (at once without one), then passing its readiness probe.
 */
export function slowestReadySeconds(workload: Workload): number {
  return Math.max(
    0,
    ...workload.containers.map((container) => {
      const startup = asRecord(container.spec['startupProbe']);
      return containerReady(container.spec, startup ? startupAllowance(startup) : 0);
    }),
  );
}

export function podTiming(workload: Workload, assumptions: TimingAssumptions): PodTiming {
  // The pod is Ready when every container is (native sidecars included).
  const containersReady = Math.max(0, ...workload.containers.map((container) => containerReady(container.spec, assumptions.appStartSeconds)));
  const readySeconds = assumptions.podStartSeconds + containersReady;
  const probed = workload.containers.some((container) => asRecord(container.spec['readinessProbe']) || asRecord(container.spec['startupProbe']));
  const grace = asInteger(workload.podSpec['terminationGracePeriodSeconds']) ?? DEFAULT_GRACE_SECONDS;
  // preStop hooks run at once; the stop signal follows each, and the kubelet kills what is left at the grace period.
  let preStop = 0;
  for (const container of workload.containers) {
    const hook = readPreStop(container.spec);
    if (hook.kind === 'sleep') preStop = Math.max(preStop, hook.seconds);
  }
  const terminatingSeconds = Math.min(grace, preStop + assumptions.exitSeconds);
  return {
    readySeconds,
    terminatingSeconds,
    readyBecause:
      `${assumptions.podStartSeconds}s until the containers run, then ` +
      (probed
        ? `${containersReady}s of probes (initialDelaySeconds, periodSeconds x successThreshold, startupProbe first) for an app that answers ${assumptions.appStartSeconds}s after it starts`
        : 'Ready at once: no readiness or startup probe, so the kubelet does not wait for the app'),
    terminatingBecause:
      `preStop sleep ${preStop}s + ${assumptions.exitSeconds}s for the app to exit` + (preStop + assumptions.exitSeconds > grace ? `, cut at terminationGracePeriodSeconds ${grace}` : ''),
  };
}
