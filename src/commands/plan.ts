import { parseArgs } from 'node:util';
import { collectInputs, skippedNote } from '../manifests/collect.js';
import type { ArgoRolloutPlan } from '../plan/argo-rollout-plan.js';
import type { WorkloadPlan } from '../plan/plan.js';
import type { TimingAssumptions } from '../plan/pod-timing.js';
import { oneOf, UsageError, type Io } from './io.js';
import type { Policy } from '../policy/types.js';
import { CLUSTER_OPTIONS, POLICY_OPTIONS, policyFromFlags } from './load-policy.js';

const OUTPUTS = ['text', 'json', 'svg'] as const;

/** A number of seconds from a flag: a finite number from 0 to a day. */
function seconds(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0 || number > 86400) {
    throw new UsageError(`${flag} must be a number of seconds from 0 to 86400 (got ${JSON.stringify(value.slice(0, 20))})`);
  }
  return number;
}

/** --nodes: how many nodes a DaemonSet runs on (a live one's status says it). */
function nodeCount(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!/^[0-9]+$/.test(value) || number < 1 || number > 100000) throw new UsageError(`--nodes must be a whole number of nodes from 1 to 100000 (got ${JSON.stringify(value.slice(0, 20))})`);
  return number;
}

function where(plan: WorkloadPlan): string {
  return `${plan.kind} ${plan.namespace ? `${plan.namespace}/` : ''}${plan.name}`;
}

/** An Argo Rollout's update by phase: its canary steps, or its blue-green preview, switch and scale-down. */
function argoRolloutLines(argo: ArgoRolloutPlan): string[] {
  const lines: string[] = [];
  if (argo.strategy === 'canary') {
    lines.push(`  canary update of ${argo.replicas} replica(s), ${argo.trafficRouting ? 'traffic routed' : 'no traffic router: the weight is a share of pods'}:`);
    lines.push('    step                         canary  stable  canary share');
    for (const step of argo.steps) {
      const share = `${step.canaryShare}%${step.unpredictable ? ' (no pod count holds this weight: the controller falls back)' : ''}`;
      lines.push(`    ${`${step.index}: ${step.step}`.padEnd(28)} ${String(step.canaryPods).padStart(6)}  ${String(step.stablePods).padStart(6)}  ${share}`);
    }
    lines.push(`    then all ${argo.finalCanaryPods} replica(s) run the new template${argo.stableScaleDownDelaySeconds !== null ? `; the previous stable keeps its pods ${argo.stableScaleDownDelaySeconds}s more` : ''}`);
    return lines;
  }
  const blueGreen = argo.blueGreen;
  if (!blueGreen) return lines;
  const promotion = typeof blueGreen.promotion === 'object' ? `promoted ${blueGreen.promotion.afterSeconds}s after the preview is ready` : `promotion ${blueGreen.promotion}`;
  lines.push(`  blue-green update of ${argo.replicas} replica(s): ${blueGreen.previewPods} preview pod(s), ${promotion}`);
  lines.push(
    `    peak ${blueGreen.peakPods} pods, at least ${blueGreen.readyFloor} Ready; ${blueGreen.switchSeconds === null ? 'the active Service switches when promoted' : `the active Service switches at about ${blueGreen.switchSeconds}s`}; ${
      blueGreen.scaleDownDelaySeconds === null ? 'the old pods are never scaled down (scaleDownDelaySeconds 0)' : `the old pods go ${blueGreen.scaleDownDelaySeconds}s after the switch`
    }${blueGreen.completeSeconds !== null ? `, done in about ${blueGreen.completeSeconds}s` : ''}`,
  );
  return lines;
}

