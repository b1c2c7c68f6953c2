// Simulated CloudWatch for the data-plane traffic path: the verdict metrics the operator publishes (PutMetricData)
// and the alarms on them (PutMetricAlarm, DescribeAlarms), per region. Route 53 health checks follow these alarms
// (sim-health-checks.ts), so draining a record during an event is one PutMetricData in a healthy region.
//
// The model (sources: the PutMetricAlarm and PutMetricData API references; CloudWatch User Guide, "Using Amazon
// CloudWatch alarms" — evaluation, "Configuring how CloudWatch alarms treat missing data"):
// - Datapoints are stored per (region, namespace, metric name, dimensions), with the time CloudWatch received them.
// - An alarm (one per region and name) evaluates its period: periods are aligned to multiples of the period since the
//   epoch, and the period [kP, (k+1)P) is evaluated at (k+1)P + evaluationDelayMs. AWS evaluates a high-resolution
//   alarm every period, but only after the datapoints of that period have been ingested; the delay stands for that
//   ingestion and scheduling lag. Default 10 s (our choice: one period of the 10 s alarms the operator uses; AWS
//   documents no figure). A datapoint counts only if it was received BEFORE the evaluation, so publishing late
//   (back-dated) never rewrites a past evaluation and the history is deterministic.
// - Statistic Maximum, threshold 1, GreaterThanOrEqualToThreshold, one evaluation period, one datapoint to alarm:
//   ALARM when the period's Maximum is ≥ 1 ("drain"), OK when it has datapoints all below 1 ("serve").
// - TreatMissingData = ignore: a period without datapoints keeps the current state. A new alarm is
//   INSUFFICIENT_DATA until its first evaluation with data ("When this operation creates an alarm, the alarm state
//   is immediately set to INSUFFICIENT_DATA"); with missing data ignored it never returns there.
// - PutMetricAlarm on an existing alarm overwrites its configuration and leaves its state unchanged (as AWS
//   documents); evaluations after the overwrite use the new configuration.
// - States are computed lazily from the clock: each read first runs the evaluations due since the previous read, in
//   order, and keeps every transition, so the state at any past instant is exact (health checks read the alarm as it
//   was `healthCheckDelayMs` ago).
// - setAlarmState (SetAlarmState, a scenario control here: the operator never calls it) changes the state
//   DescribeAlarms reports until the next evaluation with data; it does not enter the evaluated history, which is
//   what Route 53 follows (it reads the alarm's data stream, so SetAlarmState does not change a health check).
// - Limits checked: Period 10, 20, 30 or a multiple of 60; at most 1,000 metrics per PutMetricData (the sim splits,
//   as the adapter does: one logged call per request) and 100 names per DescribeAlarms; namespaces starting with
//   "AWS/" are reserved; timestamps more than two weeks old or two hours ahead are refused.
// Every call is a simCall with service 'cloudwatch' in the call's region, so a CloudWatch fault in one region does
// not touch another region, nor Route 53.
// Caveat: Route 53's API reference (AlarmIdentifier.Name) says health checks support alarms on standard-resolution
// metrics only ("High-resolution metrics aren't supported"). The 10 s alarms on StorageResolution-1 data simulated
// here may therefore not be what Route 53 accepts or follows in production; the simulation does not enforce it.

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
import { type SimCallContext, simCall, simError } from './sim-call.ts';
import type { CallScope } from './sim-call-log.ts';

export interface SimCloudWatchOptions {
  /** How long after its period ends an alarm evaluates it (ingestion and scheduling lag). Default 10 s. */
  evaluationDelayMs?: number;
  /** How long after PutMetricData a datapoint is returned by GetMetricData (ingestion). Default 5 s. */
  readDelayMs?: number;
}

/** Our assumption for GetMetricData's ingestion lag (AWS documents no figure for it). */
export const DEFAULT_READ_DELAY_MS = 5_000;
/** GetMetricData: MetricDataQueries per request. */
export const GET_METRIC_DATA_MAX_QUERIES = 500;

