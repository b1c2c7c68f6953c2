// The data-plane traffic path with the real SDK clients against moto, through the fault proxy: weighted records bound
// to CLOUDWATCH_METRIC health checks, the alarms behind them, and verdicts published with PutMetricData only.
//
// What moto 5.2.5 keeps, and what it does not (checked below, so a moto upgrade that changes it fails here):
// - Route 53 records: HealthCheckId is stored with the record and listed back.
// - Route 53 health checks: Id, CallerReference, Type (CLOUDWATCH_METRIC) and tags. It drops AlarmIdentifier and
//   InsufficientDataHealthStatus (neither CreateHealthCheck nor GetHealthCheck/ListHealthChecks carry them), and it
//   ignores CallerReference: a second CreateHealthCheck with the same reference creates a second check, where Route 53
//   answers with the existing one (same settings) or HealthCheckAlreadyExists (other settings). The adapter's answer
//   to HealthCheckAlreadyExists is therefore exercised with the proxy answering as Route 53 would. moto pages neither
//   ListHealthChecks nor DescribeAlarms (the unit tests page them). It never evaluates a health check.
// - CloudWatch alarms: name, namespace, metric, dimensions, period are stored and described back. A new alarm is OK
//   in moto (INSUFFICIENT_DATA in CloudWatch), and moto does NOT evaluate alarms: PutMetricData stores the datapoints
//   (GetMetricStatistics returns them) but no alarm changes state; only SetAlarmState moves it. So nothing here can
//   show a verdict turning into ALARM, nor Route 53 then skipping the record: that chain is AWS's, and it is covered
//   by the simulated cloud (src/cloud/sim/sim-health-checks.test.ts, sim-dns.test.ts), not by moto.

import { GetMetricStatisticsCommand, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch';
import {
  CreateHealthCheckCommand,
  CreateHostedZoneCommand,
  GetHealthCheckCommand,
  ListHealthChecksCommand,
} from '@aws-sdk/client-route-53';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloudError } from '../../../src/cloud/errors.ts';
import type { DnsRecord, VerdictAlarmSpec, VerdictDatum } from '../../../src/cloud/types.ts';
import { type AwsFixture, awsFixture, PRIMARY_REGION, STANDBY_REGION } from './aws-fixture.ts';

const ZONE = 'example.test.';
const API = 'api.example.test.';
const NAMESPACE = 'FailoverOperator';
const METRIC = 'DrainVerdict';
const POLICY_TAG = 'failover.io/policy';

let fx: AwsFixture;
let zoneId: string;
let since: string;

const weighted = (setIdentifier: string, weight: number, value: string): DnsRecord => ({
  name: API,
  type: 'A',
  ttl: 60,
  values: [value],
  setIdentifier,
  weight,
});

const group = [
  weighted('use1-a', 100, '10.0.1.1'),
  weighted('use1-b', 100, '10.0.2.1'),
  weighted('usw2-a', 0, '10.1.1.1'),
];

/** The alarms live in us-west-2: a region other than the one whose zones they drain (us-east-1). */
const alarmOf = (setIdentifier: string): VerdictAlarmSpec => ({
  region: STANDBY_REGION,
  name: `failover-operator-orders-api-${setIdentifier}`,
  namespace: NAMESPACE,
  metricName: METRIC,
  dimensions: { Policy: 'orders', Record: setIdentifier },
  periodSeconds: 10,
  description: `failover-operator: drain verdict of ${API} ${setIdentifier}`,
});

const verdict = (setIdentifier: string, value: number, at = Date.now()): VerdictDatum => ({
  metricName: METRIC,
  dimensions: { Policy: 'orders', Record: setIdentifier },
  value,
  at,
});

async function proxied(filter: (e: { service: string; region: string; action: string }) => boolean) {
  return (await fx.tb.faults.log()).filter((e) => e.at >= since && filter(e));
}

/** Steady state: an alarm and a check per record, the records UPSERTed with their check. Returns setId → check id. */
async function prepare(): Promise<Map<string, string>> {
  await fx.cloud.dns.upsertRecords(zoneId, group, 'initial weights');
  const checks = new Map<string, string>();
  for (const record of group) {
    const setId = record.setIdentifier as string;
    const alarm = alarmOf(setId);
    await fx.cloud.verdicts.putVerdictAlarm(alarm);
    const id = await fx.cloud.healthChecks.createAlarmHealthCheck({
      callerReference: `fo-orders-api-${setId}-v1`,
      alarm: { region: alarm.region, name: alarm.name },
      insufficientDataHealthStatus: 'LastKnownStatus',
      tags: { [POLICY_TAG]: 'orders', 'failover.io/record': setId },
    });
    checks.set(setId, id);
  }
  await fx.cloud.dns.upsertRecords(
    zoneId,
    group.map((r) => ({ ...r, healthCheckId: checks.get(r.setIdentifier as string) as string })),
    'attach the data-plane checks',
  );
  return checks;
}