export function planText(plans: WorkloadPlan[]): string {
  const lines: string[] = [];
  for (const plan of plans) {
    lines.push(`${where(plan)} (${plan.file})`);
    lines.push(`  pods: Ready ${plan.timing.readySeconds}s after creation (${plan.timing.readyBecause}); gone ${plan.timing.terminatingSeconds}s after deletion (${plan.timing.terminatingBecause})`);
    const rollout = plan.rollout;
    if (plan.argoRollout) {
      lines.push(...argoRolloutLines(plan.argoRollout));
    } else if (!rollout) {
      lines.push(`  rollout: not predicted: ${plan.why ?? ''}`);
    } else {
      const strategy =
        plan.kind === 'DaemonSet'
          ? `RollingUpdate on ${rollout.replicas} node(s), maxSurge ${rollout.maxSurge}, maxUnavailable ${rollout.maxUnavailable}`
          : plan.kind === 'StatefulSet'
          ? `RollingUpdate, ${rollout.podManagementPolicy}, maxUnavailable ${rollout.maxUnavailable}${rollout.partition ? `, partition ${rollout.partition}` : ''}`
          : rollout.strategy === 'RollingUpdate'
            ? `RollingUpdate, maxSurge ${rollout.maxSurge}, maxUnavailable ${rollout.maxUnavailable}`
            : rollout.strategy;
      lines.push(`  rollout of ${rollout.replicas} ${plan.kind === 'DaemonSet' ? 'pod(s)' : 'replica(s)'}, ${strategy}${rollout.minReadySeconds ? `, minReadySeconds ${rollout.minReadySeconds}` : ''}:`);
      lines.push('      time   old   new  ready  terminating  pods');
      for (const step of rollout.steps) {
        const cells = [step.old, step.new, step.ready, step.terminating, step.old + step.new + step.terminating];
        lines.push(`    ${`${step.at}s`.padStart(6)} ${cells.map((cell, index) => String(cell).padStart([5, 5, 6, 12, 5][index] ?? 5)).join(' ')}`);
      }
      lines.push(
        `  peak ${rollout.peakPods} pods at once (at most ${rollout.peakNonTerminating} not terminating), at least ${rollout.minReady} Ready, done in about ${rollout.estimatedSeconds}s`,
      );
      if (rollout.progressDeadlineSeconds !== null) {
        lines.push(
          rollout.exceedsProgressDeadline
            ? `  ProgressDeadlineExceeded: ${rollout.longestWithoutProgressSeconds}s pass without progress, more than progressDeadlineSeconds ${rollout.progressDeadlineSeconds}`
            : `  progress at least every ${rollout.longestWithoutProgressSeconds}s (progressDeadlineSeconds ${rollout.progressDeadlineSeconds})`,
        );
      }
    }
    lines.push(`  drain: ${plan.drain.evictionsBlocked ? 'BLOCKED' : 'proceeds'}: ${plan.drain.reasons.join('; ')}`);
    const budget = plan.terminationBudget;
    lines.push(
      budget.applies
        ? `  termination budget${budget.met ? '' : ' NOT MET'}: preStop sleep ${budget.preStopSeconds}s for ${budget.preStopBecause}; grace period ${budget.graceSeconds}s, the longest sleep + ${budget.afterSignalSeconds}s after the stop signal (${budget.afterSignalBecause}); the template has ${budget.current.preStopSeconds}s of sleep in every serving container and a ${budget.current.graceSeconds}s grace period`
        : '  termination budget: none (no serving container and no preStop sleep)',
    );
    for (const front of budget.fronts) lines.push(`    in front: ${front.via}: stops sending within ${front.propagationSeconds}s (loadBalancers.${front.profile}); ${front.drainingBecause}`);
    for (const upstream of budget.clusterIpUpstreams) {
      lines.push(`    keeps connections through the ClusterIP: ${upstream.via}: the app must close them after its stop signal; proxy-next-upstream ${upstream.nextUpstream}: ${upstream.retries === 'none' ? 'nginx retries no request' : upstream.retries === 'all' ? 'nginx retries every request' : 'nginx retries idempotent requests only'}`);
    }
    for (const port of budget.longLived) lines.push(`    long-lived connections: ${port}: declare their longest life with rollsafe.dev/max-connection-seconds`);
    lines.push('');
  }
  lines.push(`${plans.length} workload(s) planned.`);
  return `${lines.join('\n')}\n`;
}