export const DEFAULT_EVALUATION_DELAY_MS = 10_000;
/** PutMetricData: metrics per request. */
export const PUT_METRIC_DATA_MAX = 1000;
/** DescribeAlarms: AlarmNames per request. */
export const DESCRIBE_ALARMS_MAX_NAMES = 100;
const TWO_WEEKS_MS = 14 * 24 * 3_600_000;
const TWO_HOURS_MS = 2 * 3_600_000;

export interface SimAlarmTransition {
  /** Epoch ms of the evaluation that changed the state (the alarm's creation for INSUFFICIENT_DATA). */
  at: number;
  state: AlarmState;
}

export interface SimDatapoint {
  value: number;
  /** The datapoint's Timestamp. */
  at: number;
  /** When CloudWatch received it (clock time of the PutMetricData). */
  receivedAt: number;
}

export interface SimCloudWatch {
  putVerdictAlarm(spec: VerdictAlarmSpec, opts?: CallOptions): Promise<void>;
  describeAlarms(region: RegionName, names: string[], opts?: CallOptions): Promise<ObservedAlarm[]>;
  publishVerdicts(region: RegionName, namespace: string, data: VerdictDatum[], opts?: CallOptions): Promise<void>;
  readMaxima: Verdicts['readMaxima'];
  /** The state DescribeAlarms would report now (setAlarmState included); undefined when there is no such alarm. */
  alarmState(region: RegionName, name: string): AlarmState | undefined;
  /** The state its data gave the alarm at `at` (≤ now); undefined before the alarm existed. Ignores setAlarmState. */
  evaluatedStateAt(region: RegionName, name: string, at: number): AlarmState | undefined;
  /** The last OK or ALARM its data gave the alarm at or before `at`; undefined when there was none. */
  lastKnownStateAt(region: RegionName, name: string, at: number): 'OK' | 'ALARM' | undefined;
  /** The alarm's evaluated transitions up to now, oldest first (empty when there is no such alarm). */
  history(region: RegionName, name: string): SimAlarmTransition[];
  /** SetAlarmState: what DescribeAlarms reports until the next evaluation with data (Route 53 ignores it). */
  setAlarmState(region: RegionName, name: string, state: AlarmState): void;
  /** Datapoints stored for one metric, by Timestamp. */
  datapoints(
    region: RegionName,
    namespace: string,
    metricName: string,
    dimensions: Record<string, string>,
  ): SimDatapoint[];
}

interface Alarm {
  spec: VerdictAlarmSpec;
  series: string;
  /** Evaluations due at or before this instant have run. */
  evaluatedUntil: number;
  /** Evaluated states: the first entry is INSUFFICIENT_DATA at creation. */
  history: SimAlarmTransition[];
  /** When the last evaluation that had data ran (−∞ before any). */
  lastDataEvaluationAt: number;
  /** SetAlarmState, in force until an evaluation with data runs after it. */
  override?: SimAlarmTransition;
}

const VALID_PERIODS = new Set([10, 20, 30]);

export function seriesKey(
  region: RegionName,
  namespace: string,
  metricName: string,
  dimensions: Record<string, string>,
): string {
  const dims = Object.keys(dimensions)
    .sort()
    .map((k) => `${k}=${dimensions[k]}`)
    .join(',');
  return `${region}|${namespace}|${metricName}|${dims}`;
}

