/**
 * Building blocks shared by the FailoverPolicy and FailoverDrill schemas.
 *
 * The schemas are TypeBox schemas, i.e. plain JSON Schema objects with TypeScript types attached. The CRD generator
 * (crd.ts) turns them into OpenAPI v3 with a few mechanical rewrites, so a schema here must stay within what a
 * Kubernetes structural schema can express: every node has a type, enums are unions of string literals, maps are
 * `Type.Record(Type.String(), …)`, no `oneOf`/`anyOf` of different shapes, and every string and list that a CEL rule
 * touches has a `maxLength`/`maxItems` bound (the apiserver rejects rules whose estimated cost has no bound).
 *
 * Two annotations are ours and never reach the CRD:
 * - `fix`: the hint shown with a validation error on that field ("Use an AWS region name such as us-east-1.").
 * - rule objects under `x-kubernetes-validations` carry an `id` and a `fix` besides the CEL fields (cel-rules.ts).
 */
import { type SchemaOptions, type TLiteral, type TSchema, type TUnion, Type } from '@sinclair/typebox';
import type { CelRule } from './cel-rules.ts';
import { RULE_IDS, type RuleId } from './rules.ts';

/** Extra options understood by this project's schemas. */
export interface FieldOptions extends SchemaOptions {
  /** How to fix a value that this field rejects; shown by the offline validator. */
  fix?: string;
  'x-kubernetes-validations'?: readonly CelRule[];
}

/** A string enum. TypeBox checks it as a union of literals; the CRD gets `{type: string, enum: [...]}`. */
export function StringEnum<const T extends readonly [string, string, ...string[]]>(
  values: T,
  options: FieldOptions = {},
): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(
    values.map((value) => Type.Literal(value)),
    options,
  ) as unknown as TUnion<TLiteral<T[number]>[]>;
}

/** Attaches CEL rules to a schema (they become `x-kubernetes-validations` in the CRD). */
export function withRules<T extends TSchema>(schema: T, ...rules: CelRule[]): T {
  const existing = (schema['x-kubernetes-validations'] as CelRule[] | undefined) ?? [];
  return { ...schema, 'x-kubernetes-validations': [...existing, ...rules] };
}

// ---------------------------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------------------------

/** An AWS region name such as `us-east-1`, `eu-central-2` or `us-gov-west-1`. */
export const RegionName = (options: FieldOptions = {}) =>
  Type.String({
    minLength: 1,
    maxLength: 32,
    pattern: '^[a-z]{2}(-[a-z]+)+-[0-9]+$',
    fix: 'Use an AWS region name such as us-east-1 or eu-west-2.',
    ...options,
  });

/** An availability zone name such as `us-east-1a` (or a Local Zone such as `us-west-2-lax-1a`). */
export const ZoneName = (options: FieldOptions = {}) =>
  Type.String({
    minLength: 1,
    maxLength: 48,
    pattern: '^[a-z]{2}(-[a-z0-9]+)+[a-z]$',
    fix: 'Use an availability zone name: its region followed by a letter, e.g. us-east-1a. Zone IDs (use1-az1) are not accepted.',
    ...options,
  });

/** A DNS-1123 label: lower-case alphanumerics and '-', starting and ending alphanumeric, at most 63 characters. */
export const DnsLabel = (options: FieldOptions = {}) =>
  Type.String({
    minLength: 1,
    maxLength: 63,
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
    fix: "Use lower-case letters, digits and '-', starting and ending with a letter or digit (at most 63 characters).",
    ...options,
  });

/** The name of a Kubernetes object (DNS-1123 subdomain). */
export const ObjectName = (options: FieldOptions = {}) =>
  Type.String({
    minLength: 1,
    maxLength: 253,
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
    fix: "Use the object's metadata.name: lower-case letters, digits, '-' and '.'.",
    ...options,
  });

/** An RDS DB instance identifier: 1–63 letters, digits or hyphens, starting with a letter, not ending with '-'. */
export const DbInstanceIdentifier = (options: FieldOptions = {}) =>
  Type.String({
    minLength: 1,
    maxLength: 63,
    pattern: '^[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$',
    fix: 'Use the DB instance identifier as shown by `aws rds describe-db-instances` (not its ARN or endpoint), e.g. orders-db.',
    ...options,
  });