beforeEach(async () => {
  await fx?.tb.resetMoto();
  fx ??= awsFixture();
  await fx.tb.faults.clear();
  fx.calls.length = 0;
  since = new Date().toISOString();
  const zone = await fx.sdk.route53.send(
    new CreateHostedZoneCommand({ Name: ZONE, CallerReference: `ref-${Date.now()}-${Math.random()}` }),
  );
  zoneId = zone.HostedZone?.Id ?? '';
});
afterEach(async () => {
  await fx.tb.faults.clear();
});
afterAll(() => fx?.close());

describe('data-plane path against moto: steady-state preparation', () => {
  it('binds every weighted record to a CLOUDWATCH_METRIC check and lists the binding back', async () => {
    const checks = await prepare();
    expect(new Set(checks.values()).size).toBe(group.length);

    const listed = await fx.cloud.dns.listRecords(zoneId, API, 'A');
    expect(Object.fromEntries(listed.map((r) => [r.setIdentifier, r.healthCheckId]))).toEqual(
      Object.fromEntries(checks),
    );
    // Weights untouched by attaching the checks.
    expect(Object.fromEntries(listed.map((r) => [r.setIdentifier, r.weight]))).toEqual({
      'use1-a': 100,
      'use1-b': 100,
      'usw2-a': 0,
    });

    const found = await fx.cloud.healthChecks.listHealthChecks({ [POLICY_TAG]: 'orders' });
    expect(found.map((c) => c.id).sort()).toEqual([...checks.values()].sort());
    const use1a = found.find((c) => c.id === checks.get('use1-a'));
    // moto keeps no AlarmIdentifier nor InsufficientDataHealthStatus, so the observed check has neither.
    expect(use1a).toEqual({
      id: checks.get('use1-a'),
      callerReference: 'fo-orders-api-use1-a-v1',
      type: 'CLOUDWATCH_METRIC',
      tags: { [POLICY_TAG]: 'orders', 'failover.io/record': 'use1-a' },
    });
    await expect(fx.cloud.healthChecks.listHealthChecks({ [POLICY_TAG]: 'billing' })).resolves.toEqual([]);

    // The same, straight from moto: the request carried the alarm, the stored check does not.
    const raw = await fx.sdk.route53.send(new GetHealthCheckCommand({ HealthCheckId: checks.get('use1-a') }));
    expect(raw.HealthCheck?.HealthCheckConfig?.Type).toBe('CLOUDWATCH_METRIC');
    expect(raw.HealthCheck?.HealthCheckConfig?.AlarmIdentifier).toBeUndefined();
    expect(raw.HealthCheck?.HealthCheckConfig?.InsufficientDataHealthStatus).toBeUndefined();
    expect(raw.HealthCheck?.CallerReference).toBe('fo-orders-api-use1-a-v1');

    const sent = await proxied((e) => e.service === 'route53');
    expect(sent.map((e) => e.action)).toContain('CreateHealthCheck');
    expect(sent.every((e) => e.status < 300)).toBe(true);
  });

  it('moto creates a second check for a repeated CallerReference; the adapter, answered as Route 53 answers, does not', async () => {
    // moto: two checks for one reference (Route 53 would return the first).
    const config = { Type: 'CLOUDWATCH_METRIC' as const, AlarmIdentifier: { Region: 'us-west-2' as const, Name: 'a' } };
    const one = await fx.sdk.route53.send(
      new CreateHealthCheckCommand({ CallerReference: 'dup', HealthCheckConfig: config }),
    );
    const two = await fx.sdk.route53.send(
      new CreateHealthCheckCommand({ CallerReference: 'dup', HealthCheckConfig: config }),
    );
    expect(two.HealthCheck?.Id).not.toBe(one.HealthCheck?.Id);
    await fx.tb.resetMoto();

    const spec = {
      callerReference: 'fo-orders-api-use1-a-v1',
      alarm: { region: STANDBY_REGION, name: 'failover-operator-orders-api-use1-a' },
      insufficientDataHealthStatus: 'LastKnownStatus' as const,
      tags: { [POLICY_TAG]: 'orders' },
    };
    const first = await fx.cloud.healthChecks.createAlarmHealthCheck(spec);
    // The reference is taken and (as Route 53 sees it) some setting differs: HealthCheckAlreadyExists. The check of
    // that reference follows the same alarm as far as the service reports, so its id comes back.
    await fx.tb.faults.add({
      service: 'route53',
      action: 'CreateHealthCheck',
      error: { status: 409, code: 'HealthCheckAlreadyExists', message: 'A health check with this reference exists' },
      times: 1,
    });
    since = new Date().toISOString();
    await expect(fx.cloud.healthChecks.createAlarmHealthCheck(spec)).resolves.toBe(first);

    const all = await fx.sdk.route53.send(new ListHealthChecksCommand({}));
    expect(all.HealthChecks?.map((c) => c.Id)).toEqual([first]);
    const route53Calls = await proxied((e) => e.service === 'route53');
    expect(route53Calls.map((e) => [e.action, e.status])).toEqual([
      ['CreateHealthCheck', 409],
      ['ListHealthChecks', 200],
      ['ChangeTagsForResource', 200],
    ]);
  });

  it('refuses, naming the reference, when the check of a taken reference is not a CLOUDWATCH_METRIC check', async () => {
    const other = await fx.sdk.route53.send(
      new CreateHealthCheckCommand({
        CallerReference: 'fo-orders-api-use1-a-v1',
        HealthCheckConfig: { Type: 'HTTP', IPAddress: '192.0.2.10', Port: 80, ResourcePath: '/' },
      }),
    );
    await fx.tb.faults.add({
      service: 'route53',
      action: 'CreateHealthCheck',
      error: { status: 409, code: 'HealthCheckAlreadyExists' },
      times: 1,
    });
    const err = await fx.cloud.healthChecks
      .createAlarmHealthCheck({
        callerReference: 'fo-orders-api-use1-a-v1',
        alarm: { region: STANDBY_REGION, name: 'failover-operator-orders-api-use1-a' },
        insufficientDataHealthStatus: 'LastKnownStatus',
        tags: {},
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect(err).toMatchObject({ kind: 'terminal', code: 'HealthCheckAlreadyExists', service: 'route53' });
    expect((err as Error).message).toContain('fo-orders-api-use1-a-v1');
    expect((err as Error).message).toContain(other.HealthCheck?.Id as string);
    expect((err as Error).message).toContain('Type HTTP');
  });
});

describe('data-plane path against moto: verdicts', () => {
  it('publishes verdicts and describes the alarms; moto stores the data but evaluates no alarm', async () => {
    await prepare();
    const names = group.map((r) => alarmOf(r.setIdentifier as string).name);
    const before = await fx.cloud.verdicts.describeAlarms(STANDBY_REGION, [...names, 'failover-operator-missing']);
    expect(before.map((a) => a.name)).toEqual(names);
    expect(before[0]).toMatchObject({
      region: STANDBY_REGION,
      name: 'failover-operator-orders-api-use1-a',
      state: 'OK', // moto's initial state; CloudWatch starts an alarm at INSUFFICIENT_DATA
      namespace: NAMESPACE,
      metricName: METRIC,
      dimensions: { Policy: 'orders', Record: 'use1-a' },
      periodSeconds: 10,
    });
    expect(typeof before[0]?.stateUpdatedAt).toBe('number');

    const now = Date.now();
    await fx.cloud.verdicts.publishVerdicts(STANDBY_REGION, NAMESPACE, [
      verdict('use1-a', 1, now),
      verdict('use1-b', 0, now),
      verdict('usw2-a', 0, now),
    ]);

    // The datapoints are there...
    const stats = await fx.sdk.cloudwatch(STANDBY_REGION).send(
      new GetMetricStatisticsCommand({
        Namespace: NAMESPACE,
        MetricName: METRIC,
        Dimensions: [
          { Name: 'Policy', Value: 'orders' },
          { Name: 'Record', Value: 'use1-a' },
        ],
        StartTime: new Date(now - 120_000),
        EndTime: new Date(now + 60_000),
        Period: 60,
        Statistics: ['Maximum'],
      }),
    );
    expect(stats.Datapoints?.map((d) => d.Maximum)).toEqual([1]);
    // ...but no alarm moved: moto does not evaluate alarms.
    const after = await fx.cloud.verdicts.describeAlarms(STANDBY_REGION, names);
    expect(after.map((a) => a.state)).toEqual(['OK', 'OK', 'OK']);

    // Only SetAlarmState moves a moto alarm; the adapter reports the state as CloudWatch gives it.
    await fx.sdk
      .cloudwatch(STANDBY_REGION)
      .send(new SetAlarmStateCommand({ AlarmName: names[0], StateValue: 'ALARM', StateReason: 'test: drain use1-a' }));
    const [drained] = await fx.cloud.verdicts.describeAlarms(STANDBY_REGION, [names[0] as string]);
    expect(drained?.state).toBe('ALARM');
  });

  it('splits a large publication at 1,000 datums per request (the SDK gzips the bodies; moto accepts them)', async () => {
    const now = Date.now();
    const data = Array.from({ length: 2_500 }, (_, i) => verdict(`r${i}`, i % 2, now));
    await fx.cloud.verdicts.publishVerdicts(STANDBY_REGION, NAMESPACE, data);
    const puts = await proxied((e) => e.action === 'PutMetricData');
    expect(puts.map((e) => [e.region, e.status])).toEqual([
      [STANDBY_REGION, 200],
      [STANDBY_REGION, 200],
      [STANDBY_REGION, 200],
    ]);
  });
});

describe('data-plane path against moto: faults', () => {
  it('a Route 53 outage (every call 500) does not stop verdicts from reaching CloudWatch', async () => {
    await prepare();
    await fx.tb.faults.add({ service: 'route53', error: { status: 500, code: 'InternalError', message: 'down' } });
    since = new Date().toISOString();
    fx.calls.length = 0;

    await expect(fx.cloud.dns.listRecords(zoneId, API, 'A')).rejects.toMatchObject({
      kind: 'retryable',
      service: 'route53',
    });
    await expect(fx.cloud.healthChecks.listHealthChecks({ [POLICY_TAG]: 'orders' })).rejects.toMatchObject({
      kind: 'retryable',
      service: 'route53',
      operation: 'ListHealthChecks',
    });

    await fx.cloud.verdicts.publishVerdicts(STANDBY_REGION, NAMESPACE, [verdict('use1-a', 1), verdict('use1-b', 1)]);
    const names = ['use1-a', 'use1-b'].map((s) => alarmOf(s).name);
    await expect(fx.cloud.verdicts.describeAlarms(STANDBY_REGION, names)).resolves.toHaveLength(2);

    const log = await proxied(() => true);
    expect(log.filter((e) => e.service === 'route53').every((e) => e.status === 500)).toBe(true);
    expect(log.filter((e) => e.action === 'PutMetricData').map((e) => [e.region, e.status])).toEqual([
      [STANDBY_REGION, 200],
    ]);
    expect(fx.calls.filter((c) => c.operation === 'PutMetricData')).toEqual([
      expect.objectContaining({ service: 'cloudwatch', region: STANDBY_REGION, ok: true }),
    ]);
  });

  it('a CloudWatch fault in us-west-2 only fails publication there; us-east-1 still accepts verdicts', async () => {
    await fx.tb.faults.add({
      service: 'cloudwatch',
      region: STANDBY_REGION,
      error: { status: 503, code: 'ServiceUnavailable', message: 'regional outage' },
    });
    const err = await fx.cloud.verdicts
      .publishVerdicts(STANDBY_REGION, NAMESPACE, [verdict('use1-a', 1)])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CloudError);
    expect(err).toMatchObject({ kind: 'retryable', service: 'cloudwatch', operation: 'PutMetricData' });
    await expect(
      fx.cloud.verdicts.putVerdictAlarm({ ...alarmOf('use1-a'), region: STANDBY_REGION }),
    ).rejects.toMatchObject({ kind: 'retryable', operation: 'PutMetricAlarm' });

    // The other region's CloudWatch is untouched by the rule.
    await fx.cloud.verdicts.putVerdictAlarm({ ...alarmOf('use1-a'), region: PRIMARY_REGION });
    await fx.cloud.verdicts.publishVerdicts(PRIMARY_REGION, NAMESPACE, [verdict('use1-a', 1)]);
    await expect(fx.cloud.verdicts.describeAlarms(PRIMARY_REGION, [alarmOf('use1-a').name])).resolves.toEqual([
      expect.objectContaining({ region: PRIMARY_REGION, name: alarmOf('use1-a').name }),
    ]);

    const puts = await proxied((e) => e.action === 'PutMetricData');
    expect(puts.map((e) => [e.region, e.status])).toEqual([
      [STANDBY_REGION, 503],
      [PRIMARY_REGION, 200],
    ]);
  });
});
