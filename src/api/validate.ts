/**
 * Validation of FailoverPolicy and FailoverDrill objects, offline and in the operator, with the apiserver's
 * semantics: nulls pruned and defaults applied first, then metadata and the OpenAPI schema, then the CEL rules (skipped, as the apiserver does, while a
 * value has the wrong type, a required field is missing or an enum value is unknown). Every error names the field path, the bad value and how to fix it.
 */
import { FormatRegistry, type TSchema } from '@sinclair/typebox';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { type CelEvaluator, type CelViolation, createCelEvaluator } from './cel-eval.ts';
import { type FailoverDrill, FailoverDrillSchema } from './drill-schema.ts';
import { formatPath, type PathSegment, pointerToSegments, valueAt } from './field-path.ts';
import { API_VERSION, DRILL_KIND, POLICY_KIND } from './group.ts';
import { validateObjectMeta } from './object-meta.ts';
import { type FailoverPolicy, FailoverPolicySchema } from './policy-schema.ts';
import { normalizeObjectMeta, pruneNulls } from './prune-nulls.ts';

export interface FieldError {
  /** Field path in the apiserver's notation, e.g. `spec.regions[1].zones[0]`; empty for the whole document. */
  path: string;
  /** The offending value, when there is one (absent for a missing field). */
  value?: unknown;
  /** What is wrong, as a sentence fragment that reads after the path. */
  message: string;
  /** How to fix it. */
  fix: string;
  /** 1-based line in the source file, when known (set by loadManifests). */
  line?: number;
}

export type ValidationResult<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

/** Validates a FailoverPolicy; on success `value` is a copy with every default applied. */
export function validatePolicy(obj: unknown): ValidationResult<FailoverPolicy> {
  return validateResource<FailoverPolicy>(FailoverPolicySchema, POLICY_KIND, obj);
}

/** Validates a FailoverDrill; on success `value` is a copy with every default applied. */
export function validateDrill(obj: unknown): ValidationResult<FailoverDrill> {
  return validateResource<FailoverDrill>(FailoverDrillSchema, DRILL_KIND, obj);
}

/**
 * Returns a copy of `obj` with the schema's defaults applied, as the apiserver stores it. It does not validate: use
 * validatePolicy for input that may be wrong.
 */
export function applyPolicyDefaults(obj: unknown): FailoverPolicy {
  return Value.Default(FailoverPolicySchema, structuredClone(obj)) as FailoverPolicy;
}

export function applyDrillDefaults(obj: unknown): FailoverDrill {
  return Value.Default(FailoverDrillSchema, structuredClone(obj)) as FailoverDrill;
}

// ---------------------------------------------------------------------------------------------------------------

/** Compiled CEL programs are a pure cache of the rule texts, shared by every validation. */
let evaluator: CelEvaluator | undefined;

/**
 * The CEL rules' violations of a defaulted spec, by the spec's JSON, per spec schema. The rules read nothing but
 * the spec, so an equal spec has equal violations: the operator validates the same spec again on every watch event
 * of its own finalizer and status writes and on every resync, and the CEL pass was most of each validation (about
 * 0.5 ms a policy). Insertion-ordered and bounded: the oldest entry goes first.
 */
const celMemo = new WeakMap<TSchema, Map<string, readonly CelViolation[]>>();
export const CEL_MEMO_MAX = 2048;

function celViolations(specSchema: TSchema, spec: unknown): readonly CelViolation[] {
  evaluator ??= createCelEvaluator();
  let key: string | undefined;
  try {
    key = JSON.stringify(spec);
  } catch {
    key = undefined; // not JSON (a bigint from a YAML reader): evaluate without the memo
  }
  if (key === undefined) return evaluator.evaluate(specSchema, spec, ['spec']);
  let memo = celMemo.get(specSchema);
  if (!memo) {
    memo = new Map();
    celMemo.set(specSchema, memo);
  }
  const known = memo.get(key);
  if (known) return known;
  const violations = evaluator.evaluate(specSchema, spec, ['spec']);
  if (memo.size >= CEL_MEMO_MAX) memo.delete(memo.keys().next().value as string);
  memo.set(key, violations);
  return violations;
}

