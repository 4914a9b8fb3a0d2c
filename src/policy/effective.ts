import { globMatcher, type GlobMatcher } from './glob.js';
import { RULE_IDS } from '../rules/index.js';
import { PARAMETERS } from './schema.js';
import type { EffectivePolicy, Mode, NamespaceOverride, Policy } from './types.js';

const matchers = new WeakMap<NamespaceOverride, GlobMatcher[]>();

function matches(override: NamespaceOverride, namespace: string): boolean {
  let compiled = matchers.get(override);
  if (!compiled) {
    compiled = override.names.map((name) => (/[*?]/.test(name) ? globMatcher(name) : (candidate: string) => candidate === name));
    matchers.set(override, compiled);
  }
  return compiled.some((match) => match(namespace));
}

/** Replaces the mode of every rule that is not off (how a namespace-wide mode, from the policy or a label, applies). */
export function withNamespaceMode(policy: EffectivePolicy, mode: Mode): EffectivePolicy {
  const rules = { ...policy.rules };
  for (const id of RULE_IDS) {
    if (rules[id].mode !== 'off') rules[id] = { ...rules[id], mode };
  }
  return { ...policy, rules };
}

/** The policy with one namespace override applied (none: the policy's own settings). */
export function applyOverride(policy: Policy, override: NamespaceOverride | undefined): EffectivePolicy {
  const base: Record<string, unknown> = { exemptions: policy.exemptions, rules: policy.rules };
  const overrides = (override ?? {}) as Record<string, unknown>;
  // Every parameter the policy declares: the override's value, or (object parameters) its members over the policy's.
  for (const [name, parameter] of Object.entries(PARAMETERS)) {
    const own = (policy as Record<string, unknown>)[name];
    const replaced = overrides[name];
    base[name] = replaced === undefined ? own : parameter.fields ? { ...(own as object), ...(replaced as object) } : replaced;
  }
  let effective = base as EffectivePolicy;
  if (!override) return effective;
  if (override.mode) effective = withNamespaceMode(effective, override.mode);
  const rules = { ...effective.rules };
  for (const id of RULE_IDS) {
    const ruleOverride = override.rules?.[id];
    if (ruleOverride) rules[id] = { ...rules[id], ...ruleOverride };
  }
  return { ...effective, rules };
}

function resolve(policy: Policy, namespace: string): EffectivePolicy {
  return applyOverride(policy, policy.namespaces.find((candidate) => matches(candidate, namespace)));
}

const cache = new WeakMap<Policy, Map<string, EffectivePolicy>>();
export const MAX_CACHED_NAMESPACES = 4096;

/**
 * The policy in force for a namespace, with the namespace-wide mode of its label when given. Cached per policy
 * object, so a reload (a new object) invalidates it; resolved once per namespace, not per request.
 */
export function effectivePolicy(policy: Policy, namespace: string, namespaceMode?: Mode): EffectivePolicy {
  let perNamespace = cache.get(policy);
  if (!perNamespace) {
    perNamespace = new Map();
    cache.set(policy, perNamespace);
  }
  const key = namespaceMode ? `${namespace}\u0000${namespaceMode}` : namespace;
  let effective = perNamespace.get(key);
  if (!effective) {
    effective = resolve(policy, namespace);
    if (namespaceMode) effective = withNamespaceMode(effective, namespaceMode);
    // Bounded: past the limit the oldest entry goes (resolving again costs microseconds).
    if (perNamespace.size >= MAX_CACHED_NAMESPACES) perNamespace.delete(perNamespace.keys().next().value as string);
    perNamespace.set(key, effective);
  }
  return effective;
}

/** How many namespaces are cached for a policy (for tests of the bound). */
export function cachedNamespaces(policy: Policy): number {
  return cache.get(policy)?.size ?? 0;
}