/** Index of the first element of `points` (sorted by `at`) whose `at` is ≥ `from`. */
function lowerBound(points: SimDatapoint[], from: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid]!.at < from) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function createSimCloudWatch(ctx: SimCallContext, options: SimCloudWatchOptions = {}): SimCloudWatch {
  const delay = options.evaluationDelayMs ?? DEFAULT_EVALUATION_DELAY_MS;
  const readDelay = options.readDelayMs ?? DEFAULT_READ_DELAY_MS;
  const alarms = new Map<string, Alarm>();
  const series = new Map<string, SimDatapoint[]>();

  const alarmKey = (region: RegionName, name: string) => `${region}|${name}`;
  const scope = (operation: string, region: RegionName, target?: string): CallScope => ({
    service: 'cloudwatch',
    operation,
    region,
    ...(target ? { target } : {}),
  });

  /** Runs the evaluations due in (evaluatedUntil, now]; only periods holding datapoints can change the state. */
  function evaluate(alarm: Alarm): void {
    const now = ctx.clock.now();
    if (now <= alarm.evaluatedUntil) return;
    const periodMs = alarm.spec.periodSeconds * 1000;
    const points = series.get(alarm.series) ?? [];
    const maxByPeriod = new Map<number, number>();
    // Period k is evaluated at (k+1)P + delay: the first period due after evaluatedUntil starts after this.
    const from = alarm.evaluatedUntil - delay - periodMs;
    for (let i = lowerBound(points, from); i < points.length; i++) {
      const p = points[i]!;
      const k = Math.floor(p.at / periodMs);
      const evaluatedAt = (k + 1) * periodMs + delay;
      if (evaluatedAt <= alarm.evaluatedUntil || evaluatedAt > now || p.receivedAt >= evaluatedAt) continue;
      maxByPeriod.set(k, Math.max(maxByPeriod.get(k) ?? Number.NEGATIVE_INFINITY, p.value));
    }
    for (const k of [...maxByPeriod.keys()].sort((a, b) => a - b)) {
      const at = (k + 1) * periodMs + delay;
      const state: AlarmState = maxByPeriod.get(k)! >= 1 ? 'ALARM' : 'OK';
      alarm.lastDataEvaluationAt = at;
      if (alarm.history.at(-1)!.state !== state) alarm.history.push({ at, state });
    }
    alarm.evaluatedUntil = now;
    if (alarm.override && alarm.override.at < alarm.lastDataEvaluationAt) delete alarm.override;
  }

  function current(region: RegionName, name: string): Alarm | undefined {
    const alarm = alarms.get(alarmKey(region, name));
    if (alarm) evaluate(alarm);
    return alarm;
  }

  function reported(alarm: Alarm): SimAlarmTransition {
    return alarm.override ?? alarm.history.at(-1)!;
  }

  function observe(alarm: Alarm): ObservedAlarm {
    const { spec } = alarm;
    const { state, at } = reported(alarm);
    return {
      region: spec.region,
      name: spec.name,
      state,
      stateUpdatedAt: at,
      namespace: spec.namespace,
      metricName: spec.metricName,
      dimensions: { ...spec.dimensions },
      periodSeconds: spec.periodSeconds,
    };
  }

  function validateAlarm(s: CallScope, spec: VerdictAlarmSpec): void {
    const invalid = (message: string) => simError(s, 'terminal', 'InvalidParameterValue', message);
    const p = spec.periodSeconds;
    if (!(VALID_PERIODS.has(p) || (Number.isInteger(p) && p > 0 && p % 60 === 0))) {
      throw invalid(`The parameter Period must be 10, 20, 30 or a multiple of 60, got ${p}`);
    }
    if (spec.name.length < 1 || spec.name.length > 255) throw invalid('AlarmName must be 1 to 255 characters');
  }

  function validateData(s: CallScope, namespace: string, data: VerdictDatum[]): void {
    const invalid = (message: string) => simError(s, 'terminal', 'InvalidParameterValue', message);
    if (namespace.startsWith('AWS/')) throw invalid(`The value ${namespace} for parameter Namespace is reserved`);
    const now = ctx.clock.now();
    for (const d of data) {
      if (!Number.isFinite(d.value)) throw invalid(`The value ${d.value} for parameter Value is invalid`);
      if (d.at < now - TWO_WEEKS_MS || d.at > now + TWO_HOURS_MS) {
        throw invalid(`The parameter Timestamp ${new Date(d.at).toISOString()} is outside the accepted range`);
      }
    }
  }

  function store(region: RegionName, namespace: string, data: VerdictDatum[]): void {
    const receivedAt = ctx.clock.now();
    for (const d of data) {
      const key = seriesKey(region, namespace, d.metricName, d.dimensions);
      const points = series.get(key) ?? [];
      series.set(key, points);
      // Mostly appended in order; a back-dated datapoint is inserted at its place.
      let i = points.length;
      while (i > 0 && points[i - 1]!.at > d.at) i--;
      points.splice(i, 0, { value: d.value, at: d.at, receivedAt });
    }
  }

  function chunks<T>(items: T[], size: number): T[][] {
    const out: T[][] = [];
    for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
    return out;
  }

  function requireAlarm(region: RegionName, name: string): Alarm {
    const alarm = current(region, name);
    if (!alarm) throw new Error(`simulated CloudWatch has no alarm ${name} in ${region}`);
    return alarm;
  }

  return {
    putVerdictAlarm(spec, opts) {
      const s = scope('PutMetricAlarm', spec.region, spec.name);
      return simCall(ctx, s, opts, () => {
        validateAlarm(s, spec);
        const copy: VerdictAlarmSpec = { ...spec, dimensions: { ...spec.dimensions } };
        const key = seriesKey(spec.region, spec.namespace, spec.metricName, spec.dimensions);
        const existing = current(spec.region, spec.name);
        if (existing) {
          // An update overwrites the configuration and leaves the state as it is.
          existing.spec = copy;
          existing.series = key;
          return;
        }
        const now = ctx.clock.now();
        alarms.set(alarmKey(spec.region, spec.name), {
          spec: copy,
          series: key,
          evaluatedUntil: now,
          history: [{ at: now, state: 'INSUFFICIENT_DATA' }],
          lastDataEvaluationAt: Number.NEGATIVE_INFINITY,
        });
      });
    },

    async describeAlarms(region, names, opts) {
      const out: ObservedAlarm[] = [];
      const pace = createRequestPacer(opts);
      for (const batch of chunks([...new Set(names)], DESCRIBE_ALARMS_MAX_NAMES)) {
        await pace();
        const found = await simCall(ctx, scope('DescribeAlarms', region), opts, () =>
          batch.flatMap((name) => {
            const alarm = current(region, name);
            return alarm ? [observe(alarm)] : [];
          }),
        );
        out.push(...found);
      }
      return out;
    },

    async publishVerdicts(region, namespace, data, opts) {
      const pace = createRequestPacer(opts);
      for (const batch of chunks(data, PUT_METRIC_DATA_MAX)) {
        const s = scope('PutMetricData', region, namespace);
        await pace();
        await simCall(ctx, s, opts, () => {
          validateData(s, namespace, batch);
          store(region, namespace, batch);
        });
      }
    },

    async readMaxima(region, namespace, metrics, range, opts) {
      const out: Array<number | undefined> = [];
      const pace = createRequestPacer(opts);
      for (const batch of chunks([...metrics], GET_METRIC_DATA_MAX_QUERIES)) {
        await pace();
        const found = await simCall(ctx, scope('GetMetricData', region, namespace), opts, () => {
          const visibleBefore = ctx.clock.now() - readDelay;
          return batch.map((m) => {
            const points = series.get(seriesKey(region, namespace, m.metricName, m.dimensions)) ?? [];
            let max: number | undefined;
            for (let i = lowerBound(points, range.fromMs); i < points.length; i++) {
              const p = points[i]!;
              if (p.at > range.toMs) break;
              if (p.receivedAt <= visibleBefore && (max === undefined || p.value > max)) max = p.value;
            }
            return max;
          });
        });
        out.push(...found);
      }
      return out;
    },

    alarmState(region, name) {
      const alarm = current(region, name);
      return alarm ? reported(alarm).state : undefined;
    },

    evaluatedStateAt(region, name, at) {
      const alarm = current(region, name);
      if (!alarm) return undefined;
      let state: AlarmState | undefined;
      for (const t of alarm.history) {
        if (t.at > at) break;
        state = t.state;
      }
      return state;
    },

    lastKnownStateAt(region, name, at) {
      const alarm = current(region, name);
      let state: 'OK' | 'ALARM' | undefined;
      for (const t of alarm?.history ?? []) {
        if (t.at > at) break;
        if (t.state !== 'INSUFFICIENT_DATA') state = t.state;
      }
      return state;
    },

    history(region, name) {
      return (current(region, name)?.history ?? []).map((t) => ({ ...t }));
    },

    setAlarmState(region, name, state) {
      requireAlarm(region, name).override = { at: ctx.clock.now(), state };
    },

    datapoints(region, namespace, metricName, dimensions) {
      return (series.get(seriesKey(region, namespace, metricName, dimensions)) ?? []).map((p) => ({ ...p }));
    },
  };
}
