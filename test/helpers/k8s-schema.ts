import { Certificate } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Certificate';
import { Issuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1/Issuer';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration';
import { ValidatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration';
import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';

type Model = new (data: never) => { validate(): void };

/** Models by apiVersion/kind: the Kubernetes OpenAPI schemas as packaged by kubernetes-models. */
const MODELS: Record<string, Model> = {
  'apps/v1/Deployment': Deployment as never,
  'apps/v1/StatefulSet': StatefulSet as never,
  'apps/v1/DaemonSet': DaemonSet as never,
  'v1/Namespace': Namespace as never,
  'v1/ServiceAccount': ServiceAccount as never,
  'v1/ConfigMap': ConfigMap as never,
  'v1/Secret': Secret as never,
  'v1/Service': Service as never,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget as never,
  'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration': ValidatingWebhookConfiguration as never,
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': MutatingWebhookConfiguration as never,
  'cert-manager.io/v1/Certificate': Certificate as never,
  'cert-manager.io/v1/Issuer': Issuer as never,
};

/** Validates an object against the schema of its kind; returns the error, or undefined when valid. */
export function schemaError(object: Record<string, unknown>): string | undefined {
  const Model = MODELS[`${String(object['apiVersion'])}/${String(object['kind'])}`];
  if (!Model) return `no schema for ${String(object['apiVersion'])} ${String(object['kind'])}`;
  try {
    new Model(structuredClone(object) as never).validate();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
