// Verdicts over CloudWatch: the metric and alarms behind the data-plane path's Route 53 health checks
// (docs/static-stability.md). The operator publishes a verdict per record (1 = drain, 0 = serve) with PutMetricData;
// the record's alarm goes to ALARM when the Maximum over one period is >= 1, and Route 53 then treats the record's
// health check as unhealthy. During an event PutMetricData is the ONLY call on the traffic path, made to a region
// other than the impaired one; the CloudWatch client is regional (clients.regional('cloudwatch', region, …)).
//
// - putVerdictAlarm: PutMetricAlarm creates or overwrites the alarm; actions stay disabled (the health check reads
//   the alarm state, nothing else needs to act). Missing data is ignored, so an alarm keeps its last state when the
//   operator stops publishing. The period is a multiple of 60 s on a standard-resolution metric (StorageResolution
//   60): Route 53 health checks do not support alarms on high-resolution metrics (Route 53 API reference,
//   AlarmIdentifier). 10, 20 and 30 s periods stay accepted here for other uses; anything else is refused.
// - describeAlarms: DescribeAlarms by name, at most 100 names per request (the API's limit on AlarmNames and on
//   MaxRecords), following NextToken. Alarms that do not exist are absent.
// - publishVerdicts: PutMetricData in requests of at most 1,000 datums (the API's limit on MetricData per request)
//   and at most PUT_METRIC_DATA_MAX_BYTES of datum JSON (the request limit is 1 MB; the SDK gzips the body, we
//   stay under the limit before compression anyway). Requests go out one after another, in order; the first failure
//   stops the rest and is thrown (the executor retries the whole call: re-publishing a datapoint is harmless, the
//   alarm takes the Maximum).

import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  type Dimension,
  GetMetricDataCommand,
  type MetricAlarm,
  type MetricDataQuery,
  type MetricDatum,
  PutMetricAlarmCommand,
  PutMetricDataCommand,
} from '@aws-sdk/client-cloudwatch';
import { CloudError } from '../errors.ts';
import { createRequestPacer } from '../request-pacer.ts';
import type {
  AlarmState,
  CallOptions,
  ObservedAlarm,
  RegionName,
  VerdictAlarmSpec,
  VerdictDatum,
  Verdicts,
} from '../types.ts';
import type { AwsClients } from './clients.ts';
import { callAws } from './errors.ts';

const SERVICE = 'cloudwatch';

/** PutMetricData: "The array can include no more than 1000 metrics per call." */
export const PUT_METRIC_DATA_MAX_DATUMS = 1000;
/** Our budget for one PutMetricData body (the service limit is 1 MB per request). */
export const PUT_METRIC_DATA_MAX_BYTES = 512 * 1024;
/** GetMetricData: at most 500 MetricDataQueries per request. */
export const GET_METRIC_DATA_MAX_QUERIES = 500;
/** DescribeAlarms: at most 100 AlarmNames, and MaxRecords is 1–100. */
export const DESCRIBE_ALARMS_MAX_NAMES = 100;

const ALARM_STATES: ReadonlySet<string> = new Set(['OK', 'ALARM', 'INSUFFICIENT_DATA']);

/** Dimensions in a stable order (by name), so the same record always names the same metric in the same way. */
export function toDimensions(dimensions: Record<string, string>): Dimension[] {
  return Object.keys(dimensions)
    .sort()
    .map((Name) => ({ Name, Value: dimensions[Name] as string }));
}

function fromDimensions(dimensions: Dimension[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of dimensions ?? []) if (d.Name !== undefined) out[d.Name] = d.Value ?? '';
  return out;
}

export function isValidAlarmPeriod(seconds: number): boolean {
  return (
    Number.isInteger(seconds) &&
    (seconds === 10 || seconds === 20 || seconds === 30 || (seconds > 0 && seconds % 60 === 0))
  );
}