/** Test seam: how many distinct specs' CEL results are held now (the policy schema's). */
export function celMemoSize(): number {
  return celMemo.get((FailoverPolicySchema.properties as Record<string, TSchema>).spec!)?.size ?? 0;
}

function validateResource<T>(schema: TSchema, kind: string, obj: unknown): ValidationResult<T> {
  registerFormats();
  if (!isPlainObject(obj)) {
    return fail([
      {
        path: '',
        value: obj,
        message: `a ${kind} must be a mapping of fields (apiVersion, kind, metadata, spec), got ${describeType(obj)}`,
        fix: `Start the document with apiVersion: ${API_VERSION} and kind: ${kind}.`,
      },
    ]);
  }
  const errors: FieldError[] = [];
  let blocking = 0;
  if (obj.apiVersion !== API_VERSION) {
    errors.push({
      path: 'apiVersion',
      value: obj.apiVersion,
      message: obj.apiVersion === undefined ? 'is required' : `must be ${API_VERSION}`,
      fix: `Set apiVersion: ${API_VERSION}.`,
    });
  }
  if (obj.kind !== kind) {
    errors.push({
      path: 'kind',
      value: obj.kind,
      message: obj.kind === undefined ? 'is required' : `must be ${kind}`,
      fix: `Set kind: ${kind}.`,
    });
  }
  const metadata = obj.metadata;
  if (!isPlainObject(metadata)) {
    errors.push({
      path: 'metadata',
      value: metadata,
      message: metadata === undefined ? 'is required' : `must be a mapping, got ${describeType(metadata)}`,
      fix: 'Add metadata with at least a name, e.g. metadata: {name: checkout}.',
    });
  } else if (typeof metadata.name !== 'string' && typeof metadata.generateName !== 'string') {
    errors.push({
      path: 'metadata.name',
      message: 'is required',
      fix: 'Add metadata.name: lower-case letters, digits and -, e.g. checkout.',
    });
  }

  // As the apiserver stores it: nulls dropped where it drops them (prune-nulls.ts), then defaults applied.
  const stored = pruneNulls(schema, obj) as Record<string, unknown>;
  if (isPlainObject(metadata)) {
    stored.metadata = normalizeObjectMeta(metadata);
    const meta = validateObjectMeta(stored.metadata as Record<string, unknown>);
    errors.push(...meta.errors);
    if (meta.blocking) blocking++;
  }

  const defaulted = Value.Default(schema, structuredClone(stored)) as Record<string, unknown>;
  for (const error of Value.Errors(schema, defaulted)) {
    const segments = pointerToSegments(error.path, defaulted);
    const top = segments[0];
    if (top === 'apiVersion' || top === 'kind' || top === 'metadata') continue;
    // A missing required field is also reported as "wrong type (undefined)": keep only the "required" error.
    if (error.value === undefined && error.type !== ValueErrorType.ObjectRequiredProperty) continue;
    if (BLOCKING_ERRORS.has(error.type)) blocking++;
    errors.push(describeSchemaError(error, schema, segments));
  }

  // Like the apiserver, skip the CEL rules while a value has the wrong type, a required field is missing, an enum
  // value is unknown or a list, string or map is over its bound ("some validation rules were not checked because the
  // object was invalid": hasBlockingErr in apiextensions-apiserver's customresource strategy). Over-long lists are
  // also what made CEL slow: the rules compare zones pairwise, and 10,000 zones took 25 s.
  if (blocking === 0) {
    const specSchema = (schema.properties as Record<string, TSchema>).spec!;
    for (const violation of celViolations(specSchema, defaulted.spec)) {
      // A rule that could not run because another error already broke its input adds nothing.
      if (violation.evaluationError && errors.length > 0) continue;
      const value = valueAt(defaulted, violation.path);
      errors.push({
        path: formatSchemaPath(schema, violation.path),
        ...(isSmall(value) ? { value } : {}),
        message: violation.evaluationError
          ? `${violation.message} (the rule could not be evaluated: ${violation.evaluationError})`
          : violation.message,
        fix: violation.rule.fix,
      });
    }
  }

  return errors.length > 0 ? fail(errors) : { ok: true, value: defaulted as T };
}

