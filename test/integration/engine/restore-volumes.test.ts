// compute.ec2.restoreVolumesFromSnapshots live, end to end (PB-3, PB-4): the operator as a child process against
// the real kube-apiserver and moto behind the fault proxy. When the probes of us-east-1a fail until the zone is
// Impaired, the operator observes the policy's tagged volumes and their snapshots (DescribeVolumes /
// DescribeSnapshots), and recreates the impaired zone's volume from its NEWEST snapshot in the healthy zone —
// never in the impaired one.

import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeVolumesCommand,
  EC2Client,
  type Volume,
} from '@aws-sdk/client-ec2';
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, testbed } from '../../env/testbed.ts';
import {
  createPolicy,
  createWeightedZone,
  eventually,
  operatorProcessSuite,
  policyBody,
  sleep,
  statusOf,
  waitHealthy,
} from '../support/operator-fixture.ts';

const REGION = 'us-east-1';

let kc: KubeConfig;
let r53: Route53Client;
let ec2: EC2Client;
const suite = operatorProcessSuite();
const { probes } = suite;

beforeAll(() => {
  const tb = testbed();
  ({ kc, r53 } = suite);
  ec2 = new EC2Client({ endpoint: tb.aws.motoEndpoint, region: REGION, credentials: tb.aws.credentials });
});

afterAll(() => {
  ec2?.destroy();
});

async function volumes(filters: Array<{ Name: string; Values: string[] }>): Promise<Volume[]> {
  return (await ec2.send(new DescribeVolumesCommand({ Filters: filters }))).Volumes ?? [];
}

describe('restoreVolumesFromSnapshots against moto', () => {
  it('recreates the impaired zone’s volume from its newest snapshot in a healthy zone, never in the impaired one', async () => {
    const tb = testbed();
    const app = `restore-${Date.now()}`;
    const tag = (resource: 'volume' | 'snapshot') => [{ ResourceType: resource, Tags: [{ Key: 'app', Value: app }] }];

    // The service's data volume in us-east-1a, snapshotted twice (the second newer); a second volume in us-east-1b.
    const data = await ec2.send(
      new CreateVolumeCommand({ AvailabilityZone: 'us-east-1a', Size: 8, TagSpecifications: tag('volume') }),
    );
    const older = await ec2.send(new CreateSnapshotCommand({ VolumeId: data.VolumeId }));
    await sleep(1_100); // moto's snapshot StartTime has second resolution
    const newest = await ec2.send(new CreateSnapshotCommand({ VolumeId: data.VolumeId }));
    const other = await ec2.send(
      new CreateVolumeCommand({ AvailabilityZone: 'us-east-1b', Size: 8, TagSpecifications: tag('volume') }),
    );
    await ec2.send(new CreateSnapshotCommand({ VolumeId: other.VolumeId }));
    const inImpairedZoneBefore = (await volumes([{ Name: 'availability-zone', Values: ['us-east-1a'] }])).length;

    const ns = await createNamespace(kc, 'restore-volumes');
    const record = 'api.restore.test.';
    const zoneId = await createWeightedZone(r53, 'restore.test.', record);
    const op = suite.start(ns, 'restore');
    const body = policyBody(ns, 'data', { zoneId, recordName: record, probeUrl: `${probes.base}/v/{zone}` }) as {
      spec: Record<string, unknown>;
    };
    body.spec.compute = { ec2: { tagSelector: { app }, restoreVolumesFromSnapshots: true } };
    await createPolicy(kc, ns, body);
    await waitHealthy(kc, ns, 'data').catch((err) => {
      throw new Error(`${err}\noperator log:\n${op.tail()}`);
    });
    await tb.faults.clear();

    probes.answers.set('v/us-east-1a', 503);
    const restored = await eventually(
      `a volume restored from ${newest.SnapshotId}`,
      async () => {
        const found = await volumes([{ Name: 'snapshot-id', Values: [newest.SnapshotId ?? ''] }]);
        return found.length > 0 ? found : undefined;
      },
      45_000,
    ).catch((err) => {
      throw new Error(`${err}\noperator log:\n${op.tail(60)}`);
    });

    expect(restored.map((v) => v.AvailabilityZone)).toEqual(['us-east-1b']);
    expect(await volumes([{ Name: 'snapshot-id', Values: [older.SnapshotId ?? ''] }])).toEqual([]);
    // Nothing was created in the impaired zone (PB-3), and the healthy zone's own volume was left alone.
    expect(await volumes([{ Name: 'availability-zone', Values: ['us-east-1a'] }])).toHaveLength(inImpairedZoneBefore);

    const status = await eventually('RestoreVolume Done in the journal', async () => {
      const s = await statusOf(kc, ns, 'data');
      return s.journal?.some((e) => e.action === 'RestoreVolume' && e.state === 'Done') ? s : undefined;
    });
    expect(status.journal?.filter((e) => e.action === 'RestoreVolume').map((e) => [e.state, e.rule])).toEqual([
      ['Done', 'PB-4'],
    ]);
    const zone = status.zones?.find((z) => z.name === 'us-east-1a');
    expect(zone?.state).toBe('Impaired');

    // The observation read volumes and snapshots through the proxy; exactly one CreateVolume went out.
    const log = await tb.faults.log();
    expect(log.some((e) => e.action === 'DescribeVolumes' && e.status === 200)).toBe(true);
    expect(log.some((e) => e.action === 'DescribeSnapshots' && e.status === 200)).toBe(true);
    expect(log.filter((e) => e.action === 'CreateVolume')).toHaveLength(1);
  }, 120_000);
});
