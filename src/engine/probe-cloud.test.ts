// Probe reads reach AWS through the call pipeline with the probe profile, one call per probe read.
import { describe, expect, it } from 'vitest';
import { createFakeCloud } from '../act/testing/fake-cloud.ts';
import type { CallMeta } from '../act/types.ts';
import { pipelinedProbeCloud } from './probe-cloud.ts';

describe('pipelinedProbeCloud', () => {
  it('sends every probe read through the pipeline as a probe call, with its operation and region', async () => {
    const metas: CallMeta[] = [];
    const cloud = createFakeCloud();
    const probed = pipelinedProbeCloud(cloud, {
      call: (meta, fn) => {
        metas.push(meta);
        return fn(new AbortController().signal, async () => {});
      },
    });
    await probed.compute.describeZones('us-east-1').catch(() => undefined);
    await probed.compute.describeInstanceHealth('us-east-1', { app: 'x' }).catch(() => undefined);
    await probed.databases.describeInstance('us-west-2', 'orders-usw2').catch(() => undefined);
    await probed.replicaLag.replicaLag('us-west-2', 'orders-usw2', new Date(0)).catch(() => undefined);
    expect(metas.map((m) => [m.service, m.operation, m.region, m.write, m.probe])).toEqual([
      ['ec2', 'DescribeAvailabilityZones', 'us-east-1', false, true],
      ['ec2', 'DescribeInstanceStatus', 'us-east-1', false, true],
      ['rds', 'DescribeDBInstances', 'us-west-2', false, true],
      ['cloudwatch', 'GetMetricStatistics', 'us-west-2', false, true],
    ]);
  });
});