function fail<T>(errors: FieldError[]): ValidationResult<T> {
  return { ok: false, errors: dedupe(errors) };
}

function dedupe(errors: FieldError[]): FieldError[] {
  const seen = new Set<string>();
  return errors.filter((error) => {
    const key = `${error.path}\u0000${error.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * The schema errors after which the apiserver does not run CEL rules: field.ErrorTypeRequired, NotSupported (enum),
 * TypeInvalid, TooLong (maxLength) and TooMany (maxItems, maxProperties).
 */
const BLOCKING_ERRORS = new Set<ValueErrorType>([
  ValueErrorType.StringMaxLength,
  ValueErrorType.ArrayMaxItems,
  ValueErrorType.ObjectMaxProperties,
  ValueErrorType.ObjectRequiredProperty,
  ValueErrorType.Union,
  ValueErrorType.Literal,
  ValueErrorType.Object,
  ValueErrorType.Array,
  ValueErrorType.String,
  ValueErrorType.Number,
  ValueErrorType.Integer,
  ValueErrorType.Boolean,
  ValueErrorType.Null,
]);

// ---------------------------------------------------------------------------------------------------------------
// Schema errors → FieldError
// ---------------------------------------------------------------------------------------------------------------

function describeSchemaError(error: ValueError, root: TSchema, segments: PathSegment[]): FieldError {
  const schema = error.schema;
  const path = formatSchemaPath(root, segments);
  const value = error.value;
  const hint = typeof schema.fix === 'string' ? schema.fix : undefined;
  const at = (message: string, fix: string): FieldError => ({
    path,
    ...(value === undefined ? {} : { value }),
    message,
    fix: hint ?? fix,
  });

  switch (error.type) {
    case ValueErrorType.ObjectRequiredProperty: {
      const field = String(segments[segments.length - 1]);
      const choices = enumValues(schema);
      const what = choices ? `one of ${choices.join(', ')}` : (schema.description as string | undefined);
      return {
        path,
        message: 'is required',
        fix: `Add ${field}${what ? ` (${lowerFirst(what).replace(/\.$/, '')})` : ''}.`,
      };
    }
    case ValueErrorType.ObjectAdditionalProperties: {
      const field = String(segments[segments.length - 1]);
      const known = Object.keys((schema.properties as Record<string, unknown> | undefined) ?? {});
      const suggestion = closest(field, known);
      return {
        path,
        value,
        message: `is not a known field`,
        fix: `${suggestion ? `Did you mean ${suggestion}? ` : 'Remove it. '}Fields allowed here: ${known.join(', ')}.`,
      };
    }
    case ValueErrorType.Union: {
      const choices = enumValues(schema);
      if (choices) {
        const suggestion = typeof value === 'string' ? closest(value, choices) : undefined;
        return at(
          `must be one of ${choices.join(', ')}`,
          `${suggestion ? `Did you mean ${suggestion}? ` : ''}Use one of ${choices.join(', ')} (values are case-sensitive).`,
        );
      }
      return at('does not match any allowed shape', 'Check the field against docs/api.md.');
    }
    case ValueErrorType.Literal:
      return at(`must be ${JSON.stringify(schema.const)}`, `Set it to ${JSON.stringify(schema.const)}.`);
    case ValueErrorType.Object:
      return at(
        `must be a mapping of fields, got ${describeType(value)}`,
        'Write it as key: value pairs (a YAML mapping).',
      );
    case ValueErrorType.Array:
      return at(
        `must be a list, got ${describeType(value)}`,
        'Write it as a YAML list ([a, b] or one "- item" per line).',
      );
    case ValueErrorType.String:
      return at(`must be a string, got ${describeType(value)}`, 'Quote the value so that YAML reads it as a string.');
    case ValueErrorType.Boolean:
      return at(`must be true or false, got ${describeType(value)}`, 'Write true or false, without quotes.');
    case ValueErrorType.Integer:
      return at(
        typeof value === 'number' ? 'must be a whole number' : `must be a whole number, got ${describeType(value)}`,
        'Write a whole number without quotes or units, e.g. 30.',
      );
    case ValueErrorType.Number:
      return at(`must be a number, got ${describeType(value)}`, 'Write a number without quotes or units, e.g. 0.5.');
    case ValueErrorType.IntegerMinimum:
    case ValueErrorType.NumberMinimum:
      return at(`must be at least ${schema.minimum}`, rangeFix(schema));
    case ValueErrorType.IntegerMaximum:
    case ValueErrorType.NumberMaximum:
      return at(`must be at most ${schema.maximum}`, rangeFix(schema));
    case ValueErrorType.IntegerExclusiveMinimum:
    case ValueErrorType.NumberExclusiveMinimum:
      return at(`must be greater than ${schema.exclusiveMinimum}`, rangeFix(schema));
    case ValueErrorType.IntegerExclusiveMaximum:
    case ValueErrorType.NumberExclusiveMaximum:
      return at(`must be less than ${schema.exclusiveMaximum}`, rangeFix(schema));
    case ValueErrorType.StringMinLength:
      return at(
        schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters long`,
        'Fill in a value.',
      );
    case ValueErrorType.StringMaxLength:
      return at(
        `must be at most ${schema.maxLength} characters long (it has ${String(value).length})`,
        `Shorten it to ${schema.maxLength} characters or fewer.`,
      );
    case ValueErrorType.StringPattern:
      return at(
        `does not have the expected format (pattern ${schema.pattern})`,
        `Use a value matching ${schema.pattern}.`,
      );
    case ValueErrorType.StringFormat:
      return schema.format === 'date-time'
        ? at('must be an RFC 3339 timestamp', 'Use a timestamp such as 2011-04-21T08:55:00Z.')
        : at(`must be a valid ${schema.format} value`, `Use a valid ${schema.format} value.`);
    case ValueErrorType.ArrayMinItems:
      return at(
        `must have at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}`,
        'Add the missing items.',
      );
    case ValueErrorType.ArrayMaxItems:
      return at(
        `must have at most ${schema.maxItems} items (it has ${Array.isArray(value) ? value.length : '?'})`,
        `Remove items until at most ${schema.maxItems} remain, or split the service into several policies.`,
      );
    case ValueErrorType.ObjectMaxProperties:
      return at(`must have at most ${schema.maxProperties} entries`, 'Remove entries.');
    default:
      return at(lowerFirst(error.message), 'Check the field against docs/api.md.');
  }
}

