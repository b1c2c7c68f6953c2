// What failoverctl reads from the apiserver is checked before it is printed: a FailoverPolicy or FailoverDrill whose
// spec or status is not the shape this version expects (an older or newer CRD, a hand-edited status, a proxy that
// answers something else) becomes one line naming the object and the field, not a TypeError deep in the formatter.

import type { TSchema } from '@sinclair/typebox';
import { type ValueError, ValueErrorType } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { formatPath, pointerToSegments } from '../../api/field-path.ts';
import { CtlError } from './kube.ts';

/** A value of the wrong type: what makes rendering throw. Values out of range or unknown enum members print fine. */
const WRONG_TYPE = new Set<ValueErrorType>([
  ValueErrorType.Object,
  ValueErrorType.Array,
  ValueErrorType.String,
  ValueErrorType.Number,
  ValueErrorType.Integer,
  ValueErrorType.Boolean,
]);

/**
 * Returns `object` as T, or throws a CtlError (exit code 2: the cluster, not the command line, is at fault) naming
 * `namespace/name` and the first field that is missing from spec or metadata or has the wrong type anywhere.
 */
export function checkServerObject<T>(kind: string, schema: TSchema, object: unknown, server: string): T {
  if (object === null || typeof object !== 'object' || Array.isArray(object)) {
    throw new CtlError(`the Kubernetes API at ${server} returned a ${kind} that is not an object`, 2);
  }
  const metadata = (object as { metadata?: { name?: unknown; namespace?: unknown } }).metadata;
  const id = `${typeof metadata?.namespace === 'string' ? metadata.namespace : '?'}/${typeof metadata?.name === 'string' ? metadata.name : '?'}`;
  // Defaults first: an object stored before a defaulted field existed is not malformed.
  const defaulted = Value.Default(schema, structuredClone(object));
  for (const error of Value.Errors(schema, defaulted)) {
    if (!isMalformed(error)) continue;
    const segments = pointerToSegments(error.path, defaulted);
    const field = formatPath(segments) || '(object)';
    const what =
      error.type === ValueErrorType.ObjectRequiredProperty
        ? 'is missing'
        : `is ${describe(error.value)}, expected ${expected(error.type)}`;
    throw new CtlError(
      `the Kubernetes API at ${server} returned ${kind} ${id} with ${field} that ${what}; is its CRD the version this failoverctl expects (kubectl apply -f crds/)?`,
      2,
    );
  }
  return object as T;
}

function isMalformed(error: ValueError): boolean {
  if (WRONG_TYPE.has(error.type)) return error.value !== undefined;
  // A required field missing from what a person wrote (spec, metadata); status is the operator's, read leniently.
  return error.type === ValueErrorType.ObjectRequiredProperty && !error.path.startsWith('/status');
}

function expected(type: ValueErrorType): string {
  switch (type) {
    case ValueErrorType.Object:
      return 'a mapping';
    case ValueErrorType.Array:
      return 'a list';
    case ValueErrorType.String:
      return 'a string';
    case ValueErrorType.Boolean:
      return 'true or false';
    default:
      return 'a number';
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  const text = JSON.stringify(value) ?? String(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 37)}...` : text}`;
}
