import { describe, expect, it } from 'vitest';
import type { VerdictAlarmSpec } from '../types.ts';
import { newSim, START } from './sim-test-helpers.ts';

const NS = 'Failover/Verdicts';
const DIMS = { Policy: 'orders', Record: 'use1-a' };
const alarm = (overrides: Partial<VerdictAlarmSpec> = {}): VerdictAlarmSpec => ({
  region: 'us-west-2',
  name: 'drain-use1-a',
  namespace: NS,
  metricName: 'Drain',
  dimensions: DIMS,
  periodSeconds: 10,
  description: 'drain use1-a',
  ...overrides,
});
const verdict = (value: number, at: number) => ({ metricName: 'Drain', dimensions: DIMS, value, at });

describe('verdict alarms', () => {
  it('is INSUFFICIENT_DATA when new, ALARM one period + the evaluation delay after a 1, and stays ALARM without data', async () => {
    const { sim, clock } = newSim();
    await sim.verdicts.putVerdictAlarm(alarm());
    expect(sim.verdicts.alarmState('us-west-2', 'drain-use1-a')).toBe('INSUFFICIENT_DATA');

    // START is a period boundary: the period [START, START+10 s) is evaluated at START + 10 s + 10 s.
    await sim.verdicts.publishVerdicts('us-west-2', NS, [verdict(1, clock.now())]);
    await clock.advance(19_999);
    expect(sim.verdicts.alarmState('us-west-2', 'drain-use1-a')).toBe('INSUFFICIENT_DATA');
    await clock.advance(1);
    expect(sim.verdicts.alarmState('us-west-2', 'drain-use1-a')).toBe('ALARM');

    // Missing data is ignored: the state holds.
    await clock.advance(600_000);
    const [observed] = await sim.verdicts.describeAlarms('us-west-2', ['drain-use1-a', 'no-such-alarm']);
    expect(observed).toMatchObject({ state: 'ALARM', stateUpdatedAt: START + 20_000, periodSeconds: 10 });
    expect(await sim.verdicts.describeAlarms('us-west-2', ['no-such-alarm'])).toEqual([]);
  });

  it('goes OK on a period whose Maximum is below 1, and judges a period by its Maximum', async () => {
    const { sim, clock } = newSim();
    await sim.verdicts.putVerdictAlarm(alarm());
    await sim.verdicts.publishVerdicts('us-west-2', NS, [verdict(0, clock.now())]);
    await clock.advance(20_000);
    expect(sim.verdicts.alarmState('us-west-2', 'drain-use1-a')).toBe('OK');

    const t = clock.now();
    await sim.verdicts.publishVerdicts('us-west-2', NS, [verdict(0, t), verdict(1, t + 1), verdict(0, t + 2)]);
    await clock.advance(20_000);
    expect(sim.verdicts.alarmState('us-west-2', 'drain-use1-a')).toBe('ALARM');
    expect(sim.verdicts.history('us-west-2', 'drain-use1-a').map((h) => h.state)).toEqual([
      'INSUFFICIENT_DATA',
      'OK',
      'ALARM',
    ]);
  });

  it('never rewrites a past evaluation with a datapoint received after it (back-dated)', async () => {
    const { sim, clock } = newSim();
    await sim.verdicts.putVerdictAlarm(alarm());
    await clock.advance(30_000);
    // Timestamp in the first period, which was evaluated at START + 20 s.
    await sim.verdicts.publishVerdicts('us-west-2', NS, [verdict(1, START + 1_000)]);
    await clock.advance(60_000);
    expect(sim.verdicts.alarmState('us-west-2', 'drain-use1-a')).toBe('INSUFFICIENT_DATA');
  });

  it('keeps the state when PutMetricAlarm overwrites an alarm', async () => {
    const { sim, clock } = newSim();
    await sim.verdicts.putVerdictAlarm(alarm());
    await sim.verdicts.publishVerdicts('us-west-2', NS, [verdict(1, clock.now())]);
    await clock.advance(20_000);
    await sim.verdicts.putVerdictAlarm(alarm({ description: 'updated', periodSeconds: 30 }));
    const [observed] = await sim.verdicts.describeAlarms('us-west-2', ['drain-use1-a']);
    expect(observed).toMatchObject({ state: 'ALARM', periodSeconds: 30 });
  });

  it('SetAlarmState changes what DescribeAlarms reports until the next evaluation with data, not the evaluated state', async () => {
    const { sim, clock } = newSim();
    await sim.verdicts.putVerdictAlarm(alarm());
    await sim.verdicts.publishVerdicts('us-west-2', NS, [verdict(0, clock.now())]);
    await clock.advance(20_000);
    sim.verdicts.setAlarmState('us-west-2', 'drain-use1-a', 'ALARM');
    expect(sim.verdicts.alarmState('us-west-2', 'drain-use1-a')).toBe('ALARM');
    expect(sim.verdicts.evaluatedStateAt('us-west-2', 'drain-use1-a', clock.now())).toBe('OK');
    await clock.advance(60_000);
    expect(sim.verdicts.alarmState('us-west-2', 'drain-use1-a')).toBe('ALARM');
    await sim.verdicts.publishVerdicts('us-west-2', NS, [verdict(0, clock.now())]);
    await clock.advance(20_000);
    expect(sim.verdicts.alarmState('us-west-2', 'drain-use1-a')).toBe('OK');
  });

  it('keeps metrics and alarms per region', async () => {
    const { sim, clock } = newSim();
    await sim.verdicts.putVerdictAlarm(alarm());
    await sim.verdicts.putVerdictAlarm(alarm({ region: 'us-east-1' }));
    await sim.verdicts.publishVerdicts('us-east-1', NS, [verdict(1, clock.now())]);
    await clock.advance(20_000);
    expect(sim.verdicts.alarmState('us-east-1', 'drain-use1-a')).toBe('ALARM');
    expect(sim.verdicts.alarmState('us-west-2', 'drain-use1-a')).toBe('INSUFFICIENT_DATA');
  });

  it('refuses invalid periods, reserved namespaces and out-of-range timestamps (terminal)', async () => {
    const { sim, clock } = newSim();
    await expect(sim.verdicts.putVerdictAlarm(alarm({ periodSeconds: 15 }))).rejects.toMatchObject({
      kind: 'terminal',
      code: 'InvalidParameterValue',
    });
    await expect(sim.verdicts.publishVerdicts('us-west-2', 'AWS/RDS', [verdict(1, clock.now())])).rejects.toMatchObject(
      { code: 'InvalidParameterValue' },
    );
    await expect(
      sim.verdicts.publishVerdicts('us-west-2', NS, [verdict(1, clock.now() + 3 * 3_600_000)]),
    ).rejects.toMatchObject({ code: 'InvalidParameterValue' });
  });

  it('logs one call per API request: PutMetricData split at 1,000 metrics, DescribeAlarms at 100 names', async () => {
    const { sim, clock } = newSim();
    const data = Array.from({ length: 2_001 }, (_, i) => ({ ...verdict(0, clock.now()), dimensions: { R: `${i}` } }));
    await sim.verdicts.publishVerdicts('us-west-2', NS, data);
    await sim.verdicts.describeAlarms(
      'us-west-2',
      Array.from({ length: 150 }, (_, i) => `a${i}`),
    );
    const ops = sim.calls
      .recent()
      .filter((c) => c.service === 'cloudwatch')
      .map((c) => `${c.operation}@${c.region}`);
    expect(ops).toEqual([
      'PutMetricData@us-west-2',
      'PutMetricData@us-west-2',
      'PutMetricData@us-west-2',
      'DescribeAlarms@us-west-2',
      'DescribeAlarms@us-west-2',
    ]);
  });
});

