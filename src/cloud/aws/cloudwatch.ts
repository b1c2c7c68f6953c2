// ReplicaLagReader over CloudWatch: the newest `AWS/RDS ReplicaLag` datapoint of a replica, with its Timestamp.
// The lag is the RPO a promotion would cost (PB-6), so the reader reports what RDS published and leaves every
// judgement to the planner (src/decide/standby-selection.ts judgeLag):
// - The value is passed on as reported. RDS reports −1 when replication is not running ("If the ReplicaLag metric
//   returns -1, then replication is currently not active. ReplicaLag = -1 is equivalent to Seconds_Behind_Master =
//   NULL" — https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_MariaDB.Replication.ReadReplicas.Monitor.html,
//   the same for MySQL: USER_MySQL.Replication.ReadReplicas.Monitor.html). Clamping it to 0 would read "stopped"
//   as "caught up".
// - Per one-minute period we ask for the Maximum (the pessimistic lag) and the Minimum: a period whose Minimum is
//   negative had replication stopped at some point, and is reported as that negative value, not as its Maximum.
//   RDS publishes ReplicaLag once a minute, so both are normally the same single sample.
// - The look-back window (default 65 minutes) is longer than the oldest datapoint any policy may accept
//   (database.rds.maxLagAgeSeconds is at most 3600 s) plus CloudWatch's publishing delay. With a short window an
//   old datapoint would vanish and read as "unknown"; with this one it comes back with its Timestamp and the
//   planner rejects it as stale, naming its age. 65 one-minute periods stay far below GetMetricStatistics' 1,440
//   datapoints per request, and a request costs the same whatever its window.

import { CloudWatchClient, GetMetricStatisticsCommand } from '@aws-sdk/client-cloudwatch';
import type { CallOptions, RegionName, ReplicaLagDatapoint, ReplicaLagReader } from '../types.ts';
import type { AwsClients } from './clients.ts';
import { callAws } from './errors.ts';

/** How far back the reader looks for the newest datapoint: longer than the largest maxLagAgeSeconds (3600 s). */
export const DEFAULT_LAG_WINDOW_SECONDS = 3900;
const PERIOD_SECONDS = 60;

export function createCloudWatchReplicaLag(
  clients: AwsClients,
  opts: { windowSeconds?: number } = {},
): ReplicaLagReader {
  const windowMs = (opts.windowSeconds ?? DEFAULT_LAG_WINDOW_SECONDS) * 1000;

  return {
    async replicaLag(region: RegionName, dbInstanceId: string, now: Date, callOpts: CallOptions = {}) {
      const out = await callAws('cloudwatch', 'GetMetricStatistics', () =>
        clients.regional('cloudwatch', region, CloudWatchClient).send(
          new GetMetricStatisticsCommand({
            Namespace: 'AWS/RDS',
            MetricName: 'ReplicaLag',
            Dimensions: [{ Name: 'DBInstanceIdentifier', Value: dbInstanceId }],
            StartTime: new Date(now.getTime() - windowMs),
            EndTime: now,
            Period: PERIOD_SECONDS,
            Statistics: ['Maximum', 'Minimum'],
          }),
          { abortSignal: callOpts.signal },
        ),
      );
      let newest: ReplicaLagDatapoint | undefined;
      for (const point of out.Datapoints ?? []) {
        if (point.Timestamp === undefined) continue;
        const seconds =
          point.Minimum !== undefined && point.Minimum < 0 ? point.Minimum : (point.Maximum ?? point.Minimum);
        if (seconds === undefined) continue;
        const at = point.Timestamp.getTime();
        if (!newest || at > newest.at) newest = { seconds, at };
      }
      return newest;
    },
  };
}
