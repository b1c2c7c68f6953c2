// Faults injected by the proxy between the real SDK clients and moto: every adapter failure is a CloudError of the
// right kind, the SDK does not retry behind the executor's back (one request per call in the proxy's log), a hang
// ends at our request timeout, and the call-recorder middleware reports the same outcome the proxy saw.

import { ChangeResourceRecordSetsCommand, CreateHostedZoneCommand } from '@aws-sdk/client-route-53';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AwsCallRecord } from '../../../src/cloud/aws/index.ts';
import { CloudError } from '../../../src/cloud/errors.ts';
import { type AwsFixture, awsFixture, PRIMARY_REGION, STANDBY_REGION } from './aws-fixture.ts';

const REQUEST_TIMEOUT_MS = 800;

let fx: AwsFixture;
let since: string;

beforeEach(async () => {
  await fx?.tb.resetMoto();
  fx ??= awsFixture({ requestTimeoutMs: REQUEST_TIMEOUT_MS });
  await fx.tb.faults.clear();
  fx.calls.length = 0;
  since = new Date().toISOString();
});
afterEach(async () => {
  await fx.tb.faults.clear();
});
afterAll(() => fx?.close());

async function failure(p: Promise<unknown>): Promise<CloudError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CloudError);
  return err as CloudError;
}

/** The proxy's log entries for one action since the test started. */
async function proxied(action: string) {
  return (await fx.tb.faults.log()).filter((e) => e.at >= since && e.action === action);
}

function recorded(operation: string): AwsCallRecord[] {
  return fx.calls.filter((c) => c.operation === operation);
}