function rangeFix(schema: TSchema): string {
  const low =
    typeof schema.exclusiveMinimum === 'number'
      ? `greater than ${schema.exclusiveMinimum}`
      : typeof schema.minimum === 'number'
        ? `at least ${schema.minimum}`
        : undefined;
  const high = typeof schema.maximum === 'number' ? `at most ${schema.maximum}` : undefined;
  return `Use a value ${[low, high].filter(Boolean).join(' and ')}.`;
}

/** The values of a string enum (a union of literals), or undefined. */
function enumValues(schema: TSchema): string[] | undefined {
  const anyOf = schema.anyOf as TSchema[] | undefined;
  if (!anyOf?.every((member) => typeof member.const === 'string')) return undefined;
  return anyOf.map((member) => member.const as string);
}

/**
 * Formats a path as the apiserver does: a map key reads like a field (`status.weights.use1-a`); one that could not
 * (a key with dots or spaces) is bracketed (`status.weights[a.b]`).
 */
export function formatSchemaPath(root: TSchema, segments: readonly PathSegment[]): string {
  const mapKeys = new Set<number>();
  let schema: TSchema | undefined = root;
  segments.forEach((segment, index) => {
    if (!schema) return;
    if (typeof segment === 'number') {
      schema = schema.items as TSchema | undefined;
    } else if (schema.properties && segment in (schema.properties as object)) {
      schema = (schema.properties as Record<string, TSchema>)[segment];
    } else if (schema.patternProperties) {
      if (!/^[A-Za-z0-9_-]+$/.test(segment)) mapKeys.add(index);
      schema = Object.values(schema.patternProperties as Record<string, TSchema>)[0];
    } else {
      schema = undefined;
    }
  });
  return formatPath(segments, mapKeys);
}

