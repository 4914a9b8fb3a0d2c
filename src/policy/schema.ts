import { MODES, RULE_IDS, SEVERITIES, type RuleId } from './types.js';

/** Default severity of each rule (the public rules table). */
export const DEFAULT_SEVERITY: Record<RuleId, 'error' | 'warning'> = {
  'readiness-probe': 'error',
  'probe-port': 'error',
  'probes-identical': 'warning',
  'prestop-delay': 'error',
  'grace-period': 'error',
  'rollout-strategy': 'error',
  'min-replicas': 'warning',
  'disruption-budget': 'warning',
  'node-spread': 'warning',
};

const versionPattern = '^v?1\\.[0-9]+(\\.[0-9]+)?$';

function ruleSettingsSchema(withDefaults: boolean, severity: string): object {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      mode: { enum: [...MODES], ...(withDefaults ? { default: 'enforce' } : {}) },
      severity: { enum: [...SEVERITIES], ...(withDefaults ? { default: severity } : {}) },
    },
    ...(withDefaults ? { default: {} } : {}),
  };
}

function rulesSchema(withDefaults: boolean): object {
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(
      RULE_IDS.map((id) => [id, ruleSettingsSchema(withDefaults, DEFAULT_SEVERITY[id])]),
    ),
    ...(withDefaults ? { default: {} } : {}),
  };
}

function preStopSchema(withDefaults: boolean): object {
  return {
    type: 'object',
    additionalProperties: false,
    properties: {
      seconds: { type: 'integer', minimum: 1, maximum: 3600, ...(withDefaults ? { default: 10 } : {}) },
      action: { enum: ['auto', 'sleep', 'exec'], ...(withDefaults ? { default: 'auto' } : {}) },
    },
    ...(withDefaults ? { default: {} } : {}),
  };
}

/** JSON Schema of the policy document; ajv fills the defaults (`useDefaults`). */
export const policySchema = {
  $id: 'https://rollsafe.dev/schemas/policy-v1alpha1.json',
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind'],
  properties: {
    apiVersion: { const: 'rollsafe.dev/v1alpha1' },
    kind: { const: 'Policy' },
    kubernetesVersion: { type: 'string', pattern: versionPattern, default: '1.30' },
    preStop: preStopSchema(true),
    drainSeconds: { type: 'integer', minimum: 0, maximum: 86400, default: 20 },
    minReplicas: { type: 'integer', minimum: 1, default: 2 },
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
          kubernetesVersion: { type: 'string', pattern: versionPattern },
          preStop: preStopSchema(false),
          drainSeconds: { type: 'integer', minimum: 0, maximum: 86400 },
          minReplicas: { type: 'integer', minimum: 1 },
          rules: rulesSchema(false),
        },
      },
    },
  },
} as const;
