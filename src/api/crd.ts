/**
 * Builds the CustomResourceDefinition objects from the TypeBox schemas.
 *
 * TypeBox schemas are JSON Schema; a CRD wants a *structural* OpenAPI v3 schema. The rewrite is mechanical:
 * - only keywords Kubernetes knows are kept (our `fix` hints and TypeBox's symbols are dropped);
 * - a union of string literals becomes `{type: string, enum: [...]}`;
 * - `exclusiveMinimum: n` (JSON Schema 2019) becomes `minimum: n, exclusiveMinimum: true` (OpenAPI 3.0);
 * - `Type.Record(Type.String(), X)` (patternProperties) becomes `additionalProperties: X`;
 * - `additionalProperties: false` is dropped (the apiserver prunes unknown fields, or rejects them under
 *   `fieldValidation=Strict`, which kubectl uses by default);
 * - fields that have a default are not listed as required (the apiserver defaults before it validates);
 * - CEL rules keep rule, message, messageExpression, fieldPath and reason.
 */
import type { TSchema } from '@sinclair/typebox';
import type { CelRule } from './cel-rules.ts';
import { FailoverDrillSpecSchema, FailoverDrillStatusSchema } from './drill-schema.ts';
import {
  CATEGORY,
  DRILL_KIND,
  DRILL_LIST_KIND,
  DRILL_PLURAL,
  DRILL_SHORT_NAMES,
  DRILL_SINGULAR,
  GROUP,
  POLICY_KIND,
  POLICY_LIST_KIND,
  POLICY_PLURAL,
  POLICY_SHORT_NAMES,
  POLICY_SINGULAR,
  VERSION,
} from './group.ts';
import { FailoverPolicySpecSchema, FailoverPolicyStatusSchema } from './policy-schema.ts';

/** An OpenAPI v3 schema as a CRD carries it (JSONSchemaProps). */
export type JsonSchemaProps = { [key: string]: unknown };

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    group: string;
    names: {
      kind: string;
      listKind: string;
      plural: string;
      singular: string;
      shortNames: string[];
      categories: string[];
    };
    scope: 'Namespaced';
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      schema: { openAPIV3Schema: JsonSchemaProps };
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
    }>;
  };
}

const PASS_THROUGH = [
  'description',
  'type',
  'format',
  'title',
  'default',
  'enum',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'multipleOf',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'maxProperties',
  'minProperties',
  'nullable',
  'example',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-int-or-string',
  'x-kubernetes-embedded-resource',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
] as const;

/** Keywords handled explicitly below, or ours and deliberately dropped (`fix`). */
const HANDLED = new Set([
  '$id',
  '$schema',
  'additionalProperties',
  'patternProperties',
  'properties',
  'required',
  'items',
  'anyOf',
  'const',
  'fix',
  'x-kubernetes-validations',
]);

/** Converts one TypeBox schema node to a structural OpenAPI v3 schema. */
export function toOpenApi(schema: TSchema, path = '$'): JsonSchemaProps {
  const out: JsonSchemaProps = {};
  const literals = literalUnion(schema);
  if (literals) {
    out.type = typeof literals[0];
    out.enum = literals;
  } else if ('const' in schema) {
    out.type = typeof schema.const;
    out.enum = [schema.const];
  } else if (schema.anyOf) {
    throw new Error(`${path}: unions other than string enums cannot be expressed in a structural schema`);
  }
  for (const key of PASS_THROUGH) {
    if (key in schema && !(key === 'type' && out.type)) out[key] = structuredClone(schema[key]);
  }
  // JSON Schema 2019's numeric exclusiveMinimum/Maximum → OpenAPI 3.0's boolean form.
  for (const [exclusive, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (typeof schema[exclusive] === 'number') {
      out[bound] = schema[exclusive];
      out[exclusive] = true;
    }
  }
  if (schema.properties) {
    const properties: Record<string, JsonSchemaProps> = {};
    for (const [name, child] of Object.entries(schema.properties as Record<string, TSchema>)) {
      properties[name] = toOpenApi(child, `${path}.${name}`);
    }
    out.properties = properties;
    const required = ((schema.required as string[] | undefined) ?? []).filter(
      (name) => !('default' in (schema.properties as Record<string, TSchema>)[name]!),
    );
    if (required.length > 0) out.required = required;
  }
  if (schema.patternProperties) {
    const [only, ...rest] = Object.values(schema.patternProperties as Record<string, TSchema>);
    if (!only || rest.length > 0) throw new Error(`${path}: only Type.Record(Type.String(), X) maps are supported`);
    out.additionalProperties = toOpenApi(only, `${path}.*`);
  } else if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    out.additionalProperties = toOpenApi(schema.additionalProperties as TSchema, `${path}.*`);
  }
  if (schema.items) out.items = toOpenApi(schema.items as TSchema, `${path}[*]`);
  const rules = schema['x-kubernetes-validations'] as CelRule[] | undefined;
  if (rules && rules.length > 0) out['x-kubernetes-validations'] = rules.map(toValidationRule);
  for (const key of Object.keys(schema)) {
    if (!HANDLED.has(key) && !(PASS_THROUGH as readonly string[]).includes(key)) {
      throw new Error(`${path}: schema keyword ${key} has no CRD equivalent; map it in crd.ts`);
    }
  }
  if (!out.type && !out['x-kubernetes-preserve-unknown-fields'] && !out['x-kubernetes-int-or-string']) {
    throw new Error(`${path}: every node of a structural schema needs a type`);
  }
  return withReadableKeyOrder(out);
}

