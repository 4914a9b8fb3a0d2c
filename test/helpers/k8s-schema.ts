import { DaemonSet } from 'kubernetes-models/apps/v1/DaemonSet';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  Deployment: Deployment as never,
  StatefulSet: StatefulSet as never,
  DaemonSet: DaemonSet as never,
};

/** Validates a workload against the Kubernetes OpenAPI schema (kubernetes-models); returns the error or undefined. */
export function schemaError(object: Record<string, unknown>): string | undefined {
  const Model = MODELS[String(object['kind'])];
  if (!Model) return `no schema for kind ${String(object['kind'])}`;
  try {
    new Model(structuredClone(object) as never).validate();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
