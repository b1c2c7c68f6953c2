/**
 * What the apiserver does with `null` before it defaults and validates a custom resource, measured against
 * kube-apiserver in test/integration/api/api.test.ts ("nulls"):
 *
 * - a null field of an object (a known property or a map entry) that is not `nullable: true` — none of ours is —
 *   is dropped (apiextensions structuraldefaulting.PruneNonNullableNullsWithoutDefaults), then defaulted like a
 *   missing field: `dryRun: null` is stored as false, `database: null` is simply absent, and a required field set
 *   to null is "Required value";
 * - a null list item is kept and refused for its type (`zones: [null]`: must be of type string);
 * - a null unknown field is kept, so that strict field validation still reports it as unknown;
 * - in metadata, which decodes into ObjectMeta, `labels: null` is no labels and a null label or annotation value
 *   is the empty string.
 *
 * Pure: it returns a copy and leaves its input alone.
 */
import type { TSchema } from '@sinclair/typebox';

export function pruneNulls(schema: TSchema, value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = schema.items as TSchema | undefined;
    return items ? value.map((item) => (item === null ? null : pruneNulls(items, item))) : value;
  }
  if (value === null || typeof value !== 'object') return value;
  const properties = schema.properties as Record<string, TSchema> | undefined;
  const mapValues = mapValueSchema(schema);
  if (!properties && !mapValues) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    const fieldSchema = properties && Object.hasOwn(properties, key) ? properties[key] : mapValues;
    if (fieldSchema === undefined) {
      out[key] = field; // unknown: left for the schema to report
    } else if (field !== null) {
      out[key] = pruneNulls(fieldSchema, field);
    }
  }
  return out;
}

/** metadata as ObjectMeta decodes it: null maps are absent, null label and annotation values are ''. */
export function normalizeObjectMeta(metadata: Record<string, unknown>): Record<string, unknown> {
  const out = { ...metadata };
  for (const field of ['labels', 'annotations'] as const) {
    const map = out[field];
    if (map === null) delete out[field];
    else if (map !== undefined && typeof map === 'object' && !Array.isArray(map)) {
      out[field] = Object.fromEntries(Object.entries(map).map(([key, v]) => [key, v === null ? '' : v]));
    }
  }
  return out;
}

function mapValueSchema(schema: TSchema): TSchema | undefined {
  if (schema.patternProperties) return Object.values(schema.patternProperties as Record<string, TSchema>)[0];
  const additional = schema.additionalProperties;
  return typeof additional === 'object' ? (additional as TSchema) : undefined;
}
