import { CloudWatchClient, ListMetricsCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeAvailabilityZonesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetChangeCommand, Route53Client } from '@aws-sdk/client-route-53';
import { describe, expect, it } from 'vitest';
import { renderAwsError } from '../../fault-proxy/errors.ts';
import { fakeCredentials, recordWire } from './sdk-wire.ts';

// The proof that an injected error is rendered right is that the real SDK parses it into the named exception.
const base = { credentials: fakeCredentials, endpoint: 'http://127.0.0.1:1', region: 'us-east-1', maxAttempts: 1 };

async function sdkErrorFor(
  protocol: Parameters<typeof renderAwsError>[0],
  send: (handler: ReturnType<typeof recordWire>['handler']) => Promise<unknown>,
  error = { status: 400, code: 'Throttling', message: 'Rate exceeded' },
) {
  const rendered = renderAwsError(protocol, error, 'req-123', 'application/x-amz-json-1.0');
  const wire = recordWire(rendered);
  try {
    await send(wire.handler);
  } catch (err) {
    return err as Error & { $metadata: { httpStatusCode?: number; requestId?: string }; $fault: string };
  }
  throw new Error('the SDK accepted an injected error as success');
}

describe('renderAwsError, as parsed by the real AWS SDK v3', () => {
  it('Route 53 (REST-XML ErrorResponse)', async () => {
    const err = await sdkErrorFor('rest-xml', (h) =>
      new Route53Client({ ...base, requestHandler: h }).send(new GetChangeCommand({ Id: 'C1' })),
    );
    expect(err.name).toBe('Throttling');
    expect(err.message).toBe('Rate exceeded');
    expect(err.$metadata.httpStatusCode).toBe(400);
    expect(err.$fault).toBe('client');
  });

  it('RDS (query ErrorResponse)', async () => {
    const err = await sdkErrorFor('query', (h) =>
      new RDSClient({ ...base, requestHandler: h }).send(new DescribeDBInstancesCommand({})),
    );
    expect(err.name).toBe('Throttling');
    expect(err.message).toBe('Rate exceeded');
  });

  it('EC2 (Response/Errors envelope)', async () => {
    const err = await sdkErrorFor('ec2', (h) =>
      new EC2Client({ ...base, requestHandler: h }).send(new DescribeAvailabilityZonesCommand({})),
    );
    expect(err.name).toBe('Throttling');
    expect(err.message).toBe('Rate exceeded');
    expect(err.$metadata.requestId).toBe('req-123');
  });

  it('CloudWatch (JSON with x-amzn-query-error)', async () => {
    const err = await sdkErrorFor('json', (h) =>
      new CloudWatchClient({ ...base, requestHandler: h }).send(new ListMetricsCommand({})),
    );
    expect(err.name).toBe('Throttling');
    expect(err.message).toBe('Rate exceeded');
  });

  it('marks 5xx errors as server faults and escapes XML in messages', async () => {
    const err = await sdkErrorFor(
      'rest-xml',
      (h) => new Route53Client({ ...base, requestHandler: h }).send(new GetChangeCommand({ Id: 'C1' })),
      { status: 503, code: 'ServiceUnavailable', message: 'a <b> & "c"' },
    );
    expect(err.name).toBe('ServiceUnavailable');
    expect(err.message).toBe('a <b> & "c"');
    expect(err.$fault).toBe('server');
  });

  it('gives modelled errors their SDK exception class', async () => {
    const err = await sdkErrorFor(
      'query',
      (h) => new RDSClient({ ...base, requestHandler: h }).send(new DescribeDBInstancesCommand({})),
      { status: 404, code: 'DBInstanceNotFound', message: 'no such instance' },
    );
    expect(err.name).toBe('DBInstanceNotFoundFault');
  });
});
