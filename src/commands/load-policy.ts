import { defaultPolicy, loadPolicyFile, parsePolicy } from '../policy/load.js';
import { VERSION_PATTERN } from '../policy/schema.js';
import { isRuleId, RULE_IDS } from '../rules/index.js';
import type { Policy, RuleId } from '../policy/types.js';
import { suggestion } from '../util/did-you-mean.js';
import { UsageError } from './io.js';

/** A rule id that is none, for usage errors: with a "did you mean" and the list. */
export function unknownRule(id: string): string {
  return `unknown rule "${id}"${suggestion(id, RULE_IDS)}; rules: ${RULE_IDS.join(', ')}`;
}

/** The parseArgs options of the flags that reach a live cluster (audit --cluster, plan --cluster). */
export const CLUSTER_OPTIONS = {
  kubeconfig: { type: 'string' },
  context: { type: 'string' },
  namespace: { type: 'string', short: 'n', multiple: true },
  'all-namespaces': { type: 'boolean', short: 'A' },
} as const;

/** The parseArgs options of the flags that change the policy (audit, fix, export share them). */
export const POLICY_OPTIONS = {
  policy: { type: 'string' },
  'kubernetes-version': { type: 'string' },
  disable: { type: 'string', multiple: true },
} as const;

export interface PolicyFlags {
  policy?: string | undefined;
  /** --kubernetes-version: the oldest version fixes must run on (the policy's kubernetesVersion). */
  kubernetesVersion?: string | undefined;
  /** --disable RULE (repeatable): the rule's mode becomes off. */
  disable?: string[] | undefined;
}

/**
 * The policy of a CLI run: the file (or the default), then the flags on top, checked like a policy file so
 * a flag can never produce a policy the file could not (e.g. action sleep below 1.30).
 */
export function policyFromFlags(flags: PolicyFlags): Policy {
  const base = flags.policy === undefined ? defaultPolicy() : loadPolicyFile(flags.policy);
  if (flags.kubernetesVersion === undefined && (flags.disable ?? []).length === 0) return base;
  const document = structuredClone(base) as Policy;
  if (flags.kubernetesVersion !== undefined) {
    // The schema's pattern, said in the flag's words.
    if (!new RegExp(VERSION_PATTERN).test(flags.kubernetesVersion)) {
      throw new UsageError(`--kubernetes-version must be a Kubernetes version such as 1.30 or v1.34.2 (got ${JSON.stringify(flags.kubernetesVersion.slice(0, 40))})`);
    }
    document.kubernetesVersion = flags.kubernetesVersion;
  }
  for (const id of flags.disable ?? []) {
    if (!isRuleId(id)) throw new UsageError(`--disable: ${unknownRule(id)}`);
    document.rules[id as RuleId] = { ...document.rules[id as RuleId], mode: 'off' };
    // Off everywhere: a namespace override that sets the rule's mode would turn it back on.
    for (const override of document.namespaces) {
      const setting = override.rules?.[id as RuleId];
      if (setting) override.rules![id as RuleId] = { ...setting, mode: 'off' };
    }
  }
  return parsePolicy(JSON.stringify(document), flags.policy ? `${flags.policy} with command-line flags` : 'the default policy with command-line flags');
}
