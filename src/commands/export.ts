import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { exportPolicies } from '../export/policies.js';
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
  const webhookOnly = RULES.filter((rule) => rule.needsContext && policy.rules[rule.id].mode !== 'off').map((rule) => rule.id);
  io.stdout.write(
    `# rollsafe export: the policy as ValidatingAdmissionPolicies, enforced by the apiserver itself.\n` +
      `# Rules: ${EXPORTED_RULES.map(({ rule }) => rule.id).join(', ')}.\n` +
      (webhookOnly.length > 0 ? `# Audit only (they need other objects, which no admission request carries): ${webhookOnly.join(', ')}.\n` : '') +
      (kubernetesMinor(policy.kubernetesVersion) >= 36
        ? '# Fixes: the MutatingAdmissionPolicy rollsafe-fix (Kubernetes 1.36+).\n'
        : '# No fixes before Kubernetes 1.36 (MutatingAdmissionPolicy): a missing preStop sleep or grace period is denied, not added; --kubernetes-version 1.36 adds them.\n'),
  );
  const excludeNamespaces = values['exclude-namespace'] ?? [];
  for (const namespace of excludeNamespaces) {
    // A namespace name is a DNS label (the value of kubernetes.io/metadata.name).
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(namespace)) throw new UsageError(`--exclude-namespace: ${JSON.stringify(namespace.slice(0, 70))} is no namespace name`);
  }
  const objects = exportPolicies(policy, { name, excludeNamespaces });
  // YAML 1.1 quoting: kubectl reads a plain off (a label value here) as false.
  io.stdout.write(objects.map((object) => stringify(object, { lineWidth: 0, version: '1.1' })).join('---\n'));
  return 0;
}