// ---------------------------------------------------------------------------------------------------------------
// Presentation
// ---------------------------------------------------------------------------------------------------------------

/**
 * Renders errors for people, one per line with its fix below:
 *
 *   spec.regions[1].zones[0]: zone us-west-2a does not belong to region us-east-1 … (value: "us-west-2a")
 *     fix: Move the zone under the region it belongs to …
 */
export function formatFieldErrors(errors: readonly FieldError[], options: { file?: string } = {}): string {
  return errors
    .map((error) => {
      const location = options.file ? `${options.file}:${error.line ?? 1}: ` : error.line ? `line ${error.line}: ` : '';
      const rendered = error.value === undefined ? undefined : renderValue(error.value);
      const showValue = rendered !== undefined && !error.message.includes(rendered.replace(/^"|"$/g, ''));
      const path = error.path === '' ? '(document)' : error.path;
      return `${location}${path}: ${error.message}${showValue ? ` (value: ${rendered})` : ''}\n    fix: ${error.fix}`;
    })
    .join('\n');
}

/**
 * One paragraph for the InvalidSpec condition's message (metav1.Condition allows 32768 characters): every error
 * with its path, and the fix of the first. `failoverctl validate` shows the full list with every fix.
 */
export function invalidSpecMessage(errors: readonly FieldError[], maxLength = 4096): string {
  const listed = errors.map((error) => `${error.path === '' ? '(document)' : error.path}: ${error.message}`);
  const head = `${errors.length} validation error${errors.length === 1 ? '' : 's'}, no action is taken until fixed: `;
  const tail = errors[0] ? ` Fix: ${errors[0].fix}` : '';
  const text = `${head}${listed.join('; ')}.${tail}`;
  return text.length > maxLength ? `${text.slice(0, maxLength - 3)}...` : text;
}

function renderValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${JSON.stringify(value)}`;
  return `${typeof value} ${String(value)}`;
}

/** CEL messages name the offending value themselves; a scalar is worth repeating, a whole list or object is not. */
function isSmall(value: unknown): boolean {
  return value !== null && ['string', 'number', 'boolean'].includes(typeof value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/** The candidate within a small edit distance of `word` (case-insensitive), for "did you mean". */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= Math.max(1, Math.floor(candidate.length / 4)) && (!best || distance < best.distance)) {
      best = { candidate, distance };
    }
  }
  return best?.candidate;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** RFC 3339 date-time, as Kubernetes accepts it (metav1.Time). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function registerFormats(): void {
  if (!FormatRegistry.Has('date-time')) {
    FormatRegistry.Set('date-time', (value) => RFC3339.test(value) && !Number.isNaN(Date.parse(value)));
  }
  for (const format of ['int32', 'int64']) {
    if (!FormatRegistry.Has(format)) FormatRegistry.Set(format, () => true);
  }
}
