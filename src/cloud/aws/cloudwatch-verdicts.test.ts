import {
  DescribeAlarmsCommand,
  type DescribeAlarmsCommandInput,
  type MetricAlarm,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
  type PutMetricDataCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { CloudError } from '../errors.ts';
import type { VerdictDatum } from '../types.ts';
import type { AwsClients } from './clients.ts';
import {
  batchDatums,
  createCloudWatchVerdicts,
  isValidAlarmPeriod,
  PUT_METRIC_DATA_MAX_DATUMS,
  toDimensions,
} from './cloudwatch-verdicts.ts';

interface Sent {
  region: string;
  op: string;
  input: unknown;
  signal: AbortSignal | undefined;
}

/** A CloudWatch per region that stores alarms and pages DescribeAlarms `pageSize` at a time. */
function fakeCloudWatch(opts: { pageSize?: number; fail?: (s: Sent) => boolean } = {}) {
  const sent: Sent[] = [];
  const alarms = new Map<string, MetricAlarm>(); // key region/name
  const clients = {
    regional: (_service: string, region: string) => ({
      async send(cmd: { input: unknown }, options?: { abortSignal?: AbortSignal }) {
        const s: Sent = {
          region,
          op: cmd.constructor.name.replace(/Command$/, ''),
          input: cmd.input,
          signal: options?.abortSignal,
        };
        sent.push(s);
        if (opts.fail?.(s)) {
          throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
        }
        if (cmd instanceof PutMetricAlarmCommand) {
          const input = cmd.input;
          alarms.set(`${region}/${input.AlarmName}`, {
            AlarmName: input.AlarmName,
            Namespace: input.Namespace,
            MetricName: input.MetricName,
            Dimensions: input.Dimensions,
            Period: input.Period,
            StateValue: 'INSUFFICIENT_DATA',
            StateUpdatedTimestamp: new Date('2026-11-23T12:00:00Z'),
          });
          return { $metadata: {} };
        }
        if (cmd instanceof DescribeAlarmsCommand) {
          const input = cmd.input as DescribeAlarmsCommandInput;
          const matching = [...alarms.entries()]
            .filter(([key]) => key.startsWith(`${region}/`))
            .map(([, a]) => a)
            .filter((a) => input.AlarmNames?.includes(a.AlarmName ?? ''));
          const size = opts.pageSize ?? 100;
          const from = input.NextToken === undefined ? 0 : Number(input.NextToken);
          const next = from + size < matching.length ? String(from + size) : undefined;
          return {
            $metadata: {},
            MetricAlarms: matching.slice(from, from + size),
            ...(next ? { NextToken: next } : {}),
          };
        }
        if (cmd instanceof PutMetricDataCommand) return { $metadata: {} };
        throw new Error(`unexpected command ${s.op}`);
      },
    }),
  } as unknown as AwsClients;
  return { clients, sent, alarms };
}

const alarmSpec = {
  region: 'us-west-2',
  name: 'failover-operator-orders-api-use1-a',
  namespace: 'FailoverOperator',
  metricName: 'DrainVerdict',
  dimensions: { Record: 'use1-a', Policy: 'orders' },
  periodSeconds: 10,
  description: 'failover-operator: drain verdict of orders api use1-a',
};

describe('putVerdictAlarm', () => {
  it('puts an alarm on the Maximum of the verdict over one period, >= 1, missing data ignored, no actions', async () => {
    const fake = fakeCloudWatch();
    const signal = new AbortController().signal;
    await createCloudWatchVerdicts(fake.clients).putVerdictAlarm(alarmSpec, { signal });
    expect(fake.sent).toEqual([
      {
        region: 'us-west-2',
        op: 'PutMetricAlarm',
        signal,
        input: {
          AlarmName: 'failover-operator-orders-api-use1-a',
          AlarmDescription: 'failover-operator: drain verdict of orders api use1-a',
          Namespace: 'FailoverOperator',
          MetricName: 'DrainVerdict',
          Dimensions: [
            { Name: 'Policy', Value: 'orders' },
            { Name: 'Record', Value: 'use1-a' },
          ],
          Statistic: 'Maximum',
          Period: 10,
          EvaluationPeriods: 1,
          DatapointsToAlarm: 1,
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          TreatMissingData: 'ignore',
          ActionsEnabled: false,
        },
      },
    ]);
  });

  it('refuses a period CloudWatch would refuse, without calling it', async () => {
    const fake = fakeCloudWatch();
    await expect(
      createCloudWatchVerdicts(fake.clients).putVerdictAlarm({ ...alarmSpec, periodSeconds: 45 }),
    ).rejects.toMatchObject({ kind: 'terminal', code: 'InvalidAlarmPeriod' });
    expect(fake.sent).toEqual([]);
  });

  it.each([
    [10, true],
    [20, true],
    [30, true],
    [60, true],
    [300, true],
    [0, false],
    [5, false],
    [45, false],
    [90, false],
    [60.5, false],
  ])('period %s valid: %s', (seconds, valid) => {
    expect(isValidAlarmPeriod(seconds)).toBe(valid);
  });
});

describe('describeAlarms', () => {
  it('asks by name, 100 names per request, follows NextToken, and leaves out alarms that do not exist', async () => {
    const fake = fakeCloudWatch({ pageSize: 40 });
    const verdicts = createCloudWatchVerdicts(fake.clients);
    const names = Array.from({ length: 150 }, (_, i) => `failover-operator-${String(i).padStart(3, '0')}`);
    for (const name of names.slice(0, 140)) await verdicts.putVerdictAlarm({ ...alarmSpec, name });
    await verdicts.putVerdictAlarm({ ...alarmSpec, region: 'us-east-1', name: 'failover-operator-145' });
    fake.sent.length = 0;

    const turns: number[] = [];
    const nextRequest = async () => void turns.push(fake.sent.length);
    const got = await verdicts.describeAlarms('us-west-2', [...names, names[0]!], { nextRequest });
    expect(turns).toEqual([1, 2, 3]); // each page and batch after the first waited for its own grant
    expect(got.map((a) => a.name)).toEqual(names.slice(0, 140));
    const requests = fake.sent.map((s) => s.input as DescribeAlarmsCommandInput);
    expect(requests.map((r) => [r.AlarmNames?.length, r.NextToken])).toEqual([
      [100, undefined],
      [100, '40'],
      [100, '80'],
      [50, undefined],
    ]);
    expect(requests.every((r) => r.MaxRecords === 100 && r.AlarmTypes?.join() === 'MetricAlarm')).toBe(true);
    expect(got[0]).toEqual({
      region: 'us-west-2',
      name: 'failover-operator-000',
      state: 'INSUFFICIENT_DATA',
      stateUpdatedAt: Date.parse('2026-11-23T12:00:00Z'),
      namespace: 'FailoverOperator',
      metricName: 'DrainVerdict',
      dimensions: { Policy: 'orders', Record: 'use1-a' },
      periodSeconds: 10,
    });
  });

  it('makes no request for no names', async () => {
    const fake = fakeCloudWatch();
    await expect(createCloudWatchVerdicts(fake.clients).describeAlarms('us-west-2', [])).resolves.toEqual([]);
    expect(fake.sent).toEqual([]);
  });
});

const datum = (i: number, value = 1): VerdictDatum => ({
  metricName: 'DrainVerdict',
  dimensions: { Policy: 'orders', Record: `r${i}` },
  value,
  at: Date.parse('2026-11-23T12:00:00Z') + i,
});

describe('publishVerdicts', () => {
  it('sends standard-resolution datums (Route 53 follows no high-resolution alarm) with their timestamps, unit None, to the region asked for', async () => {
    const fake = fakeCloudWatch();
    const signal = new AbortController().signal;
    await createCloudWatchVerdicts(fake.clients).publishVerdicts(
      'us-west-2',
      'FailoverOperator',
      [datum(0), datum(1, 0)],
      { signal },
    );
    expect(fake.sent).toEqual([
      {
        region: 'us-west-2',
        op: 'PutMetricData',
        signal,
        input: {
          Namespace: 'FailoverOperator',
          MetricData: [
            {
              MetricName: 'DrainVerdict',
              Dimensions: [
                { Name: 'Policy', Value: 'orders' },
                { Name: 'Record', Value: 'r0' },
              ],
              Timestamp: new Date('2026-11-23T12:00:00.000Z'),
              Value: 1,
              Unit: 'None',
              StorageResolution: 60,
            },
            {
              MetricName: 'DrainVerdict',
              Dimensions: [
                { Name: 'Policy', Value: 'orders' },
                { Name: 'Record', Value: 'r1' },
              ],
              Timestamp: new Date('2026-11-23T12:00:00.001Z'),
              Value: 0,
              Unit: 'None',
              StorageResolution: 60,
            },
          ],
        },
      },
    ]);
  });

  it('splits at 1,000 datums per request, in order', async () => {
    const fake = fakeCloudWatch();
    const data = Array.from({ length: 2_345 }, (_, i) => datum(i));
    const turns: number[] = [];
    const nextRequest = async () => void turns.push(fake.sent.length);
    await createCloudWatchVerdicts(fake.clients).publishVerdicts('us-west-2', 'FailoverOperator', data, {
      nextRequest,
    });
    expect(turns).toEqual([1, 2]);
    const batches = fake.sent.map((s) => (s.input as PutMetricDataCommandInput).MetricData ?? []);
    expect(batches.map((b) => b.length)).toEqual([1000, 1000, 345]);
    expect(batches.flat().map((d) => d.Dimensions?.[1]?.Value)).toEqual(data.map((d) => d.dimensions.Record));
  });

  it('splits by size too, never leaving a datum out or a request over the budget', () => {
    const big = (i: number) => ({ MetricName: 'm', Dimensions: [{ Name: 'n', Value: 'x'.repeat(900) }], Value: i });
    const batches = batchDatums(
      Array.from({ length: 50 }, (_, i) => big(i)),
      PUT_METRIC_DATA_MAX_DATUMS,
      10_000,
    );
    expect(batches.flat()).toHaveLength(50);
    for (const b of batches) expect(JSON.stringify(b).length).toBeLessThanOrEqual(10_000);
    expect(batches.length).toBeGreaterThan(1);
    // A single datum over the budget still goes, alone.
    expect(batchDatums([big(1), big(2)], 1000, 10)).toEqual([[big(1)], [big(2)]]);
  });

  it('makes no request for no data, and refuses a non-finite value without calling CloudWatch', async () => {
    const fake = fakeCloudWatch();
    const verdicts = createCloudWatchVerdicts(fake.clients);
    await verdicts.publishVerdicts('us-west-2', 'FailoverOperator', []);
    await expect(
      verdicts.publishVerdicts('us-west-2', 'FailoverOperator', [datum(0), datum(1, Number.NaN)]),
    ).rejects.toMatchObject({ kind: 'terminal', code: 'InvalidVerdictDatum' });
    expect(fake.sent).toEqual([]);
  });

  it('stops at the first failed request and reports it as CloudError', async () => {
    let calls = 0;
    const fake = fakeCloudWatch({ fail: () => ++calls === 2 });
    const err = await createCloudWatchVerdicts(fake.clients)
      .publishVerdicts(
        'us-west-2',
        'FailoverOperator',
        Array.from({ length: 3_000 }, (_, i) => datum(i)),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect(err).toMatchObject({ kind: 'throttled', service: 'cloudwatch', operation: 'PutMetricData' });
    expect(fake.sent).toHaveLength(2);
  });
});

describe('toDimensions', () => {
  it('orders dimensions by name', () => {
    expect(toDimensions({ b: '2', a: '1' })).toEqual([
      { Name: 'a', Value: '1' },
      { Name: 'b', Value: '2' },
    ]);
  });
});
