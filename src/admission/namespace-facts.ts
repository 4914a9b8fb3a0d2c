/**
 * Namespace labels the webhook learns from the path of the entry that called it, as it learns the
 * rollsafe.dev/mode label: one webhook entry per label value, its namespaceSelector picking the namespaces, its
 * path naming the value (`/validate/enforce/ns/elbv2-gates`). The server so needs no apiserver access. A path
 * without a fact says nothing: rules that need the label judge nothing there.
 */
import { AWS_READINESS_GATE_LABEL } from '../budget/profiles.js';

/** Path segment -> the labels it stands for (an empty map: the label is known to be absent or other). */
export const NAMESPACE_FACTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'elbv2-gates': { [AWS_READINESS_GATE_LABEL]: 'enabled' },
  'no-elbv2-gates': {},
};

/** The labels a path's fact stands for; undefined for none; an Error naming the fact when unknown. */
export function namespaceLabelsOf(fact: string | undefined): Record<string, string> | undefined | Error {
  if (fact === undefined) return undefined;
  const labels = Object.prototype.hasOwnProperty.call(NAMESPACE_FACTS, fact) ? NAMESPACE_FACTS[fact] : undefined;
  return labels ? { ...labels } : new Error(`unknown namespace fact "${fact.slice(0, 30)}" in the path; expected one of ${Object.keys(NAMESPACE_FACTS).join(', ')}`);
}
