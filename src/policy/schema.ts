import { RULES } from '../rules/index.js';
import { schemaWithDefaults, stringParameter, type Parameters } from './parameters.js';
import { MODES, SEVERITIES } from './types.js';

export const VERSION_PATTERN = '^v?1\\.[0-9]+(\\.[0-9]+)?$';

/** Parameters of the policy itself; each rule's home declares its own (RuleDescriptor.parameters). */
export const GLOBAL_PARAMETERS = {
  kubernetesVersion: stringParameter({
    default: '1.30',
    pattern: VERSION_PATTERN,
    comment: ['Oldest Kubernetes version the fixes must run on. From 1.30 the native', 'lifecycle.preStop.sleep action exists, so fixes need no sleep binary.'],
  }),
} satisfies Parameters;

/** Every parameter in document order: the policy's own, then each rule's, in the registry's order. */
export const PARAMETERS: Parameters = { ...GLOBAL_PARAMETERS };
for (const rule of RULES) {
  for (const [name, parameter] of Object.entries(rule.parameters)) {
    // One policy key, one owner: two rules declaring the same name would silently share it.
    if (name in PARAMETERS) throw new Error(`policy parameter ${name} of rule ${rule.id} is declared twice`);
    PARAMETERS[name] = parameter;
  }
}

function ruleSettingsSchema(defaults?: { mode: string; severity: string }): object {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      mode: { enum: [...MODES], ...(defaults ? { default: defaults.mode } : {}) },
      severity: { enum: [...SEVERITIES], ...(defaults ? { default: defaults.severity } : {}) },
    },
    ...(defaults ? { default: {} } : {}),
  };
}

function rulesSchema(withDefaults: boolean): object {
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(
      RULES.map((rule) => [rule.id, ruleSettingsSchema(withDefaults ? { mode: rule.defaultMode, severity: rule.defaultSeverity } : undefined)]),
    ),
    ...(withDefaults ? { default: {} } : {}),
  };
}

const parameterSchemas = (withDefaults: boolean) =>
  Object.fromEntries(Object.entries(PARAMETERS).map(([name, parameter]) => [name, withDefaults ? schemaWithDefaults(parameter) : parameter.schema]));

/** JSON Schema of the policy document; ajv fills the defaults (`useDefaults`). */
export const policySchema = {
  $id: 'https://rollsafe.dev/schemas/policy-v1alpha1.json',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind'],
  properties: {
    apiVersion: { const: 'rollsafe.dev/v1alpha1' },
    kind: { const: 'Policy' },
    ...parameterSchemas(true),
    exemptions: {
      type: 'object',
      additionalProperties: false,
      properties: { allowed: { type: 'boolean', default: true } },
      default: {},
    },
    rules: rulesSchema(true),
    namespaces: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['names'],
        properties: {
          names: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
          mode: { enum: [...MODES] },
          ...parameterSchemas(false),
          rules: rulesSchema(false),
        },
      },
    },
  },
} as const;