/** A fully qualified DNS name such as `api.example.com.` (the trailing dot is optional). */
export const DnsName = (options: FieldOptions = {}) =>
  Type.String({
    minLength: 1,
    maxLength: 255,
    pattern: '^(\\*\\.)?([a-zA-Z0-9_]([a-zA-Z0-9_-]{0,61}[a-zA-Z0-9])?\\.)+[a-zA-Z][a-zA-Z0-9-]{0,62}\\.?$',
    fix: 'Use a fully qualified domain name such as api.example.com. (the trailing dot is optional).',
    ...options,
  });

/** A map of AWS tag keys to values, used to select instances. */
export const TagSelector = (options: FieldOptions = {}) =>
  Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.String({ maxLength: 256 }), {
    maxProperties: 16,
    ...options,
  });

/** A playbook rule id such as `PB-3`. */
export const RuleIdSchema = (options: FieldOptions = {}) =>
  StringEnum(RULE_IDS as unknown as readonly [RuleId, RuleId, ...RuleId[]], {
    fix: `Use a playbook rule id: ${RULE_IDS.join(', ')}.`,
    ...options,
  });

// ---------------------------------------------------------------------------------------------------------------
// Numbers and times
// ---------------------------------------------------------------------------------------------------------------

/** A positive whole number of seconds. */
export const Seconds = (options: FieldOptions & { maximum: number }) =>
  Type.Integer({ format: 'int32', minimum: 1, fix: 'Use a whole number of seconds of at least 1.', ...options });

/** A non-negative measurement in seconds (status only; may be fractional). */
export const MeasuredSeconds = (options: FieldOptions = {}) => Type.Number({ minimum: 0, ...options });

/** An RFC 3339 timestamp, e.g. `2011-04-21T08:55:00Z`. */
export const Timestamp = (options: FieldOptions = {}) =>
  Type.String({
    format: 'date-time',
    maxLength: 64,
    fix: 'Use an RFC 3339 timestamp such as 2011-04-21T08:55:00Z.',
    ...options,
  });

/** Free text shown to people (reasons, messages, errors), bounded. */
export const Text = (maxLength: number, options: FieldOptions = {}) => Type.String({ maxLength, ...options });

// ---------------------------------------------------------------------------------------------------------------
// Kubernetes shapes
// ---------------------------------------------------------------------------------------------------------------

/** metav1.Condition, with the same bounds the upstream type declares. */
export const ConditionSchema = Type.Object(
  {
    type: Type.String({
      minLength: 1,
      maxLength: 316,
      pattern:
        '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
      description: 'Type of condition in CamelCase, e.g. Ready.',
    }),
    status: StringEnum(['True', 'False', 'Unknown'], {
      description: 'Status of the condition: True, False or Unknown.',
    }),
    observedGeneration: Type.Optional(
      Type.Integer({
        format: 'int64',
        minimum: 0,
        description: 'The .metadata.generation that the condition was set based upon.',
      }),
    ),
    lastTransitionTime: Timestamp({ description: 'Last time the condition changed from one status to another.' }),
    reason: Type.String({
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      description: "Programmatic identifier (CamelCase) for the condition's last transition.",
    }),
    message: Type.String({ maxLength: 32768, description: 'Human-readable details about the transition.' }),
  },
  { additionalProperties: false, description: 'A metav1.Condition.' },
);

/** `conditions`, as a list map keyed by type (what `kubectl wait --for=condition=…` and SSA expect). */
export const ConditionsSchema = (description: string) =>
  Type.Array(ConditionSchema, {
    maxItems: 16,
    description,
    'x-kubernetes-list-type': 'map',
    'x-kubernetes-list-map-keys': ['type'],
  });

/**
 * The parts of ObjectMeta this project reads. Only the offline validator and the TypeScript types use it; the CRD
 * declares `metadata: {type: object}` and the apiserver validates metadata itself.
 */
export const ObjectMetaSchema = Type.Object(
  {
    name: Type.Optional(Type.String()),
    generateName: Type.Optional(Type.String()),
    namespace: Type.Optional(Type.String()),
    uid: Type.Optional(Type.String()),
    resourceVersion: Type.Optional(Type.String()),
    generation: Type.Optional(Type.Integer()),
    creationTimestamp: Type.Optional(Type.String()),
    deletionTimestamp: Type.Optional(Type.String()),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    annotations: Type.Optional(Type.Record(Type.String(), Type.String())),
    finalizers: Type.Optional(Type.Array(Type.String())),
  },
  { additionalProperties: true },
);
