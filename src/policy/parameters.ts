/**
 * Policy parameters (the numbers rules read, such as drainSeconds), declared where they are used: a rule's home
 * declares its own, with the JSON Schema fragment, the default and the comment of the default policy document.
 * The schema, the defaults and the document are derived from these declarations (policy/schema.ts,
 * policy/default-document.ts), and so are the TypeScript types (policy/types.ts RuleParameters).
 */

export interface Parameter<Value> {
  /** JSON Schema of the value, without defaults (a namespace override has none). */
  schema: Record<string, unknown>;
  default: Value;
  /** Comment lines above the key in the default policy document. */
  comment: readonly string[];
  /** Members of an object parameter; a namespace override may give any of them alone. */
  fields?: Record<string, Parameter<unknown>>;
}

export type Parameters = Record<string, Parameter<unknown>>;

/** The TypeScript value type of a set of parameter declarations. */
export type ValuesOf<P> = { [Name in keyof P]: P[Name] extends Parameter<infer Value> ? Value : never };

interface Described {
  comment?: readonly string[];
}

export function integerParameter(options: Described & { default: number; minimum: number; maximum?: number }): Parameter<number> {
  const { default: value, comment = [], ...bounds } = options;
  return { schema: { type: 'integer', ...bounds }, default: value, comment };
}

export function enumParameter<const Value extends string>(values: readonly Value[], options: Described & { default: NoInfer<Value> }): Parameter<Value> {
  return { schema: { enum: [...values] }, default: options.default, comment: options.comment ?? [] };
}

export function stringParameter(options: Described & { default: string; pattern: string }): Parameter<string> {
  return { schema: { type: 'string', pattern: options.pattern }, default: options.default, comment: options.comment ?? [] };
}

export function objectParameter<const Fields extends Parameters>(fields: Fields, options: Described = {}): Parameter<ValuesOf<Fields>> {
  const properties = Object.fromEntries(Object.entries(fields).map(([name, field]) => [name, field.schema]));
  const value = Object.fromEntries(Object.entries(fields).map(([name, field]) => [name, field.default])) as ValuesOf<Fields>;
  return { schema: { type: 'object', additionalProperties: false, properties }, default: value, comment: options.comment ?? [], fields };
}

/** The schema of a parameter with its defaults filled in (the top level of a policy; overrides take `schema`). */
export function schemaWithDefaults(parameter: Parameter<unknown>): Record<string, unknown> {
  if (!parameter.fields) return { ...parameter.schema, default: parameter.default };
  const properties = Object.fromEntries(Object.entries(parameter.fields).map(([name, field]) => [name, schemaWithDefaults(field)]));
  return { ...parameter.schema, properties, default: {} };
}
