import { parse } from '@bufbuild/cel';
import { Type } from '@sinclair/typebox';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCelEvaluator, toCelValue } from './cel-eval.ts';
import { ALL_RULES, isTransitionRule, regionListRules, route53Rules } from './cel-rules.ts';
import { withRules } from './common-schema.ts';
import { Route53TrafficSchema } from './policy-schema.ts';

describe('CEL rules', () => {
  it.each(ALL_RULES.map((rule) => [rule.id, rule] as const))('%s parses as standard CEL', (_, rule) => {
    expect(() => parse(rule.rule)).not.toThrow();
    if (rule.messageExpression) expect(() => parse(rule.messageExpression!)).not.toThrow();
  });

  it('marks rules that read oldSelf as transition rules', () => {
    const transition = ALL_RULES.filter(isTransitionRule).map((rule) => rule.id);
    expect(transition.sort()).toEqual(['drill.abortIsFinal', 'drill.immutable']);
  });
});

describe('toCelValue', () => {
  it('types integers as CEL int and numbers as CEL double, following the schema', () => {
    const schema = Type.Object({
      count: Type.Integer(),
      ratio: Type.Number(),
      list: Type.Array(Type.Integer()),
      map: Type.Record(Type.String(), Type.Integer()),
    });
    expect(toCelValue(schema, { count: 3, ratio: 3, list: [1, 2], map: { a: 7 }, extra: 5 })).toEqual({
      count: 3n,
      ratio: 3,
      list: [1n, 2n],
      map: { a: 7n },
      extra: 5,
    });
  });
});

describe('createCelEvaluator', () => {
  const evaluator = createCelEvaluator();

  it('reports a failed rule at the node path plus its fieldPath, with the messageExpression', () => {
    const traffic = {
      hostedZoneId: 'Z1',
      recordName: 'a.example.com.',
      type: 'A',
      records: [
        { setIdentifier: 'a', zone: 'us-east-1a', weight: 0 },
        { setIdentifier: 'a', zone: 'us-east-1b', weight: 0 },
      ],
    };
    const violations = evaluator.evaluate(Route53TrafficSchema, traffic, ['spec', 'traffic', 'route53']);
    expect(violations.map((violation) => [violation.rule.id, violation.path.join('.'), violation.message])).toEqual([
      [
        'route53.uniqueSetIdentifiers',
        'spec.traffic.route53.records',
        'setIdentifier a is used by more than one record; Route 53 identifies each weighted record by its setIdentifier',
      ],
      ['route53.someWeightNonZero', 'spec.traffic.route53.records', route53Rules.someWeightNonZero.message],
    ]);
  });

  it('evaluates rules on every list item with the item as self', () => {
    const schema = Type.Array(
      withRules(Type.Object({ name: Type.String(), zones: Type.Array(Type.String()) }), {
        id: 'test',
        rule: 'self.zones.all(z, z.startsWith(self.name))',
        message: 'zone outside region.',
        fieldPath: '.zones',
        fix: 'Fix it.',
      }),
    );
    const value = [
      { name: 'us-east-1', zones: ['us-east-1a'] },
      { name: 'us-west-2', zones: ['us-west-2a', 'us-east-1b'] },
    ];
    expect(evaluator.evaluate(schema, value, ['spec', 'regions']).map((violation) => violation.path)).toEqual([
      ['spec', 'regions', 1, 'zones'],
    ]);
  });

  it('reports evaluation errors instead of throwing', () => {
    const schema = withRules(Type.Object({}), {
      id: 'missing',
      rule: 'self.absent == 1',
      message: 'needs absent.',
      fix: 'Add it.',
    });
    const [violation] = evaluator.evaluate(schema, {}, ['spec']);
    expect(violation?.evaluationError).toMatch(/absent/);
  });

  it('agrees with a direct implementation of "exactly one primary" on arbitrary region lists', () => {
    const schema = withRules(
      Type.Array(Type.Object({ name: Type.String(), role: Type.String() })),
      regionListRules.exactlyOnePrimary,
    );
    fc.assert(
      fc.property(fc.array(fc.constantFrom('primary', 'standby'), { maxLength: 10 }), (roles) => {
        const regions = roles.map((role, index) => ({ name: `r${index}`, role }));
        const violations = evaluator.evaluate(schema, regions, ['spec', 'regions']);
        const primaries = roles.filter((role) => role === 'primary').length;
        expect(violations.length === 0).toBe(primaries === 1);
        if (primaries === 0) expect(violations[0]!.message).toContain('but none has it');
        if (primaries > 1) expect(violations[0]!.message).toContain('r');
      }),
    );
  });

  it('agrees with a direct implementation of the weight and setIdentifier rules', () => {
    const record = fc.record({
      setIdentifier: fc.constantFrom('a', 'b', 'c', 'd'),
      weight: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 8 }), (records) => {
        const traffic = { hostedZoneId: 'Z1', recordName: 'x.example.com.', type: 'A', records };
        const ids = new Set(
          evaluator.evaluate(Route53TrafficSchema, traffic, ['spec']).map((violation) => violation.rule.id),
        );
        const unique = new Set(records.map((r) => r.setIdentifier)).size === records.length;
        expect(ids.has('route53.uniqueSetIdentifiers')).toBe(!unique);
        expect(ids.has('route53.someWeightNonZero')).toBe(records.every((r) => r.weight === 0));
      }),
    );
  });
});
