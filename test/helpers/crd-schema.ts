import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject } from 'ajv';
import { parseAllDocuments } from 'yaml';

type Schema = Record<string, unknown>;

/**
 * A CRD version's openAPIV3Schema as a JSON Schema for ajv, read as the apiserver reads a structural schema: an
 * object schema with `properties` and neither `additionalProperties` nor `x-kubernetes-preserve-unknown-fields`
 * prunes the fields it does not declare (`structuralpruning.Prune`). Pruning is silent on the server, so here
 * such a field is an error (`additionalProperties: false`): a field the API does not have fails the test
 * instead of vanishing from the stored report. `metadata`, declared only as `type: object`, stays open: the
 * apiserver checks ObjectMeta itself.
 */
export function crdVersionSchema(file: string, version: string): Schema {
  const documents = parseAllDocuments(readFileSync(file, 'utf8')).map((document) => document.toJS() as Schema | null).filter((document) => document !== null);
  const crd = documents.find((document) => document['kind'] === 'CustomResourceDefinition');
  if (!crd) throw new Error(`${file}: no CustomResourceDefinition`);
  const versions = (crd['spec'] as { versions: Array<{ name: string; schema?: { openAPIV3Schema?: Schema } }> }).versions;
  const schema = versions.find((candidate) => candidate.name === version)?.schema?.openAPIV3Schema;
  if (!schema) throw new Error(`${file}: no openAPIV3Schema for version ${version}`);
  return closed(schema, '');
}

function closed(schema: Schema, path: string): Schema {
  const result: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    // CEL rules are the apiserver's to check; a CRD that has them must be tested there, not only here.
    if (key === 'x-kubernetes-validations') throw new Error(`${path || '/'}: CEL validation rules, which ajv cannot check`);
    // The other extensions (list and map types, embedded resources) say how the apiserver merges and stores.
    if (key.startsWith('x-kubernetes-')) continue;
    if (key === 'properties') {
      result[key] = Object.fromEntries(Object.entries(value as Record<string, Schema>).map(([name, property]) => [name, closed(property, `${path}/${name}`)]));
    } else if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object')) {
      result[key] = closed(value as Schema, `${path}/*`);
    } else {
      result[key] = value;
    }
  }
  if (schema['properties'] !== undefined && schema['additionalProperties'] === undefined && schema['x-kubernetes-preserve-unknown-fields'] !== true) {
    result['additionalProperties'] = false;
  }
  return result;
}

/** An ajv validator for a CRD version: undefined when the object is valid, else the errors, one per line. */
export function crdValidator(file: string, version: string): (object: unknown) => string | undefined {
  const ajv = new Ajv({ strict: true, allErrors: true });
  // The OpenAPI formats of Kubernetes' integer fields (metav1.Timestamp's seconds and nanos, among others).
  ajv.addFormat('int32', { type: 'number', validate: (value: number) => Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (value: number) => Number.isSafeInteger(value) });
  const validate = ajv.compile(crdVersionSchema(file, version));
  return (object) => (validate(object) ? undefined : (validate.errors ?? []).map((error: ErrorObject) => `${error.instancePath || '/'} ${error.message ?? ''} ${JSON.stringify(error.params)}`).join('\n'));
}
