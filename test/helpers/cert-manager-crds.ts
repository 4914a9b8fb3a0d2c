/**
 * cert-manager's Certificate and Issuer CRDs for the install tests, built from the schemas that the pinned
 * @kubernetes-models/cert-manager package generated from cert-manager's own CRDs (package-lock.json pins
 * the version). The package keeps each schema as a JSON literal in its model file; it is converted back to a
 * structural openAPIV3Schema, so the real apiserver validates our Certificates and Issuers as a cluster
 * with cert-manager would.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

type Schema = Record<string, any>;

function modelSchema(kind: 'Certificate' | 'Issuer'): Schema {
  const require = createRequire(import.meta.url);
  const file = require.resolve(`@kubernetes-models/cert-manager/cert-manager.io/v1/${kind}`);
  const source = readFileSync(file, 'utf8');
  const literal = /\nconst schema = (\{[\s\S]*?\n\});\n/.exec(source)?.[1];
  if (!literal) throw new Error(`no schema literal in ${file}: the package layout changed`);
  return JSON.parse(literal);
}

/** JSON Schema as the package writes it -> a structural schema as a CRD needs. */
function structural(schema: Schema): Schema {
  const variants: Schema[] | undefined = schema['oneOf'];
  if (variants) {
    // {oneOf: [X, {type: null}]} is the package's spelling of `nullable`; {} is "anything".
    const real = variants.filter((variant) => variant['type'] !== 'null');
    const nullable = real.length < variants.length;
    const [only] = real;
    const base = real.length === 1 && only && Object.keys(only).length > 0 && !only['$ref'] ? structural(only) : { 'x-kubernetes-preserve-unknown-fields': true };
    return nullable ? { ...base, nullable: true } : base;
  }
  const out: Schema = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key === 'properties') out[key] = Object.fromEntries(Object.entries(value as Schema).map(([name, child]) => [name, structural(child as Schema)]));
    else if (key === 'items' || key === 'additionalProperties') out[key] = typeof value === 'object' ? structural(value as Schema) : value;
    else out[key] = value;
  }
  if (!out['type'] && !out['properties']) return { ...out, 'x-kubernetes-preserve-unknown-fields': true };
  if (!out['type']) out['type'] = 'object';
  return out;
}

function crd(kind: 'Certificate' | 'Issuer', plural: string): Schema {
  const schema = modelSchema(kind);
  const properties = { ...schema['properties'], metadata: { type: 'object' } };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.cert-manager.io` },
    spec: {
      group: 'cert-manager.io',
      names: { kind, listKind: `${kind}List`, plural, singular: kind.toLowerCase() },
      scope: 'Namespaced',
      versions: [{ name: 'v1', served: true, storage: true, subresources: { status: {} }, schema: { openAPIV3Schema: structural({ ...schema, properties }) } }],
    },
  };
}

export function certManagerCrds(): Schema[] {
  return [crd('Certificate', 'certificates'), crd('Issuer', 'issuers')];
}
