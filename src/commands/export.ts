import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { formatLabelSelector, parseLabelSelector, SelectorSyntaxError, type LabelSelectorRequirement } from '../export/namespace-selector.js';
import { EXCLUDED_NAMESPACES, exportPolicies } from '../export/policies.js';
import { EXPORTED_RULES } from '../export/rules.js';
import { kubernetesMinor } from '../policy/version.js';
import { RULES } from '../rules/index.js';
import { UsageError, type Io } from './io.js';
import { POLICY_OPTIONS, policyFromFlags } from './load-policy.js';

/** `rollsafe export`: the policy as ValidatingAdmissionPolicies and bindings, a YAML stream on stdout. */
export function exportCommand(args: string[], io: Io): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...POLICY_OPTIONS,
      name: { type: 'string' },
      'exclude-namespace': { type: 'string', multiple: true },
      namespace: { type: 'string', short: 'n', multiple: true },
      // Multiple only to refuse a second one: parseArgs would keep the last without a word.
      'namespace-selector': { type: 'string', multiple: true },
      // Argo Rollouts (argoproj.io/v1alpha1) too; off, the stream is what it was before Rollouts, byte for byte.
      rollouts: { type: 'boolean' },
    },
  });
  if (positionals.length > 0) throw new UsageError(`export takes no paths (got ${JSON.stringify(positionals[0])})`);
  const name = values.name ?? 'rollsafe';
  // A prefix of object names, which are DNS subdomains; "-validate" and such are appended.
  if (!/^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$/.test(name)) throw new UsageError('--name must be lower-case letters, digits and -, at most 42 characters');
  const policy = policyFromFlags({ policy: values.policy, kubernetesVersion: values['kubernetes-version'], disable: values.disable });
  if (kubernetesMinor(policy.kubernetesVersion) < 30) {
    throw new UsageError(`ValidatingAdmissionPolicy v1 needs Kubernetes 1.30 or later; the policy targets ${policy.kubernetesVersion} (set kubernetesVersion or --kubernetes-version)`);
  }
  const rollouts = values.rollouts === true;
  const scope = namespaceScope(values['exclude-namespace'] ?? [], values.namespace ?? [], values['namespace-selector'] ?? []);
  const webhookOnly = RULES.filter((rule) => rule.needsContext && policy.rules[rule.id].mode !== 'off').map((rule) => rule.id);
  io.stdout.write(
    `# rollsafe export: the policy as ValidatingAdmissionPolicies, enforced by the apiserver itself.\n` +
      `# Rules: ${EXPORTED_RULES.map(({ rule }) => rule.id).join(', ')}.\n` +
      (webhookOnly.length > 0 ? `# Audit only (they need other objects, which no admission request carries): ${webhookOnly.join(', ')}.\n` : '') +
      (kubernetesMinor(policy.kubernetesVersion) >= 36
        ? '# Fixes: the MutatingAdmissionPolicy rollsafe-fix (Kubernetes 1.36+).\n'
        : '# No fixes before Kubernetes 1.36 (MutatingAdmissionPolicy): a missing preStop sleep or grace period is denied, not added; --kubernetes-version 1.36 adds them.\n') +
      scopeComment(scope) +
      (rollouts ? '# Argo Rollouts too (--rollouts): every policy also matches argoproj.io/v1alpha1 rollouts.\n' : ''),
  );
  const objects = exportPolicies(policy, { name, ...scope, rollouts });
  // YAML 1.1 quoting: kubectl reads a plain off (a label value here) as false.
  io.stdout.write(objects.map((object) => stringify(object, { lineWidth: 0, version: '1.1' })).join('---\n'));
  return 0;
}

interface NamespaceScope {
  excludeNamespaces: string[];
  namespaces: string[];
  namespaceSelector: LabelSelectorRequirement[];
}

/** A namespace name is a DNS label (the value of kubernetes.io/metadata.name). */
function checkNamespaceName(flag: string, namespace: string): void {
  if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(namespace)) throw new UsageError(`${flag}: ${JSON.stringify(namespace.slice(0, 70))} is no namespace name`);
}

/** --exclude-namespace, --namespace and --namespace-selector, checked against each other. */
function namespaceScope(excludeNamespaces: string[], namespaces: string[], selectors: string[]): NamespaceScope {
  for (const namespace of excludeNamespaces) checkNamespaceName('--exclude-namespace', namespace);
  for (const namespace of namespaces) {
    checkNamespaceName('--namespace', namespace);
    // Asking for both would export policies that judge less than the command line seems to say.
    if (excludeNamespaces.includes(namespace)) throw new UsageError(`--namespace and --exclude-namespace both name ${namespace}`);
    if (EXCLUDED_NAMESPACES.includes(namespace)) throw new UsageError(`--namespace ${namespace}: ${EXCLUDED_NAMESPACES.slice(0, -1).join(', ')} and ${EXCLUDED_NAMESPACES.at(-1)} are never judged`);
  }
  if (selectors.length > 1) throw new UsageError('--namespace-selector is given once: join its requirements with "," (all of them must hold)');
  let namespaceSelector: LabelSelectorRequirement[] = [];
  const [selector] = selectors;
  if (selector !== undefined) {
    try {
      namespaceSelector = parseLabelSelector(selector);
    } catch (error) {
      if (!(error instanceof SelectorSyntaxError)) throw error;
      throw new UsageError(`--namespace-selector ${JSON.stringify(selector.slice(0, 200))}: ${error.message}`);
    }
  }
  return { excludeNamespaces, namespaces, namespaceSelector };
}

/** Says in the stream which namespaces it judges, when not all: a reviewer reads this before applying it. */
function scopeComment({ namespaces, namespaceSelector }: NamespaceScope): string {
  const parts = [
    ...(namespaces.length > 0 ? [`named ${[...new Set(namespaces)].join(', ')}`] : []),
    ...(namespaceSelector.length > 0 ? [`labelled ${formatLabelSelector(namespaceSelector)}`] : []),
  ];
  return parts.length > 0 ? `# Only namespaces ${parts.join(' and ')} are judged.\n` : '';
}
