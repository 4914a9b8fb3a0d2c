import { processIo, UsageError, type Io } from './commands/io.js';
import { kubectlPluginIo } from './util/kubectl-plugin-io.js';
import { VERSION } from './version.js';

export const USAGE = `rollsafe ${VERSION}: zero-downtime rollouts by policy

Usage:
  rollsafe audit [PATH|-]... [--policy FILE] [--kubernetes-version V] [--disable RULE]...
                 [--output text|json|sarif|junit|policyreport|openreports|compact|github] [--fail-on error|warning|never]
  rollsafe audit --cluster [--kubeconfig F] [--context C] [-n NS]... [-A] [--policy FILE] [--request-timeout 30]
                 [--output text|json|sarif|junit|policyreport|openreports] [--apply-reports [--reports-api API]] [--fix-preview]
  rollsafe fix [PATH|-]... [--policy FILE] [--kubernetes-version V] [--disable RULE]... [--in-place | --diff]
  rollsafe plan [PATH|-]... [--output text|json|svg] [--pod-start-seconds S] [--app-start-seconds S] [--exit-seconds S] [--nodes N]
  rollsafe plan --cluster [--kubeconfig F] [--context C] [-n NS]... [-A] [flags as above]
  rollsafe rules [ID] [--output text|json]
  rollsafe export [--policy FILE] [--kubernetes-version V] [--disable RULE]... [--name rollsafe] [--exclude-namespace NS]...
                  [-n NS]... [--namespace-selector SELECTOR] [--rollouts]
  rollsafe policy --print-default | --check FILE
  rollsafe serve [--policy FILE] [--port 8443] [--host 0.0.0.0] [--tls-cert F --tls-key F | --dev-certs]
                 [--metrics-port 9090] [--shutdown-delay 5] [--watch-interval 2000] [--log-level info]
  rollsafe --version | --help

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 bad usage or unreadable input.
`;

/** `rollsafe COMMAND --help`: the command's usage and flags (the README has the whole story). */
const COMMAND_HELP: Record<string, string> = {
  audit: `Usage: rollsafe audit [PATH|-]... [flags]
       rollsafe audit --cluster [flags]

Checks Deployments, StatefulSets, DaemonSets and Argo Rollouts for what drops requests during rollouts.
PATH is a file, a directory (recursive *.yaml, *.yml, *.json) or - for standard input.

  --policy FILE              policy document (default: the built-in policy)
  --kubernetes-version V     the oldest version fixes must run on (overrides the policy's kubernetesVersion)
  --disable RULE             turn a rule off (repeatable)
  --output, -o FORMAT        text (default), json, sarif, junit, policyreport, openreports, compact
                             (file:line: ...), github (GitHub Actions annotations)
  --fail-on LEVEL            error (default), warning, never
  --allow-empty              an input with no object passes (by default it is an input error: exit 2)
  --cluster                  audit the live cluster instead of files
  --kubeconfig F, --context C
  -n, --namespace NS         repeatable; -A, --all-namespaces for every namespace
  --request-timeout SECONDS  per API request, whole answer included (default 30)
  --apply-reports            write the reports to the cluster (server-side apply)
  --reports-api API          policyreport (default; openreports with -o openreports) or openreports
  --fix-preview              print the JSON patch the mutating webhook would apply

Exit codes: 0 clean, 1 findings at or above --fail-on, 2 bad usage or unreadable input.
`,
  fix: `Usage: rollsafe fix [PATH|-]... [--policy FILE] [--kubernetes-version V] [--disable RULE]... [--in-place | --diff]

Applies every fix rollsafe knows (preStop sleep, grace period, rollout strategy, spread constraint), keeping
comments and formatting. Writes to standard output, rewrites the files with --in-place, or prints a unified diff
with --diff. An input with no object is an input error (exit 2) unless --allow-empty.
`,
  plan: `Usage: rollsafe plan [PATH|-]... [--output text|json|svg] [flags]
       rollsafe plan --cluster [--kubeconfig F] [--context C] [-n NS]... [-A] [flags]

Predicts what a rollout and a node drain will do to each workload, step by step, as the controllers run
them: pods at once (terminating included), the Ready floor, how long, ProgressDeadlineExceeded, and whether
a drain's evictions can proceed. Pod timing comes from the template (probes, preStop, grace period); what it
cannot say comes from these flags:

  --pod-start-seconds S      from a pod's creation until its containers run (scheduling, image pull); default 0
  --app-start-seconds S      from a container's start until the app answers its probes; default 0
  --exit-seconds S           the app's time to exit after its stop signal; default the policy's drainSeconds
  --nodes N                  nodes a DaemonSet runs on, for files (a live one's status says); default 3
  --output, -o FORMAT        text (default), json (fields in the README), svg (pods over time, a panel each)
  --policy FILE, --kubernetes-version V
  --cluster                  plan the live cluster's workloads, each namespace as their context
  --kubeconfig F, --context C, -n NS (repeatable), -A

Exit codes: 0 planned, 2 bad usage, unreadable input, or nothing to plan.
`,
  rules: `Usage: rollsafe rules [ID] [--output text|json]

Lists the rules, their default severity and whether they are fixable; with a rule id, explains the rule
(why, what it checks) and prints a manifest that passes it.
`,
  export: `Usage: rollsafe export [--policy FILE] [--kubernetes-version V] [--disable RULE]... [--name rollsafe]
                       [--exclude-namespace NS]... [-n NS]... [--namespace-selector SELECTOR] [--rollouts]

Prints the policy as native admission policies (ValidatingAdmissionPolicy and binding for Deny, Warn and
Audit; Kubernetes 1.30+) and, for 1.36+, a MutatingAdmissionPolicy with the fixes. kubectl apply -f -
installs them. kube-system, kube-node-lease and rollsafe-system are never judged, nor namespaces labelled
rollsafe.dev/mode=off.

  --exclude-namespace NS     never judge NS either (repeatable; the namespace a Helm release of rollsafe
                             runs in, say)
  -n, --namespace NS         judge only these namespaces (repeatable): a trial in one namespace
  --namespace-selector SEL   judge only namespaces whose labels match SEL, in kubectl's -l syntax:
                             k=v, k!=v, k in (a,b), k notin (a,b), k, !k, joined by "," (all must hold)
  --rollouts                 judge Argo Rollouts (argoproj.io/v1alpha1 rollouts) too, as the webhook does;
                             without it the output is what it always was

With both -n and --namespace-selector, a namespace must be named and match.
`,
  policy: `Usage: rollsafe policy --print-default
       rollsafe policy --check FILE

Prints the default policy, or validates a policy document.
`,
  serve: `Usage: rollsafe serve [--policy FILE] [--port 8443] [--host 0.0.0.0] [--tls-cert F --tls-key F | --dev-certs]
                      [--metrics-port 9090] [--shutdown-delay 5] [--watch-interval 2000] [--log-level info]

Serves the admission webhook over HTTPS: POST /validate and /mutate (with /MODE), GET /healthz, /readyz;
Prometheus metrics on --metrics-port.
`,
};

