import { CloudWatchClient, GetMetricDataCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeAvailabilityZonesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeDBInstancesCommand, PromoteReadReplicaCommand, RDSClient } from '@aws-sdk/client-rds';
import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  GetHostedZoneCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import { classifyCall, parseCredentialScope, route53Action } from '../../fault-proxy/classify.ts';
import { fakeCredentials, recordWire } from './sdk-wire.ts';

// Each case is classified from the request the real SDK signs and would send, not from a hand-written guess.
async function wireOf(send: (handler: ReturnType<typeof recordWire>['handler']) => Promise<unknown>) {
  const wire = recordWire();
  await send(wire.handler).catch(() => undefined); // the canned empty answer may not deserialize; irrelevant here
  const call = wire.calls[0];
  if (!call) throw new Error('the SDK sent nothing');
  return classifyCall(call);
}

describe('classifyCall with requests from the real AWS SDK v3', () => {
  const base = { credentials: fakeCredentials, endpoint: 'http://127.0.0.1:1', maxAttempts: 1 };

  it.each([
    [
      'ChangeResourceRecordSets',
      new ChangeResourceRecordSetsCommand({ HostedZoneId: 'Z1', ChangeBatch: { Changes: [] } }),
    ],
    ['ListResourceRecordSets', new ListResourceRecordSetsCommand({ HostedZoneId: 'Z1' })],
    ['GetChange', new GetChangeCommand({ Id: 'C1' })],
    ['GetHostedZone', new GetHostedZoneCommand({ Id: 'Z1' })],
  ])('Route 53 %s (REST-XML: named from method and path)', async (action, command) => {
    const call = await wireOf((h) =>
      new Route53Client({ ...base, region: 'us-east-1', requestHandler: h }).send(command as never),
    );
    expect(call).toEqual({ service: 'route53', region: 'us-east-1', action, protocol: 'rest-xml' });
  });

  it('RDS (query protocol: Action in the form body), region from the signature', async () => {
    const rds = (h: ReturnType<typeof recordWire>['handler']) =>
      new RDSClient({ ...base, region: 'us-west-2', requestHandler: h });
    expect(await wireOf((h) => rds(h).send(new PromoteReadReplicaCommand({ DBInstanceIdentifier: 'db' })))).toEqual({
      service: 'rds',
      region: 'us-west-2',
      action: 'PromoteReadReplica',
      protocol: 'query',
    });
    expect((await wireOf((h) => rds(h).send(new DescribeDBInstancesCommand({})))).action).toBe('DescribeDBInstances');
  });

  it('EC2 (its own query dialect)', async () => {
    const call = await wireOf((h) =>
      new EC2Client({ ...base, region: 'eu-west-1', requestHandler: h }).send(new DescribeAvailabilityZonesCommand({})),
    );
    expect(call).toEqual({ service: 'ec2', region: 'eu-west-1', action: 'DescribeAvailabilityZones', protocol: 'ec2' });
  });

  it('CloudWatch (JSON protocol: X-Amz-Target), signing name "monitoring"', async () => {
    const cw = (h: ReturnType<typeof recordWire>['handler']) =>
      new CloudWatchClient({ ...base, region: 'us-east-1', requestHandler: h });
    const put = await wireOf((h) =>
      cw(h).send(new PutMetricDataCommand({ Namespace: 'N', MetricData: [{ MetricName: 'm', Value: 1 }] })),
    );
    expect(put).toEqual({ service: 'monitoring', region: 'us-east-1', action: 'PutMetricData', protocol: 'json' });
    const get = await wireOf((h) =>
      cw(h).send(new GetMetricDataCommand({ MetricDataQueries: [], StartTime: new Date(0), EndTime: new Date() })),
    );
    expect(get.action).toBe('GetMetricData');
  });
});

describe('classify helpers', () => {
  it('reads region and service from a presigned URL when there is no Authorization header', () => {
    const credential = encodeURIComponent('AKID/20250101/ap-south-1/rds/aws4_request');
    expect(parseCredentialScope({ url: `/?X-Amz-Credential=${credential}`, headers: {} })).toEqual({
      region: 'ap-south-1',
      service: 'rds',
    });
  });

  it('leaves service and region empty for an unsigned call', () => {
    expect(classifyCall({ method: 'GET', url: '/moto-api/', headers: {}, body: '' })).toMatchObject({
      service: '',
      region: '',
    });
  });

  it('names Route 53 operations missing from the table by method and path, so rules can still target them', () => {
    expect(route53Action('GET', '/2013-04-01/trafficpolicies')).toBe('GET /2013-04-01/trafficpolicies');
    expect(route53Action('POST', '/2013-04-01/hostedzone/Z1/rrset/')).toBe('ChangeResourceRecordSets');
    expect(route53Action('GET', '/2013-04-01/healthcheck/abc/status')).toBe('GetHealthCheckStatus');
  });

  it('takes Action from the query string too (GET-style query calls)', () => {
    const call = classifyCall({
      method: 'GET',
      url: '/?Action=DescribeDBInstances&Version=2014-10-31',
      headers: {
        authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20250101/us-east-1/rds/aws4_request, SignedHeaders=host',
      },
      body: '',
    });
    expect(call).toEqual({ service: 'rds', region: 'us-east-1', action: 'DescribeDBInstances', protocol: 'query' });
  });
});