describe('AWS faults through the proxy', () => {
  it('Throttling → throttled, with one request and the outcome recorded', async () => {
    await fx.tb.faults.add({
      service: 'route53',
      action: 'ListResourceRecordSets',
      error: { status: 400, code: 'Throttling', message: 'Rate exceeded' },
      times: 1,
    });
    const err = await failure(fx.cloud.dns.listRecords('ZANY', 'api.example.test.', 'A'));
    expect(err).toMatchObject({ kind: 'throttled', code: 'Throttling', message: 'Rate exceeded', service: 'route53' });

    const log = await proxied('ListResourceRecordSets');
    expect(log).toHaveLength(1);
    expect(log[0]).toMatchObject({ status: 400, effect: 'error' });
    expect(recorded('ListResourceRecordSets')).toEqual([
      expect.objectContaining({
        service: 'route53',
        region: 'us-east-1',
        ok: false,
        errorCode: 'Throttling',
        errorKind: 'throttled',
      }),
    ]);
  });

  it('RequestLimitExceeded from EC2 → throttled', async () => {
    await fx.tb.faults.add({
      service: 'ec2',
      action: 'DescribeAvailabilityZones',
      error: { status: 503, code: 'RequestLimitExceeded', message: 'Request limit exceeded.' },
      times: 1,
    });
    const err = await failure(fx.cloud.compute.describeZones(PRIMARY_REGION));
    expect(err).toMatchObject({ kind: 'throttled', code: 'RequestLimitExceeded' });
    expect(await proxied('DescribeAvailabilityZones')).toHaveLength(1);
    // The rule expired after one call: the next call goes through.
    await expect(fx.cloud.compute.describeZones(PRIMARY_REGION)).resolves.not.toHaveLength(0);
    expect(recorded('DescribeAvailabilityZones').map((c) => c.ok)).toEqual([false, true]);
  });

  it('a hung call → timeout, ended by our request timeout', async () => {
    await fx.tb.faults.add({ service: 'ec2', action: 'DescribeAvailabilityZones', region: STANDBY_REGION, hang: true });
    const started = Date.now();
    const err = await failure(fx.cloud.compute.describeZones(STANDBY_REGION));
    const elapsed = Date.now() - started;
    expect(err.kind).toBe('timeout');
    expect(elapsed).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(REQUEST_TIMEOUT_MS + 2_000);

    expect(await proxied('DescribeAvailabilityZones')).toEqual([
      expect.objectContaining({ status: 0, effect: 'hang' }),
    ]);
    const [call] = recorded('DescribeAvailabilityZones');
    expect(call).toMatchObject({ ok: false, errorKind: 'timeout', region: STANDBY_REGION });
    expect(call?.latencyMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_MS - 50);
  });

  it("the executor's AbortSignal ends a hung call early", async () => {
    await fx.tb.faults.add({ service: 'rds', action: 'DescribeDBInstances', hang: true });
    const started = Date.now();
    const err = await failure(
      fx.cloud.databases.describeInstance(PRIMARY_REGION, 'orders', { signal: AbortSignal.timeout(150) }),
    );
    expect(err).toMatchObject({ kind: 'timeout', code: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(REQUEST_TIMEOUT_MS);
  });

  it('a 503 → retryable, and the SDK does not retry it', async () => {
    await fx.tb.faults.add({
      service: 'rds',
      action: 'DescribeDBInstances',
      error: { status: 503, code: 'ServiceUnavailable', message: 'Service unavailable' },
    });
    const err = await failure(fx.cloud.databases.describeInstance(PRIMARY_REGION, 'orders'));
    expect(err).toMatchObject({ kind: 'retryable', service: 'rds', operation: 'DescribeDBInstances' });
    expect(await proxied('DescribeDBInstances')).toEqual([expect.objectContaining({ status: 503, effect: 'error' })]);
    expect(recorded('DescribeDBInstances')).toEqual([expect.objectContaining({ ok: false, errorKind: 'retryable' })]);
  });

  it('a reset connection → retryable (or timeout), never terminal', async () => {
    await fx.tb.faults.add({ service: 'cloudwatch', action: 'GetMetricStatistics', reset: true, times: 1 });
    const err = await failure(fx.cloud.replicaLag.replicaLag(STANDBY_REGION, 'orders-usw2', new Date()));
    expect(['retryable', 'timeout']).toContain(err.kind);
    expect(await proxied('GetMetricStatistics')).toEqual([expect.objectContaining({ status: 0, effect: 'reset' })]);
    expect(recorded('GetMetricStatistics')).toEqual([expect.objectContaining({ ok: false, errorKind: err.kind })]);
  });

  it('PriorRequestNotComplete on ChangeResourceRecordSets → busy; the retry then succeeds', async () => {
    const zone = await fx.sdk.route53.send(
      new CreateHostedZoneCommand({ Name: 'example.test.', CallerReference: `ref-${Date.now()}` }),
    );
    const zoneId = zone.HostedZone?.Id ?? '';
    await fx.sdk.route53.send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: zoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: 'CREATE',
              ResourceRecordSet: {
                Name: 'api.example.test.',
                Type: 'A',
                TTL: 60,
                SetIdentifier: 'a',
                Weight: 100,
                ResourceRecords: [{ Value: '10.0.0.1' }],
              },
            },
          ],
        },
      }),
    );
    await fx.tb.faults.add({
      service: 'route53',
      action: 'ChangeResourceRecordSets',
      error: {
        status: 400,
        code: 'PriorRequestNotComplete',
        message: 'The request was rejected because Route 53 was still processing a prior request.',
      },
      times: 1,
    });
    const drain = [
      { name: 'api.example.test.', type: 'A', ttl: 60, values: ['10.0.0.1'], setIdentifier: 'a', weight: 0 },
    ];

    const err = await failure(fx.cloud.dns.upsertRecords(zoneId, drain, 'PB-5 drain'));
    expect(err).toMatchObject({ kind: 'busy', code: 'PriorRequestNotComplete', operation: 'ChangeResourceRecordSets' });
    expect(err.message).toContain('still processing a prior request');
    expect(err.retryable).toBe(true);

    await fx.cloud.dns.upsertRecords(zoneId, drain, 'PB-5 drain');
    expect((await fx.cloud.dns.listRecords(zoneId, 'api.example.test.', 'A')).map((r) => r.weight)).toEqual([0]);

    const log = await proxied('ChangeResourceRecordSets');
    expect(log.map((e) => e.status)).toEqual([400, 200]);
    expect(recorded('ChangeResourceRecordSets').map((c) => [c.ok, c.errorCode])).toEqual([
      [false, 'PriorRequestNotComplete'],
      [true, undefined],
    ]);
  });
});