describe('CloudWatch faults', () => {
  it('a CloudWatch fault in us-west-2 does not touch CloudWatch in us-east-1 nor Route 53', async () => {
    const { sim, clock } = newSim();
    sim.faults.set('cw-usw2', { service: 'cloudwatch', region: 'us-west-2', errorRate: 1 });
    await expect(sim.verdicts.publishVerdicts('us-west-2', NS, [verdict(1, clock.now())])).rejects.toMatchObject({
      kind: 'retryable',
      service: 'cloudwatch',
      operation: 'PutMetricData',
    });
    await expect(sim.verdicts.putVerdictAlarm(alarm())).rejects.toMatchObject({ operation: 'PutMetricAlarm' });

    await sim.verdicts.putVerdictAlarm(alarm({ region: 'us-east-1' }));
    await sim.verdicts.publishVerdicts('us-east-1', NS, [verdict(1, clock.now())]);
    await expect(sim.verdicts.describeAlarms('us-east-1', ['drain-use1-a'])).resolves.toHaveLength(1);
    await expect(
      sim.healthChecks.createAlarmHealthCheck({
        callerReference: 'ref-1',
        alarm: { region: 'us-east-1', name: 'drain-use1-a' },
        insufficientDataHealthStatus: 'LastKnownStatus',
        tags: {},
      }),
    ).resolves.toBe('hc-0001');
    await expect(sim.dns.listRecords('Z0123456789', 'api.example.com.', 'A')).resolves.toHaveLength(4);
  });
});
