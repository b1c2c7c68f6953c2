/**
 * Offline evaluation of the schemas' CEL rules with @bufbuild/cel, so that the operator and `failoverctl validate`
 * reject exactly what the apiserver rejects.
 *
 * Two details keep the results faithful to the apiserver:
 * - values are typed by the schema, as the apiserver does: an `integer` field is a CEL int (bigint here), a
 *   `number` field a CEL double, objects and maps are maps;
 * - each rule runs with `self` bound to the value of the node that carries it, only when that node is present, and
 *   its error is reported at that node's path plus the rule's fieldPath.
 * Transition rules (those reading `oldSelf`) need the previous object and are left to the apiserver.
 */
import { type CelResult, celEnv, isCelError, parse, plan } from '@bufbuild/cel';
import type { TSchema } from '@sinclair/typebox';
import { type CelRule, isTransitionRule } from './cel-rules.ts';
import { type PathSegment, parseFieldPath } from './field-path.ts';

export interface CelViolation {
  /** Where the apiserver reports it: the node's path plus the rule's fieldPath. */
  path: PathSegment[];
  rule: CelRule;
  /** The rule's messageExpression result, or its message. */
  message: string;
  /** Set when the rule could not be evaluated (e.g. a field it reads is missing). */
  evaluationError?: string;
}

type Program = (bindings: { self: unknown }) => CelResult;

export interface CelEvaluator {
  /** Evaluates every non-transition rule in `schema` against `value` (found at `path`). */
  evaluate(schema: TSchema, value: unknown, path: PathSegment[]): CelViolation[];
}

/** Creates an evaluator that compiles each distinct rule text once. */
export function createCelEvaluator(): CelEvaluator {
  const env = celEnv();
  const programs = new Map<string, Program>();
  const compile = (text: string): Program => {
    let program = programs.get(text);
    if (!program) {
      program = plan(env, parse(text)) as Program;
      programs.set(text, program);
    }
    return program;
  };

  const evaluateRule = (rule: CelRule, self: unknown, path: PathSegment[]): CelViolation | undefined => {
    const result = compile(rule.rule)({ self });
    const at = [...path, ...parseFieldPath(rule.fieldPath ?? '')];
    if (isCelError(result)) return { path: at, rule, message: rule.message, evaluationError: result.message };
    if (result === true) return undefined;
    let message = rule.message;
    if (rule.messageExpression) {
      const custom = compile(rule.messageExpression)({ self });
      if (typeof custom === 'string' && custom.trim() !== '') message = custom;
    }
    return { path: at, rule, message };
  };

  const visit = (schema: TSchema, value: unknown, path: PathSegment[], out: CelViolation[]): void => {
    if (value === undefined || value === null) return;
    const rules = (schema['x-kubernetes-validations'] as CelRule[] | undefined) ?? [];
    const applicable = rules.filter((rule) => !isTransitionRule(rule));
    if (applicable.length > 0) {
      const self = toCelValue(schema, value);
      for (const rule of applicable) {
        const violation = evaluateRule(rule, self, path);
        if (violation) out.push(violation);
      }
    }
    if (Array.isArray(value) && schema.items) {
      value.forEach((item, index) => {
        visit(schema.items as TSchema, item, [...path, index], out);
      });
    } else if (isPlainObject(value)) {
      const properties = (schema.properties as Record<string, TSchema> | undefined) ?? {};
      const mapValues = mapValueSchema(schema);
      for (const [key, child] of Object.entries(value)) {
        const childSchema = properties[key] ?? mapValues;
        if (childSchema) visit(childSchema, child, [...path, key], out);
      }
    }
  };

  return {
    evaluate(schema, value, path) {
      const out: CelViolation[] = [];
      visit(schema, value, path, out);
      return out;
    },
  };
}

/** Converts a JSON value to the CEL value the apiserver would bind for this schema. */
export function toCelValue(schema: TSchema | undefined, value: unknown): unknown {
  if (schema === undefined || value === null || value === undefined) return value;
  if (schema.type === 'integer' && typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (Array.isArray(value)) return value.map((item) => toCelValue(schema.items as TSchema | undefined, item));
  if (isPlainObject(value)) {
    const properties = (schema.properties as Record<string, TSchema> | undefined) ?? {};
    const mapValues = mapValueSchema(schema);
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) out[key] = toCelValue(properties[key] ?? mapValues, child);
    return out;
  }
  return value;
}

function mapValueSchema(schema: TSchema): TSchema | undefined {
  if (schema.patternProperties) return Object.values(schema.patternProperties as Record<string, TSchema>)[0];
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    return schema.additionalProperties as TSchema;
  }
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
