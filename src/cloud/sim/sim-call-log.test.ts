import { describe, expect, it } from 'vitest';
import { createCallLog } from './sim-call-log.ts';

const MINUTE = 60_000;
const T0 = Date.parse('2011-04-21T07:55:00Z');

describe('the simulated cloud call log', () => {
  it('keeps a ring of recent calls, every write, and counters per service, operation and outcome', () => {
    const log = createCallLog({ recentCapacity: 3 });
    for (let i = 0; i < 10; i++) {
      const read = log.start({ service: 'ec2', operation: 'DescribeInstances', region: 'us-east-1' }, T0 + i * 1000);
      log.finish(
        read,
        T0 + i * 1000 + 200,
        i % 2 === 0 ? 'ok' : 'error',
        i % 2 === 0 ? undefined : { code: 'Throttling', kind: 'throttled' },
      );
    }
    const write = log.start(
      { service: 'route53', operation: 'ChangeResourceRecordSets', region: 'us-east-1' },
      T0 + 20_000,
    );
    log.finish(write, T0 + 20_500, 'ok');

    expect(log.recent().map((c) => c.seq)).toEqual([8, 9, 10]);
    expect(log.writes().map((c) => c.operation)).toEqual(['ChangeResourceRecordSets']);
    expect(log.total()).toBe(11);
    expect(log.firstAt()).toBe(T0);
    expect(log.count({ operation: 'DescribeInstances' })).toBe(10);
    expect(log.count({ operation: 'DescribeInstances', outcome: 'error' })).toBe(5);
    expect(log.count({ kind: 'throttled' })).toBe(5);
    expect(log.count({ operation: 'ChangeResourceRecordSets', outcome: 'ok' })).toBe(1);
    const throttled = log.counters().find((c) => c.code === 'Throttling');
    expect(throttled).toMatchObject({ count: 5, first: { seq: 1 } });
  });

  it('stays bounded over a simulated week of calls every second', () => {
    const log = createCallLog();
    const week = 7 * 24 * 3600;
    for (let s = 0; s < week; s++) {
      const call = log.start({ service: 'rds', operation: 'DescribeDBInstances', region: 'us-east-1' }, T0 + s * 1000);
      log.finish(call, T0 + s * 1000 + 50, 'ok');
    }
    expect(log.total()).toBe(week);
    expect(log.recent()).toHaveLength(5_000);
    expect(log.writes()).toHaveLength(0);
    expect(log.counters()).toHaveLength(1);
    expect(log.perMinute('DescribeDBInstances')).toEqual({ total: week, worst: 60, worstMinuteAt: T0 });
  });

  it('keeps writes up to a cap and counts the rest', () => {
    const log = createCallLog({ writeCapacity: 2 });
    for (let i = 0; i < 5; i++) log.start({ service: 'ec2', operation: 'RunInstances', region: 'us-east-1' }, T0 + i);
    expect(log.writes()).toHaveLength(2);
    expect(log.writesDropped()).toBe(3);
  });

  it('finds the busiest clock minute of an operation, and the calls that took too long or never ended', () => {
    const log = createCallLog();
    const at = [0, 10_000, MINUTE + 1, MINUTE + 2, MINUTE + 3, 3 * MINUTE];
    const calls = at.map((t) =>
      log.start({ service: 'route53', operation: 'ChangeResourceRecordSets', region: 'us-east-1' }, T0 + t),
    );
    log.finish(calls[0]!, T0 + 1_000, 'ok');
    log.finish(calls[1]!, T0 + 10_000 + 61_000, 'aborted', { code: 'TimeoutError', kind: 'timeout' });
    log.markHung(calls[2]!);
    for (const c of calls.slice(3)) log.finish(c, c.at + 60_000, 'ok');
    expect(log.perMinute('ChangeResourceRecordSets')).toEqual({ total: 6, worst: 3, worstMinuteAt: T0 + MINUTE });
    expect(log.perMinute('RunInstances')).toEqual({ total: 0, worst: 0 });
    // 61 s is over a 60 s bound, 60 s is not; the hung call has not ended.
    expect(log.countLongerThan(60_000)).toBe(2);
    expect(log.count({ outcome: 'hung' })).toBe(1);
    expect(log.count({ operation: 'ChangeResourceRecordSets' })).toBe(6);
  });

  it('counts a call once even when it is finished twice', () => {
    const log = createCallLog();
    const call = log.start({ service: 'ec2', operation: 'RebootInstances', region: 'us-east-1' }, T0);
    log.finish(call, T0 + 5, 'aborted');
    log.finish(call, T0 + 9, 'aborted');
    expect(log.count({ operation: 'RebootInstances' })).toBe(1);
  });
});