function toObservedAlarm(region: RegionName, alarm: MetricAlarm): ObservedAlarm {
  const state = alarm.StateValue;
  return {
    region,
    name: alarm.AlarmName ?? '',
    state: state !== undefined && ALARM_STATES.has(state) ? (state as AlarmState) : 'INSUFFICIENT_DATA',
    ...(alarm.StateUpdatedTimestamp !== undefined ? { stateUpdatedAt: alarm.StateUpdatedTimestamp.getTime() } : {}),
    ...(alarm.Namespace !== undefined ? { namespace: alarm.Namespace } : {}),
    ...(alarm.MetricName !== undefined ? { metricName: alarm.MetricName } : {}),
    ...(alarm.Dimensions !== undefined ? { dimensions: fromDimensions(alarm.Dimensions) } : {}),
    ...(alarm.Period !== undefined ? { periodSeconds: alarm.Period } : {}),
  };
}

function toMetricDatum(datum: VerdictDatum): MetricDatum {
  return {
    MetricName: datum.metricName,
    Dimensions: toDimensions(datum.dimensions),
    Timestamp: new Date(datum.at),
    Value: datum.value,
    Unit: 'None',
    // Standard resolution: Route 53 health checks follow alarms on standard-resolution metrics only (API reference,
    // AlarmIdentifier: "High-resolution metrics aren't supported").
    StorageResolution: 60,
  };
}

/** Upper estimate of one datum's share of the JSON body (the timestamp goes out as epoch seconds). */
function datumBytes(datum: MetricDatum): number {
  return Buffer.byteLength(JSON.stringify({ ...datum, Timestamp: 1e10 }), 'utf8') + 1;
}