/** The live cluster's workloads, namespace by namespace, each planned with its namespace as context. */
async function planCluster(
  values: { kubeconfig?: string | undefined; context?: string | undefined; namespace?: string[] | undefined; 'all-namespaces'?: boolean | undefined },
  assumptions: TimingAssumptions,
  policy: Policy,
  io: Io,
): Promise<{ plans: WorkloadPlan[]; errors: Array<{ file: string; message: string }> } | undefined> {
  // Loaded only here: planning files never pays for the Kubernetes client.
  const { connect, ClusterError } = await import('../cluster/api.js');
  const { forEachNamespace } = await import('../cluster/audit-cluster.js');
  const { planWorkloads } = await import('../plan/plan.js');
  let client: Awaited<ReturnType<typeof connect>> | undefined;
  try {
    client = await connect({ ...(values.kubeconfig ? { kubeconfig: values.kubeconfig } : {}), ...(values.context ? { context: values.context } : {}) });
    const namespaces = values['all-namespaces'] ? 'all' : (values.namespace ?? [client.namespace]);
    const plans: WorkloadPlan[] = [];
    const errors: Array<{ file: string; message: string }> = [];
    await forEachNamespace(client, { namespaces, warn: (text) => io.stderr.write(`rollsafe: ${text}\n`) }, errors, ({ namespace, workloads, related }) => {
      plans.push(...planWorkloads(workloads.map((object) => ({ object, file: `namespace/${namespace.name}` })), related, assumptions, policy.kubernetesVersion, policy));
    });
    return { plans, errors };
  } catch (error) {
    if (error instanceof ClusterError) {
      io.stderr.write(`rollsafe: ${error.message}\n`);
      return undefined;
    }
    throw error;
  } finally {
    client?.close();
  }
}

/** `rollsafe plan`: what a rollout and a node drain will do to each workload, predicted as the controllers run them. */
export async function planCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...POLICY_OPTIONS,
      output: { type: 'string', short: 'o' },
      'pod-start-seconds': { type: 'string' },
      'app-start-seconds': { type: 'string' },
      'exit-seconds': { type: 'string' },
      nodes: { type: 'string' },
      cluster: { type: 'boolean' },
      ...CLUSTER_OPTIONS,
    },
  });
  const output = oneOf(values.output, OUTPUTS, '--output', 'text');
  const policy = policyFromFlags({ policy: values.policy, kubernetesVersion: values['kubernetes-version'], disable: values.disable });
  const assumptions: TimingAssumptions = {
    podStartSeconds: seconds(values['pod-start-seconds'], '--pod-start-seconds', 0),
    appStartSeconds: seconds(values['app-start-seconds'], '--app-start-seconds', 0),
    // The policy says how long apps drain after their stop signal; by default the plan assumes they use it all.
    exitSeconds: seconds(values['exit-seconds'], '--exit-seconds', policy.drainSeconds),
  };
  const nodes = nodeCount(values.nodes);
  if (nodes !== undefined) assumptions.nodes = nodes;
  const { planFiles } = await import('../plan/plan.js');
  let plans: WorkloadPlan[];
  let errors: Array<{ file: string; line?: number; column?: number; message: string }>;
  if (values.cluster) {
    if (positionals.length > 0) throw new UsageError('--cluster plans the live cluster: give no paths');
    if (values['all-namespaces'] && values.namespace) throw new UsageError('use -A or -n, not both');
    const planned = await planCluster(values, assumptions, policy, io);
    if (planned === undefined) return 2;
    ({ plans, errors } = planned);
  } else {
    const stray = (['kubeconfig', 'context', 'namespace', 'all-namespaces'] as const).find((flag) => values[flag] !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --cluster`);
    if (positionals.length === 0) throw new UsageError('plan needs at least one file, directory, or - for standard input (or --cluster)');
    const inputs = collectInputs(positionals, io.readStdin);
    for (const directory of inputs.skippedDirectories) io.stderr.write(skippedNote(directory));
    errors = [...inputs.errors, ...inputs.files.flatMap((file) => file.errors)];
    plans = planFiles(inputs.files, assumptions, policy.kubernetesVersion, policy);
  }
  for (const error of errors) io.stderr.write(`rollsafe: ${[error.file, error.line, error.column].filter((part) => part !== undefined).join(':')}: ${error.message}\n`);
  if (output === 'json') io.stdout.write(`${JSON.stringify({ assumptions, workloads: plans }, null, 2)}\n`);
  else if (output === 'svg') io.stdout.write((await import('../plan/svg.js')).planSvg(plans));
  else io.stdout.write(planText(plans));
  if (errors.length > 0) return 2;
  // Nothing to plan is an input error, as an empty audit is: the input could not be judged.
  if (plans.length === 0) {
    io.stderr.write(`rollsafe: no Deployment, StatefulSet, DaemonSet or Argo Rollout ${values.cluster ? 'in the namespaces planned' : 'in the input'}: nothing to plan\n`);
    return 2;
  }
  return 0;
}
