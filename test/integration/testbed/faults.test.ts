// The fault proxy, seen from the real AWS SDK v3: each effect surfaces to the client as the real failure would.
import { CloudWatchClient, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeAvailabilityZonesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { CreateDBInstanceCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetHostedZoneCountCommand, ListHostedZonesCommand, Route53Client } from '@aws-sdk/client-route-53';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { beforeEach, describe, expect, it } from 'vitest';
import { type Testbed, testbed } from '../../env/testbed.ts';

let tb: Testbed;
const client = (region: string) => ({
  endpoint: tb.aws.endpoint,
  region,
  credentials: tb.aws.credentials,
  maxAttempts: 1,
});

beforeEach(async () => {
  tb = testbed();
  await tb.resetMoto();
  await tb.faults.clear();
});

async function failure(
  call: Promise<unknown>,
): Promise<Error & { code?: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await call;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the call to fail');
}

describe('fault proxy effects, as the AWS SDK sees them', () => {
  it('adds latency only to the calls a rule selects', async () => {
    const r53 = new Route53Client(client('us-east-1'));
    await r53.send(new ListHostedZonesCommand({})); // warm up moto's Route 53 backend and the connection
    await tb.faults.add({ service: 'route53', action: 'ListHostedZones', latencyMs: 1500 });

    let start = performance.now();
    await r53.send(new ListHostedZonesCommand({}));
    const slowMs = performance.now() - start;
    start = performance.now();
    await r53.send(new GetHostedZoneCountCommand({}));
    const fastMs = performance.now() - start;

    expect(slowMs).toBeGreaterThanOrEqual(1500);
    expect(fastMs).toBeLessThan(1000); // generous: the machine is shared, but far below the injected 1.5 s
    const effects = (await tb.faults.log()).map((e) => `${e.action}:${e.effect}`);
    expect(effects.slice(-2)).toEqual(['ListHostedZones:latency', 'GetHostedZoneCount:pass']);
  });

  it('surfaces an injected Throttling as err.name "Throttling" for every service, once (times: 1)', async () => {
    const r53 = new Route53Client(client('us-east-1'));
    const rds = new RDSClient(client('us-west-2'));
    const ec2 = new EC2Client(client('us-east-1'));
    const cw = new CloudWatchClient(client('us-east-1'));
    const throttle = { error: { status: 400, code: 'Throttling', message: 'Rate exceeded' }, times: 1 };
    for (const service of ['route53', 'rds', 'ec2', 'cloudwatch']) await tb.faults.add({ service, ...throttle });

    const errors = [
      await failure(r53.send(new ListHostedZonesCommand({}))),
      await failure(rds.send(new DescribeDBInstancesCommand({}))),
      await failure(ec2.send(new DescribeAvailabilityZonesCommand({}))),
      await failure(cw.send(new ListMetricsCommand({}))),
    ];
    for (const err of errors) {
      expect(err.name).toBe('Throttling');
      expect(err.message).toBe('Rate exceeded');
      expect(err.$metadata?.httpStatusCode).toBe(400);
    }
    // Each rule was spent: the same calls now reach moto.
    await r53.send(new ListHostedZonesCommand({}));
    await rds.send(new DescribeDBInstancesCommand({}));
    await ec2.send(new DescribeAvailabilityZonesCommand({}));
    await cw.send(new ListMetricsCommand({}));
    const log = await tb.faults.log();
    expect(log.map((e) => `${e.service}/${e.region}/${e.action}:${e.status}:${e.effect}`)).toEqual([
      'route53/us-east-1/ListHostedZones:400:error',
      'rds/us-west-2/DescribeDBInstances:400:error',
      'ec2/us-east-1/DescribeAvailabilityZones:400:error',
      'monitoring/us-east-1/ListMetrics:400:error',
      'route53/us-east-1/ListHostedZones:200:pass',
      'rds/us-west-2/DescribeDBInstances:200:pass',
      'ec2/us-east-1/DescribeAvailabilityZones:200:pass',
      'monitoring/us-east-1/ListMetrics:200:pass',
    ]);
  });

  it('limits a rule to one region', async () => {
    await tb.faults.add({ service: 'rds', region: 'us-east-1', error: { status: 503, code: 'ServiceUnavailable' } });
    const east = await failure(new RDSClient(client('us-east-1')).send(new DescribeDBInstancesCommand({})));
    expect(east.name).toBe('ServiceUnavailable');
    const west = await new RDSClient(client('us-west-2')).send(new DescribeDBInstancesCommand({}));
    expect(west.DBInstances).toEqual([]);
  });

  it('resets the connection: the SDK reports a network error, not an AWS error', async () => {
    await tb.faults.add({ service: 'ec2', reset: true, times: 1 });
    const err = await failure(new EC2Client(client('us-east-1')).send(new DescribeAvailabilityZonesCommand({})));
    expect(err.code ?? err.name).toBe('ECONNRESET');
    expect(err.$metadata?.httpStatusCode).toBeUndefined();
  });

  it('hangs until the client gives up: requestTimeout ends the call', async () => {
    await tb.faults.add({ service: 'route53', hang: true, times: 1 });
    const r53 = new Route53Client({
      ...client('us-east-1'),
      // Without throwOnRequestTimeout the handler only logs a warning at requestTimeout and keeps waiting.
      requestHandler: new NodeHttpHandler({ requestTimeout: 500, throwOnRequestTimeout: true }),
    });
    const start = performance.now();
    const err = await failure(r53.send(new ListHostedZonesCommand({})));
    const elapsed = performance.now() - start;
    expect(err.name).toBe('TimeoutError');
    expect(elapsed).toBeGreaterThanOrEqual(450);
    expect(elapsed).toBeLessThan(5_000);
    const [entry] = (await tb.faults.log()).slice(-1);
    expect(entry).toMatchObject({ action: 'ListHostedZones', status: 0, effect: 'hang' });
  });

  it('rewrites a response: an availability zone moto reports as available becomes impaired', async () => {
    const ec2 = new EC2Client(client('us-east-1'));
    const zoneStates = async () =>
      Object.fromEntries(
        ((await ec2.send(new DescribeAvailabilityZonesCommand({}))).AvailabilityZones ?? []).map((z) => [
          z.ZoneName,
          z.State,
        ]),
      );
    expect((await zoneStates())['us-east-1a']).toBe('available');

    await tb.faults.add({
      service: 'ec2',
      action: 'DescribeAvailabilityZones',
      region: 'us-east-1',
      rewrite: [
        {
          // Only us-east-1a's item: its <zoneState> follows its <zoneName> within the same <item>.
          find: '(<zoneName>us-east-1a</zoneName>(?:(?!</item>)[\\s\\S])*?<zoneState>)available(</zoneState>)',
          replace: '$1impaired$2',
        },
      ],
    });
    const states = await zoneStates();
    expect(states['us-east-1a']).toBe('impaired');
    expect(states['us-east-1b']).toBe('available');
  });

  it('rewrites an RDS status: a transition moto cannot produce (available -> storage-full)', async () => {
    const rds = new RDSClient(client('us-east-1'));
    await rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: 'orders',
        DBInstanceClass: 'db.t3.micro',
        Engine: 'postgres',
        AllocatedStorage: 20,
        MasterUsername: 'app',
        MasterUserPassword: 'not-a-secret-1',
      }),
    );
    await tb.faults.add({
      service: 'rds',
      action: 'DescribeDBInstances',
      rewrite: [
        {
          find: '<DBInstanceStatus>available</DBInstanceStatus>',
          replace: '<DBInstanceStatus>storage-full</DBInstanceStatus>',
        },
      ],
      times: 1,
    });
    const status = async () =>
      (await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: 'orders' }))).DBInstances?.[0]
        ?.DBInstanceStatus;
    expect(await status()).toBe('storage-full');
    expect(await status()).toBe('available');
  });

  it('rejects a malformed rule with the reasons', async () => {
    await expect(tb.faults.add({ service: 'rds', times: 0 })).rejects.toThrow(
      /times must be an integer >= 1.*a rule needs an effect/s,
    );
  });
});
