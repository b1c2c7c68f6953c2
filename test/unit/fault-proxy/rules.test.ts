import { describe, expect, it } from 'vitest';
import {
  applyRewrites,
  describePlan,
  type FaultRule,
  FaultRuleBook,
  ruleMatches,
  validateRule,
} from '../../fault-proxy/rules.ts';

const changeRecords = { service: 'route53', region: 'us-east-1', action: 'ChangeResourceRecordSets' };
const promote = { service: 'rds', region: 'us-west-2', action: 'PromoteReadReplica' };

describe('ruleMatches', () => {
  it('matches on every selector that is set and ignores the unset ones', () => {
    expect(ruleMatches({}, promote)).toBe(true);
    expect(ruleMatches({ service: 'rds' }, promote)).toBe(true);
    expect(ruleMatches({ service: 'rds', region: 'us-east-1' }, promote)).toBe(false);
    expect(ruleMatches({ action: 'promotereadreplica', region: 'US-WEST-2' }, promote)).toBe(true);
    expect(ruleMatches({ action: 'DescribeDBInstances' }, promote)).toBe(false);
  });

  it('selects by a regular expression on the request body; a call without one never matches', () => {
    const body =
      'Action=PromoteReadReplica&Version=2014-10-31&DBInstanceIdentifier=orders-usw2&BackupRetentionPeriod=1';
    const rule = { action: 'PromoteReadReplica', body: 'DBInstanceIdentifier=orders-usw2(&|$)' };
    expect(ruleMatches(rule, { ...promote, body })).toBe(true);
    expect(ruleMatches(rule, { ...promote, body: body.replace('orders-usw2', 'orders-usw2-b') })).toBe(false);
    expect(ruleMatches(rule, promote)).toBe(false);
    expect(ruleMatches({ body: '' }, { ...promote, body: '' })).toBe(false);
    expect(validateRule({ body: '(', latencyMs: 0 })).toEqual({
      ok: false,
      problems: [expect.stringMatching(/^body is not a valid regular expression/)],
    });
    expect(validateRule({ body: 1, latencyMs: 0 })).toMatchObject({ ok: false, problems: ['body must be a string'] });
  });

  it('accepts the friendly service names', () => {
    const putMetric = { service: 'monitoring', region: 'us-east-1', action: 'PutMetricData' };
    expect(ruleMatches({ service: 'cloudwatch' }, putMetric)).toBe(true);
    expect(ruleMatches({ service: 'Route 53' }, changeRecords)).toBe(true);
    expect(ruleMatches({ service: 'cloudwatch' }, changeRecords)).toBe(false);
  });
});

describe('FaultRuleBook.plan', () => {
  it('adds up latencies, lets the first terminal effect win and keeps rewrites in order', () => {
    const book = new FaultRuleBook();
    const slow = book.add({ latencyMs: 100 });
    const throttle = book.add({ service: 'route53', error: { status: 400, code: 'Throttling' } });
    const reset = book.add({ service: 'route53', reset: true });
    const rewrite = book.add({ rewrite: [{ find: 'a', replace: 'b' }] });
    book.add({ service: 'ec2', latencyMs: 5000 });

    const plan = book.plan(changeRecords);
    expect(plan.ruleIds).toEqual([slow, throttle, reset, rewrite]);
    expect(plan.latencyMs).toBe(100);
    expect(plan.terminal).toEqual({ kind: 'error', error: { status: 400, code: 'Throttling' } });
    expect(plan.rewrites).toEqual([{ find: 'a', replace: 'b' }]);
    expect(describePlan(plan)).toBe('latency+error');
  });

  it('expires a rule after `times` calls it applied to', () => {
    const book = new FaultRuleBook();
    book.add({ action: 'ChangeResourceRecordSets', error: { status: 400, code: 'Throttling' }, times: 2 });
    expect(book.plan(promote).terminal).toBeUndefined(); // not matching: does not spend a use
    expect(book.plan(changeRecords).terminal?.kind).toBe('error');
    expect(book.list()[0]?.remaining).toBe(1);
    expect(book.plan(changeRecords).terminal?.kind).toBe('error');
    expect(book.list()).toEqual([]);
    expect(describePlan(book.plan(changeRecords))).toBe('pass');
  });

  it('applies a rule with a probability only when the draw is below it, and only then spends a use', () => {
    const draws = [0.9, 0.1, 0.5];
    const book = new FaultRuleBook(() => draws.shift() ?? 1);
    book.add({ reset: true, probability: 0.5, times: 1 });
    expect(book.plan(promote).terminal).toBeUndefined(); // 0.9: skipped
    expect(book.list()[0]?.remaining).toBe(1);
    expect(book.plan(promote).terminal).toEqual({ kind: 'reset' }); // 0.1: applied, expires
    expect(book.plan(promote).terminal).toBeUndefined();
  });

  it('removes one rule or all of them', () => {
    const book = new FaultRuleBook();
    const a = book.add({ hang: true });
    book.add({ latencyMs: 1 });
    expect(book.remove(a)).toBe(true);
    expect(book.remove(a)).toBe(false);
    expect(book.plan(promote).terminal).toBeUndefined();
    book.clear();
    expect(book.list()).toEqual([]);
  });
});

describe('validateRule', () => {
  it('accepts the rules tests write', () => {
    const rules: FaultRule[] = [
      { service: 'route53', action: 'GetChange', latencyMs: 250 },
      {
        service: 'rds',
        region: 'us-west-2',
        error: { status: 400, code: 'Throttling', message: 'slow down' },
        times: 1,
      },
      {
        service: 'ec2',
        rewrite: [{ find: '<zoneState>available</zoneState>', replace: '<zoneState>impaired</zoneState>' }],
      },
      { hang: true, probability: 0.25 },
    ];
    for (const rule of rules) expect(validateRule(rule)).toEqual({ ok: true, rule });
  });

  it('explains every problem with a rule', () => {
    const result = validateRule({
      servce: 'rds',
      hang: true,
      reset: true,
      times: 0,
      probability: 2,
      error: { status: 200, code: '' },
      rewrite: [{ find: '(', replace: '' }, { find: 'x' }],
    });
    expect(result.ok).toBe(false);
    expect(result.ok ? [] : result.problems).toEqual([
      'unknown field "servce"',
      'times must be an integer >= 1',
      'probability must be a number in [0, 1]',
      'error.status must be an HTTP error status (400-599)',
      'error.code must be a non-empty string',
      expect.stringContaining('rewrite[0] is not a valid regular expression'),
      'rewrite[1] must be {find: string, replace: string, flags?: string}',
      'choose at most one of hang, reset, error',
    ]);
  });

  it('rejects a rule that would do nothing', () => {
    expect(validateRule({ service: 'rds' })).toEqual({
      ok: false,
      problems: ['a rule needs an effect: latencyMs, hang, reset, error or rewrite'],
    });
    expect(validateRule([])).toEqual({ ok: false, problems: ['a rule must be a JSON object'] });
  });
});

describe('applyRewrites', () => {
  it('applies find/replace pairs in order, globally by default, with capture groups', () => {
    const body = '<DBInstanceStatus>available</DBInstanceStatus><x>available</x>';
    expect(
      applyRewrites(body, [
        { find: '<DBInstanceStatus>available<', replace: '<DBInstanceStatus>modifying<' },
        { find: '<(x)>(\\w+)<', replace: '<$1>was-$2<' },
      ]),
    ).toBe('<DBInstanceStatus>modifying</DBInstanceStatus><x>was-available</x>');
    expect(applyRewrites('a a', [{ find: 'a', replace: 'b', flags: '' }])).toBe('b a');
  });
});
