// The AWS reads health probes make, through the call pipeline with the probe profile (CallMeta.probe): every AWS
// call of the operator passes the same guardrails (PB-8) — the account's rate limits, per-attempt timeouts, and the
// observation that feeds the control-plane error-rate signal (PB-1), which so sees probe traffic too — without the
// retries and circuit breakers that would hide what a probe exists to see.

import type { CallPipeline } from '../act/call-pipeline.ts';
import type { AwsService, Cloud, RegionName } from '../cloud/types.ts';

export type ProbeCloud = Pick<Cloud, 'compute' | 'databases' | 'replicaLag'>;

export function pipelinedProbeCloud(cloud: ProbeCloud, pipeline: Pick<CallPipeline, 'call'>): ProbeCloud {
  const read = <T>(
    service: AwsService,
    operation: string,
    region: RegionName,
    signal: AbortSignal | undefined,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> =>
    pipeline.call({ service, operation, region, write: false, probe: true, ...(signal ? { signal } : {}) }, fn);
  return {
    compute: {
      ...cloud.compute,
      describeZones: (region, opts = {}) =>
        read('ec2', 'DescribeAvailabilityZones', region, opts.signal, (signal) =>
          cloud.compute.describeZones(region, { ...opts, signal }),
        ),
      describeInstanceHealth: (region, tagSelector, opts = {}) =>
        read('ec2', 'DescribeInstanceStatus', region, opts.signal, (signal) =>
          cloud.compute.describeInstanceHealth(region, tagSelector, { ...opts, signal }),
        ),
    },
    databases: {
      ...cloud.databases,
      describeInstance: (region, id, opts = {}) =>
        read('rds', 'DescribeDBInstances', region, opts.signal, (signal) =>
          cloud.databases.describeInstance(region, id, { ...opts, signal }),
        ),
    },
    replicaLag: {
      replicaLag: (region, id, now, opts = {}) =>
        read('cloudwatch', 'GetMetricStatistics', region, opts.signal, (signal) =>
          cloud.replicaLag.replicaLag(region, id, now, { ...opts, signal }),
        ),
    },
  };
}