type Command = (args: string[], io: Io) => number | Promise<number>;

// Each command is loaded when it runs: `rollsafe --version` or `audit` never load fix's diff library,
// the server's fastify and pino, or the cluster client (cold start).
const COMMANDS: Record<string, Command> = {
  audit: async (args, io) => (await import('./commands/audit.js')).auditCommand(args, io),
  fix: async (args, io) => (await import('./commands/fix.js')).fixCommand(args, io),
  plan: async (args, io) => (await import('./commands/plan.js')).planCommand(args, io),
  rules: async (args, io) => (await import('./commands/rules.js')).rulesCommand(args, io),
  export: async (args, io) => (await import('./commands/export.js')).exportCommand(args, io),
  policy: async (args, io) => (await import('./commands/policy.js')).policyCommand(args, io),
  serve: async (args, io) => (await import('./commands/serve.js')).serveCommand(args, io),
};

/** Runs one command line and returns the exit code; never throws. */
export async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = Object.prototype.hasOwnProperty.call(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    io.stderr.write(`rollsafe: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(COMMAND_HELP[name] ?? USAGE);
    return 0;
  }
  try {
    return await command(args, io);
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`rollsafe ${name}: ${(error as Error).message}\nSee rollsafe --help.\n`);
      return 2;
    }
    // By name, not instanceof: importing the policy loader here would load the YAML parser for --version.
    if ((error as Error | undefined)?.name === 'PolicyError') {
      io.stderr.write(`rollsafe: ${(error as Error).message}\n`);
      return 2;
    }
    io.stderr.write(`rollsafe ${name}: ${(error as Error).message ?? String(error)}\n`);
    return 2;
  }
}

/** What runs a command line: `rollsafe` itself, or `kubectl-rollsafe` (the kubectl plugin). */
export type Entry = 'cli' | 'kubectl-plugin';

/**
 * A process's command line, as the `rollsafe` and `kubectl-rollsafe` binaries run it (src/cli.ts and
 * src/kubectl-plugin.ts start it, through util/launch.ts); returns the exit code.
 */
export function run(entry: Entry, argv: string[]): Promise<number> {
  const io = processIo();
  return main(argv, entry === 'kubectl-plugin' ? kubectlPluginIo(io, argv) : io);
}