const LEADING_KEYS = ['description', 'type', 'format', 'enum', 'default'];

/** description, type, format, enum, default first: the generated YAML reads like hand-written CRDs. */
function withReadableKeyOrder(schema: JsonSchemaProps): JsonSchemaProps {
  const ordered: JsonSchemaProps = {};
  for (const key of LEADING_KEYS) if (key in schema) ordered[key] = schema[key];
  for (const [key, value] of Object.entries(schema)) if (!(key in ordered)) ordered[key] = value;
  return ordered;
}

function literalUnion(schema: TSchema): unknown[] | undefined {
  const anyOf = schema.anyOf as TSchema[] | undefined;
  if (!anyOf || anyOf.length === 0 || !anyOf.every((member) => 'const' in member)) return undefined;
  const values = anyOf.map((member) => member.const as unknown);
  return values.every((value) => typeof value === typeof values[0]) ? values : undefined;
}

function toValidationRule(rule: CelRule): JsonSchemaProps {
  const out: JsonSchemaProps = { rule: rule.rule, message: rule.message };
  if (rule.messageExpression) out.messageExpression = rule.messageExpression;
  if (rule.fieldPath) out.fieldPath = rule.fieldPath;
  if (rule.reason) out.reason = rule.reason;
  return out;
}

function rootSchema(description: string, spec: TSchema, status: TSchema): JsonSchemaProps {
  return {
    description,
    type: 'object',
    required: ['spec'],
    properties: {
      apiVersion: {
        description: 'APIVersion defines the versioned schema of this representation of an object.',
        type: 'string',
      },
      kind: {
        description: 'Kind is a string value representing the REST resource this object represents.',
        type: 'string',
      },
      metadata: { type: 'object' },
      spec: toOpenApi(spec, 'spec'),
      status: toOpenApi(status, 'status'),
    },
  };
}

function crd(options: {
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: TSchema;
  status: TSchema;
  columns: PrinterColumn[];
}): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${options.plural}.${GROUP}`,
      labels: { 'app.kubernetes.io/name': 'failover-operator', 'app.kubernetes.io/part-of': 'failover-operator' },
    },
    spec: {
      group: GROUP,
      names: {
        kind: options.kind,
        listKind: options.listKind,
        plural: options.plural,
        singular: options.singular,
        shortNames: [...options.shortNames],
        categories: [CATEGORY],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: rootSchema(options.description, options.spec, options.status) },
          subresources: { status: {} },
          additionalPrinterColumns: options.columns,
        },
      ],
    },
  };
}

export function buildPolicyCrd(): CustomResourceDefinition {
  return crd({
    kind: POLICY_KIND,
    listKind: POLICY_LIST_KIND,
    plural: POLICY_PLURAL,
    singular: POLICY_SINGULAR,
    shortNames: POLICY_SHORT_NAMES,
    description:
      'FailoverPolicy declares what must stay up across AWS zones and regions, how its health is probed, and how traffic, the database and compute fail over.',
    spec: FailoverPolicySpecSchema,
    status: FailoverPolicyStatusSchema,
    columns: [
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', description: 'Where the policy stands.' },
      { name: 'Active', type: 'string', jsonPath: '.status.activeRegion', description: 'Region serving now.' },
      {
        name: 'Degraded',
        type: 'string',
        jsonPath: '.status.degradedZones',
        description: 'Zones that are not Healthy.',
      },
      {
        name: 'Last-Failover',
        type: 'date',
        jsonPath: '.status.lastFailover.startedAt',
        description: 'When the last failover started.',
      },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  });
}

export function buildDrillCrd(): CustomResourceDefinition {
  return crd({
    kind: DRILL_KIND,
    listKind: DRILL_LIST_KIND,
    plural: DRILL_PLURAL,
    singular: DRILL_SINGULAR,
    shortNames: DRILL_SHORT_NAMES,
    description:
      'FailoverDrill rehearses a zone or region outage (or replays a recorded timeline) against a FailoverPolicy and reports detection time, RTO, RPO and the actions taken.',
    spec: FailoverDrillSpecSchema,
    status: FailoverDrillStatusSchema,
    columns: [
      { name: 'Policy', type: 'string', jsonPath: '.spec.policyRef.name', description: 'Policy under test.' },
      { name: 'Scenario', type: 'string', jsonPath: '.spec.scenario.type', description: 'What the drill breaks.' },
      { name: 'Mode', type: 'string', jsonPath: '.spec.mode', description: 'DryRun or Live.' },
      { name: 'Result', type: 'string', jsonPath: '.status.result', description: 'Passed, Failed or Aborted.' },
      { name: 'RTO', type: 'number', jsonPath: '.status.rtoSeconds', description: 'Recovery time, seconds.' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase', priority: 1 },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ],
  });
}

/** Both CRDs, in the order they are written and applied. */
export function buildCrds(): CustomResourceDefinition[] {
  return [buildPolicyCrd(), buildDrillCrd()];
}
