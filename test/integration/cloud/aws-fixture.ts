// Shared set-up for the AWS adapter integration tests: the adapters under test talk to moto THROUGH the fault
// proxy (so faults and the proxy's call log apply to them); the raw SDK clients used to arrange state talk to moto
// directly, so an injected fault never breaks a test's set-up by accident.

import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import { type AwsCallRecord, type AwsCloud, createAwsCloud } from '../../../src/cloud/aws/index.ts';
import { testbed } from '../../env/testbed.ts';

export const PRIMARY_REGION = 'us-east-1';
export const STANDBY_REGION = 'us-west-2';

export interface AwsFixture {
  tb: ReturnType<typeof testbed>;
  cloud: AwsCloud;
  /** Every call the adapters made, as the call-recorder middleware reported it. */
  calls: AwsCallRecord[];
  /** Direct-to-moto SDK clients for arranging and checking state. */
  sdk: {
    route53: Route53Client;
    rds(region: string): RDSClient;
    ec2(region: string): EC2Client;
    cloudwatch(region: string): CloudWatchClient;
  };
  close(): void;
}

export function awsFixture(opts: { requestTimeoutMs?: number; route53PageSize?: number } = {}): AwsFixture {
  const tb = testbed();
  const credentials = tb.aws.credentials;
  const calls: AwsCallRecord[] = [];
  const cloud = createAwsCloud({
    endpoint: tb.aws.endpoint,
    credentials,
    requestTimeoutMs: opts.requestTimeoutMs ?? 10_000,
    connectionTimeoutMs: 2_000,
    onCall: (call) => calls.push(call),
    now: Date.now,
    ...(opts.route53PageSize !== undefined ? { route53PageSize: opts.route53PageSize } : {}),
  });
  const direct = { endpoint: tb.aws.motoEndpoint, credentials };
  const made: { destroy(): void }[] = [];
  const make = <C extends { destroy(): void }>(client: C): C => {
    made.push(client);
    return client;
  };
  return {
    tb,
    cloud,
    calls,
    sdk: {
      route53: make(new Route53Client({ ...direct, region: PRIMARY_REGION })),
      rds: (region) => make(new RDSClient({ ...direct, region })),
      ec2: (region) => make(new EC2Client({ ...direct, region })),
      cloudwatch: (region) => make(new CloudWatchClient({ ...direct, region })),
    },
    close() {
      cloud.destroy();
      for (const client of made) client.destroy();
    },
  };
}
