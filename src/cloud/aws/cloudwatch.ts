// ReplicaLagReader over CloudWatch: the newest `AWS/RDS ReplicaLag` datapoint for a replica (seconds). The lag is
// the RPO a promotion would cost (PB-6), so we read the per-minute Maximum — the pessimistic value — and report
// "unknown" (undefined) when nothing was published recently rather than trusting an old number.

import { GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import type { CallOptions, RegionName, ReplicaLagReader } from '../types.ts';
import type { AwsClients } from './clients.ts';
import { callAws } from './errors.ts';

/** How far back a datapoint still counts as recent. RDS publishes ReplicaLag every minute. */
export const DEFAULT_LAG_WINDOW_SECONDS = 300;
const PERIOD_SECONDS = 60;

export function createCloudWatchReplicaLag(
  clients: AwsClients,
  opts: { windowSeconds?: number } = {},
): ReplicaLagReader {
  const windowMs = (opts.windowSeconds ?? DEFAULT_LAG_WINDOW_SECONDS) * 1000;

  return {
    async replicaLagSeconds(region: RegionName, dbInstanceId: string, now: Date, callOpts: CallOptions = {}) {
      const out = await callAws('cloudwatch', 'GetMetricStatistics', () =>
        clients.cloudwatch(region).send(
          new GetMetricStatisticsCommand({
            Namespace: 'AWS/RDS',
            MetricName: 'ReplicaLag',
            Dimensions: [{ Name: 'DBInstanceIdentifier', Value: dbInstanceId }],
            StartTime: new Date(now.getTime() - windowMs),
            EndTime: now,
            Period: PERIOD_SECONDS,
            Statistics: ['Maximum'],
          }),
          { abortSignal: callOpts.signal },
        ),
      );
      let newest: { at: number; value: number } | undefined;
      for (const point of out.Datapoints ?? []) {
        if (point.Timestamp === undefined || point.Maximum === undefined) continue;
        const at = point.Timestamp.getTime();
        if (!newest || at > newest.at) newest = { at, value: point.Maximum };
      }
      return newest?.value;
    },
  };
}