/** Splits datums into requests of at most `maxDatums` datums and `maxBytes` bytes (a datum is never split). */
export function batchDatums(
  data: MetricDatum[],
  maxDatums = PUT_METRIC_DATA_MAX_DATUMS,
  maxBytes = PUT_METRIC_DATA_MAX_BYTES,
): MetricDatum[][] {
  const batches: MetricDatum[][] = [];
  let current: MetricDatum[] = [];
  let bytes = 0;
  for (const datum of data) {
    const size = datumBytes(datum);
    if (current.length > 0 && (current.length >= maxDatums || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(datum);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

function invalid(operation: string, code: string, message: string): CloudError {
  return new CloudError({ kind: 'terminal', service: SERVICE, operation, code, message });
}

/**
 * Follows a CloudWatch NextToken until there is none, handing each page to `onPage`. A token handed back twice is
 * an error: the listing would never end.
 */
async function forEachPage<P extends { NextToken?: string | undefined }>(
  operation: string,
  fetchPage: (token: string | undefined) => Promise<P>,
  onPage: (page: P) => void,
  pace: () => Promise<void>,
): Promise<void> {
  const seenTokens = new Set<string>();
  let token: string | undefined;
  for (;;) {
    await pace();
    const page = await callAws(SERVICE, operation, () => fetchPage(token));
    onPage(page);
    const next = page.NextToken;
    if (next === undefined || next === '') return;
    if (seenTokens.has(next)) {
      throw invalid(operation, 'PaginationNotProgressing', `${operation} handed back token ${next} twice`);
    }
    seenTokens.add(next);
    token = next;
  }
}

export function createCloudWatchVerdicts(clients: AwsClients): Verdicts {
  const cw = (region: RegionName): CloudWatchClient => clients.regional('cloudwatch', region, CloudWatchClient);

  return {
    async putVerdictAlarm(spec: VerdictAlarmSpec, callOpts: CallOptions = {}): Promise<void> {
      if (!isValidAlarmPeriod(spec.periodSeconds)) {
        throw invalid(
          'PutMetricAlarm',
          'InvalidAlarmPeriod',
          `alarm ${spec.name}: period ${spec.periodSeconds} s is not 10, 20, 30 or a multiple of 60`,
        );
      }
      await callAws(SERVICE, 'PutMetricAlarm', () =>
        cw(spec.region).send(
          new PutMetricAlarmCommand({
            AlarmName: spec.name,
            AlarmDescription: spec.description,
            Namespace: spec.namespace,
            MetricName: spec.metricName,
            Dimensions: toDimensions(spec.dimensions),
            Statistic: 'Maximum',
            Period: spec.periodSeconds,
            EvaluationPeriods: 1,
            DatapointsToAlarm: 1,
            Threshold: 1,
            ComparisonOperator: 'GreaterThanOrEqualToThreshold',
            TreatMissingData: 'ignore',
            ActionsEnabled: false,
          }),
          { abortSignal: callOpts.signal },
        ),
      );
    },

    async describeAlarms(region: RegionName, names: string[], callOpts: CallOptions = {}): Promise<ObservedAlarm[]> {
      const wanted = [...new Set(names)];
      const found = new Map<string, ObservedAlarm>();
      const pace = createRequestPacer(callOpts);
      for (let i = 0; i < wanted.length; i += DESCRIBE_ALARMS_MAX_NAMES) {
        const batch = wanted.slice(i, i + DESCRIBE_ALARMS_MAX_NAMES);
        const batchSet = new Set(batch);
        await forEachPage(
          'DescribeAlarms',
          (token) =>
            cw(region).send(
              new DescribeAlarmsCommand({
                AlarmNames: batch,
                AlarmTypes: ['MetricAlarm'],
                MaxRecords: DESCRIBE_ALARMS_MAX_NAMES,
                ...(token !== undefined ? { NextToken: token } : {}),
              }),
              { abortSignal: callOpts.signal },
            ),
          (page) => {
            for (const alarm of page.MetricAlarms ?? []) {
              if (alarm.AlarmName !== undefined && batchSet.has(alarm.AlarmName)) {
                found.set(alarm.AlarmName, toObservedAlarm(region, alarm));
              }
            }
          },
          pace,
        );
      }
      return wanted.flatMap((name) => {
        const alarm = found.get(name);
        return alarm ? [alarm] : [];
      });
    },

    async readMaxima(region, namespace, metrics, range, callOpts: CallOptions = {}) {
      const out: Array<number | undefined> = metrics.map(() => undefined);
      // Whole minutes around the range: the Maximum of a 60 s period covers the datapoints inside it.
      const start = new Date(Math.floor(range.fromMs / 60_000) * 60_000);
      const end = new Date(Math.ceil((range.toMs + 1) / 60_000) * 60_000);
      const pace = createRequestPacer(callOpts);
      for (let i = 0; i < metrics.length; i += GET_METRIC_DATA_MAX_QUERIES) {
        const batch = metrics.slice(i, i + GET_METRIC_DATA_MAX_QUERIES);
        const queries: MetricDataQuery[] = batch.map((m, j) => ({
          Id: `m${i + j}`,
          MetricStat: {
            Metric: { Namespace: namespace, MetricName: m.metricName, Dimensions: toDimensions(m.dimensions) },
            Period: 60,
            Stat: 'Maximum',
          },
          ReturnData: true,
        }));
        await forEachPage(
          'GetMetricData',
          (token) =>
            cw(region).send(
              new GetMetricDataCommand({
                MetricDataQueries: queries,
                StartTime: start,
                EndTime: end,
                ScanBy: 'TimestampDescending',
                ...(token !== undefined ? { NextToken: token } : {}),
              }),
              { abortSignal: callOpts.signal },
            ),
          (page) => {
            for (const result of page.MetricDataResults ?? []) {
              const index = Number(result.Id?.slice(1));
              if (!Number.isInteger(index) || index < i || index >= i + batch.length) continue;
              for (const value of result.Values ?? []) {
                if (Number.isFinite(value) && (out[index] === undefined || value > (out[index] as number))) {
                  out[index] = value;
                }
              }
            }
          },
          pace,
        );
      }
      return out;
    },

    async publishVerdicts(
      region: RegionName,
      namespace: string,
      data: VerdictDatum[],
      callOpts: CallOptions = {},
    ): Promise<void> {
      const bad = data.find((d) => !Number.isFinite(d.value) || !Number.isFinite(d.at));
      if (bad) {
        throw invalid(
          'PutMetricData',
          'InvalidVerdictDatum',
          `verdict ${bad.metricName} ${JSON.stringify(bad.dimensions)}: value ${bad.value} at ${bad.at} is not a finite number`,
        );
      }
      const pace = createRequestPacer(callOpts);
      for (const batch of batchDatums(data.map(toMetricDatum))) {
        await pace();
        await callAws(SERVICE, 'PutMetricData', () =>
          cw(region).send(new PutMetricDataCommand({ Namespace: namespace, MetricData: batch }), {
            abortSignal: callOpts.signal,
          }),
        );
      }
    },
  };
}
