// Plays a scenario against the simulated cloud: each event's effects become state changes of the sim at the
// event's time, scheduled on the clock (so under a virtual clock the whole timeline is deterministic and fast).
//
// How effects map onto the simulation:
// - API faults (api / apiErrorRate / latencyMs / hangs) become fault rules keyed by (service, scope, api list,
//   exceptZone). A later effect with the same key updates the fields it names and keeps the others, as the 2011
//   timeline reads ("1b: ebs apiErrorRate 0.0, latencyMs 20" ends 1b's storm).
// - A zone-wide `ebs` effect without `api` is also an EBS stall in the zone: instance status checks there fail,
//   reboot/stop/detach hang, and the zone's endpoints answer with that latency and error rate (EBS-backed
//   instances stalled in 2011). It clears once the error rate is 0 and the latency small.
// - ec2 connectivity: degraded → endpoints slow and failing some requests, instance checks impaired, the zone
//   reported `impaired`; down → endpoints dead; ok → all cleared.
// - rds connectivity / ioLatencyMs reach the databases in scope; multiAzFailover the region; replica lag the
//   read replicas in scope.
// - endpoints / zoneState set what probes and DescribeAvailabilityZones see, directly.
//
// Time: `at` is scenario minutes. With timeScale s (scenario seconds per clock second, as FailoverDrill's
// spec.timeScale), an event happens at startAt + at * 60 000 / s clock-ms. Effects at minute 0 are applied
// before applyScenario returns, so nothing observes the cloud before them.

import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import type { SimCloud } from '../cloud/sim/sim-cloud.ts';
import type { EndpointCondition } from '../cloud/sim/sim-endpoints.ts';
import type { FaultRule } from '../cloud/sim/sim-faults.ts';
import type { AwsService, RegionName, ZoneName } from '../cloud/types.ts';
import { ScenarioError } from './scenario-loader.ts';
import type { Effect, PartitionScope, Scenario } from './scenario-schema.ts';

/**
 * What a scenario's vantage events do (the simulation with several vantages, run-simulation.ts). Each returns the
 * timeline line for what it did.
 */
export interface VantageControl {
  partition(vantage: string, regions: readonly RegionName[], scope: PartitionScope): string;
  heal(vantage: string, regions: readonly RegionName[] | undefined): string;
  down(vantage: string): string;
}

/** The vantage events of one scenario event, applied; a scenario with them needs a run with vantages. */
function vantageLines(
  event: Scenario['events'][number],
  control: VantageControl | undefined,
  source: string,
): string[] {
  if (!event.partition && !event.heal && !event.vantageDown) return [];
  // checkAgainstSim refused the scenario before it started when there is no control.
  if (!control) throw new Error(`scenario ${source}: vantage events without vantages`);
  const lines: string[] = [];
  if (event.partition) {
    const p = event.partition;
    lines.push(control.partition(p.vantage, p.regions, p.scope ?? 'all'));
  }
  if (event.heal) lines.push(control.heal(event.heal.vantage, event.heal.regions));
  if (event.vantageDown) lines.push(control.down(event.vantageDown.vantage));
  return lines;
}

export interface ApplyOptions {
  /** Applies partition, heal and vantageDown (a simulation with vantages); absent: a scenario with them is refused. */
  vantages?: VantageControl;
  /** Scenario seconds per clock second (FailoverDrill spec.timeScale). Default 1. */
  timeScale?: number;
  /** Clock time of minute 0. Default: now. */
  startAt?: number;
  /** Called after each event is applied, for the timeline. */
  onEvent?: (event: AppliedEvent) => void;
  logger?: Logger;
}

export interface AppliedEvent {
  /** Scenario minutes. */
  atMinutes: number;
  /** Clock time it was applied. */
  at: number;
  note?: string;
  /** One line per effect, e.g. "us-east-1a ebs: API error rate 60%, +4000ms". */
  effects: string[];
}

export interface ScenarioRun {
  scenario: Scenario;
  startedAt: number;
  /** Clock time at durationMinutes. */
  endsAt: number;
  /** Events applied so far, in order. */
  applied: AppliedEvent[];
  /** Clock time of a scenario minute. */
  timeOf(atMinutes: number): number;
  /** Resolves once the last event is applied (or the run is cancelled). */
  done: Promise<void>;
  /** Stops applying further events (already applied state stays). */
  cancel(): void;
}

/** An EBS stall below both thresholds is noise, not a stall. */
const STALL_ERROR_RATE = 0;
const STALL_LATENCY_MS = 200;
const DEGRADED_ENDPOINT: EndpointCondition = { errorRate: 0.3, latencyMs: 1500 };
const DEGRADED_DB = { errorRate: 0.2 };

export function applyScenario(
  sim: SimCloud,
  scenario: Scenario,
  clock: Clock,
  options: ApplyOptions = {},
): ScenarioRun {
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0)) throw new RangeError(`timeScale must be > 0, got ${timeScale}`);
  checkAgainstSim(sim, scenario, options.vantages !== undefined);
  const startedAt = options.startAt ?? clock.now();
  const timeOf = (atMinutes: number) => startedAt + Math.round((atMinutes * 60_000) / timeScale);
  const applied: AppliedEvent[] = [];
  const controller = new AbortController();
  const state = createApplierState(sim);

  const applyEvent = (event: Scenario['events'][number]) => {
    const lines = [
      ...(event.effects ?? []).map((effect) => state.apply(effect)),
      ...vantageLines(event, options.vantages, scenario.source),
    ];
    const record: AppliedEvent = {
      atMinutes: event.at,
      at: clock.now(),
      effects: lines,
      ...(event.note ? { note: event.note } : {}),
    };
    applied.push(record);
    options.logger?.info(
      { scenario: scenario.name, atMinutes: event.at, effects: lines, rule: 'PB-12' },
      'Applied scenario event',
    );
    options.onEvent?.(record);
  };

  const immediate = scenario.events.filter((e) => timeOf(e.at) <= clock.now());
  const later = scenario.events.filter((e) => timeOf(e.at) > clock.now());
  for (const event of immediate) applyEvent(event);

  const done = (async () => {
    for (const event of later) {
      try {
        await clock.sleep(timeOf(event.at) - clock.now(), controller.signal);
      } catch {
        return; // cancelled
      }
      applyEvent(event);
    }
  })();

  return {
    scenario,
    startedAt,
    endsAt: timeOf(scenario.durationMinutes),
    applied,
    timeOf,
    done,
    cancel: () => controller.abort(),
  };
}

/** Fails before anything is scheduled when the scenario names zones or regions the simulated cloud lacks. */
function checkAgainstSim(sim: SimCloud, scenario: Scenario, withVantages: boolean): void {
  const regions = sim.regions();
  const zones = new Set(regions.flatMap((r) => r.zones));
  const regionNames = new Set(regions.map((r) => r.name));
  const issues: ScenarioError['issues'] = [];
  scenario.events.forEach((event, e) => {
    if (!withVantages) {
      for (const field of ['partition', 'heal', 'vantageDown'] as const) {
        if (event[field] === undefined) continue;
        issues.push({
          path: `events[${e}].${field}`,
          message: `names vantage ${event[field].vantage}, but the simulated policy has no spec.vantagePoints: not applicable to it`,
          fix: 'Simulate a policy with spec.vantagePoints (e.g. examples/three-vantages.yaml), or use a scenario without vantage events.',
        });
      }
    }
    for (const field of ['partition', 'heal'] as const) {
      event[field]?.regions?.forEach((region, r) => {
        if (!regionNames.has(region)) {
          issues.push({
            path: `events[${e}].${field}.regions[${r}]`,
            message: `region ${region} is not in the simulated cloud`,
            fix: `Use one of ${[...regionNames].join(', ')}, or simulate a policy that names ${region}.`,
          });
        }
      });
    }
    (event.effects ?? []).forEach((effect, f) => {
      const path = `events[${e}].effects[${f}]`;
      for (const field of ['zone', 'exceptZone'] as const) {
        const zone = effect[field];
        if (zone && !zones.has(zone)) {
          issues.push({
            path: `${path}.${field}`,
            message: `zone ${zone} is not in the simulated cloud`,
            fix: `Use one of ${[...zones].join(', ')}, or simulate a policy that names ${zone}.`,
          });
        }
      }
      if (effect.region && !regionNames.has(effect.region)) {
        issues.push({
          path: `${path}.region`,
          message: `region ${effect.region} is not in the simulated cloud`,
          fix: `Use one of ${[...regionNames].join(', ')}, or simulate a policy that names ${effect.region}.`,
        });
      }
    });
  });
  if (issues.length > 0) throw new ScenarioError(scenario.source, issues);
}

function createApplierState(sim: SimCloud) {
  const zonesOf = (effect: Effect): ZoneName[] => {
    if (effect.zone) return [effect.zone];
    const region = sim.regions().find((r) => r.name === effect.region);
    return (region?.zones ?? []).filter((z) => z !== effect.exceptZone);
  };
  const regionOf = (effect: Effect): RegionName => effect.region ?? sim.regionOf(effect.zone!)!;
  const apisOf = (effect: Effect): string[] | undefined =>
    effect.api === undefined ? undefined : Array.isArray(effect.api) ? [...effect.api].sort() : [effect.api];
  const where = (effect: Effect) =>
    effect.zone ?? `${effect.region}${effect.exceptZone ? ` (except ${effect.exceptZone})` : ''}`;

  function applyFaults(effect: Effect, service: AwsService, notes: string[]): void {
    // `api` alone only narrows another field (e.g. {api: RunInstances, ebsBacked: delayed}): no fault rule.
    if (effect.apiErrorRate === undefined && effect.latencyMs === undefined && effect.hangs === undefined) return;
    const apis = apisOf(effect);
    const id = `scenario:${service}:${effect.region ?? ''}:${effect.zone ?? ''}:${apis?.join(',') ?? '*'}:${effect.exceptZone ?? ''}`;
    const previous = sim.faults.get(id);
    const rule: FaultRule = {
      ...(previous ?? { service, region: regionOf(effect) }),
      ...(effect.zone ? { zone: effect.zone } : {}),
      ...(effect.exceptZone ? { exceptZone: effect.exceptZone } : {}),
      ...(apis ? { operations: apis } : {}),
      ...(effect.apiErrorRate !== undefined ? { errorRate: effect.apiErrorRate } : {}),
      ...(effect.latencyMs !== undefined ? { latencyMs: effect.latencyMs } : {}),
      ...(effect.hangs !== undefined ? { hang: effect.hangs } : {}),
    };
    sim.faults.set(id, rule);
    const parts: string[] = [];
    if (effect.apiErrorRate !== undefined) parts.push(`error rate ${Math.round(effect.apiErrorRate * 100)}%`);
    if (effect.latencyMs !== undefined) parts.push(`+${effect.latencyMs}ms`);
    if (effect.hangs !== undefined) parts.push(effect.hangs ? 'calls hang' : 'calls answer again');
    notes.push(`${apis ? apis.join('/') : 'all API calls'}: ${parts.join(', ')}`);

    // A zone-wide EBS storm is a data-plane stall too.
    if (service === 'ebs' && apis === undefined) {
      const errorRate = rule.errorRate ?? 0;
      const latencyMs = rule.latencyMs ?? 0;
      const stalled = errorRate > STALL_ERROR_RATE || latencyMs > STALL_LATENCY_MS;
      for (const zone of zonesOf(effect)) {
        sim.compute.setEbsStall(zone, stalled ? { errorRate, latencyMs } : undefined);
        sim.endpoints.setCondition(zone, 'ebs', stalled ? { errorRate, latencyMs } : undefined);
      }
      notes.push(stalled ? 'EBS volumes stalled: instances and endpoints degraded' : 'EBS volumes normal');
    }
  }

  function applyEc2(effect: Effect, notes: string[]): void {
    if (effect.connectivity) {
      for (const zone of zonesOf(effect)) {
        sim.compute.setConnectivity(zone, effect.connectivity);
        sim.endpoints.setCondition(
          zone,
          'ec2',
          effect.connectivity === 'ok'
            ? undefined
            : effect.connectivity === 'down'
              ? { down: true }
              : DEGRADED_ENDPOINT,
        );
        if (effect.connectivity === 'ok') sim.compute.setZoneState(zone, 'available');
        else sim.compute.setZoneState(zone, 'impaired', [`Connectivity issues in ${zone}`]);
      }
      notes.push(`instance connectivity ${effect.connectivity}`);
    }
    if (effect.ebsBacked) {
      for (const zone of zonesOf(effect)) sim.compute.setLaunchMode(zone, effect.ebsBacked);
      notes.push(`EBS-backed launches ${effect.ebsBacked}`);
    }
  }

  function applyRds(effect: Effect, notes: string[]): void {
    const region = regionOf(effect);
    const zones = new Set(zonesOf(effect));
    const inScope = sim.databases
      .instances()
      .filter((db) => db.region === region && (db.zone === undefined ? !effect.zone : zones.has(db.zone)));
    if (effect.connectivity || effect.ioLatencyMs !== undefined) {
      for (const db of inScope) {
        sim.databases.setConnectivity(db.region, db.id, {
          ...(effect.connectivity === 'ok' ? { reachable: true, errorRate: 0 } : {}),
          ...(effect.connectivity === 'degraded' ? { reachable: true, ...DEGRADED_DB } : {}),
          ...(effect.connectivity === 'down' ? { reachable: false } : {}),
          ...(effect.ioLatencyMs !== undefined ? { ioLatencyMs: effect.ioLatencyMs } : {}),
        });
      }
      const parts = [
        ...(effect.connectivity ? [`connectivity ${effect.connectivity}`] : []),
        ...(effect.ioLatencyMs !== undefined ? [`IO latency ${effect.ioLatencyMs}ms`] : []),
      ];
      notes.push(`databases ${parts.join(', ')} (${inScope.map((db) => db.id).join(', ') || 'none in scope'})`);
    }
    if (effect.multiAzFailover) {
      sim.databases.setMultiAzFailover(region, effect.multiAzFailover);
      notes.push(`Multi-AZ failover ${effect.multiAzFailover}`);
    }
    if (effect.replicaLagSeconds !== undefined || effect.lagGrowthSecondsPerMinute !== undefined) {
      const replicas = inScope.filter((db) => db.replicaSourceId !== undefined);
      for (const db of replicas) {
        const seconds = effect.replicaLagSeconds ?? sim.databases.lagSeconds(db.region, db.id) ?? 0;
        sim.databases.setReplicaLag(db.region, db.id, seconds, (effect.lagGrowthSecondsPerMinute ?? 0) / 60);
      }
      const growth = effect.lagGrowthSecondsPerMinute
        ? `, ${effect.lagGrowthSecondsPerMinute > 0 ? '+' : ''}${effect.lagGrowthSecondsPerMinute}s per minute`
        : '';
      notes.push(
        `replica lag ${effect.replicaLagSeconds ?? 'unchanged'}s${growth} (${replicas.map((db) => db.id).join(', ') || 'no replica in scope'})`,
      );
    }
    if (
      effect.replicationRunning !== undefined ||
      effect.lagMetricDelaySeconds !== undefined ||
      effect.lagMetricStopped !== undefined
    ) {
      const replicas = inScope.filter((db) => db.replicaSourceId !== undefined);
      for (const db of replicas) {
        sim.databases.setLagMetric(db.region, db.id, {
          ...(effect.replicationRunning === undefined ? {} : { replicationStopped: !effect.replicationRunning }),
          ...(effect.lagMetricDelaySeconds === undefined ? {} : { delaySeconds: effect.lagMetricDelaySeconds }),
          ...(effect.lagMetricStopped === undefined ? {} : { published: !effect.lagMetricStopped }),
        });
      }
      const parts = [
        ...(effect.replicationRunning === undefined
          ? []
          : [effect.replicationRunning ? 'replication running' : 'replication stopped (ReplicaLag -1)']),
        ...(effect.lagMetricDelaySeconds === undefined
          ? []
          : [`ReplicaLag datapoints ${effect.lagMetricDelaySeconds}s behind`]),
        ...(effect.lagMetricStopped === undefined
          ? []
          : [effect.lagMetricStopped ? 'ReplicaLag no longer published' : 'ReplicaLag published again']),
      ];
      notes.push(`${parts.join(', ')} (${replicas.map((db) => db.id).join(', ') || 'no replica in scope'})`);
    }
  }

  return {
    /** Applies one effect; returns its one-line description. */
    apply(effect: Effect): string {
      const notes: string[] = [];
      if (effect.endpoints) {
        const condition: EndpointCondition | undefined =
          effect.endpoints === 'ok'
            ? undefined
            : effect.endpoints === 'down'
              ? { down: true }
              : {
                  latencyMs: effect.latencyMs ?? 0,
                  errorRate: effect.errorRate ?? 0,
                  ...(effect.latencyJitterMs ? { latencyJitterMs: effect.latencyJitterMs } : {}),
                };
        for (const zone of zonesOf(effect)) sim.endpoints.setCondition(zone, 'scenario', condition);
        const detail =
          effect.endpoints === 'slow'
            ? ` (+${effect.latencyMs}ms${effect.latencyJitterMs ? `, +0..${effect.latencyJitterMs}ms jitter` : ''})`
            : effect.endpoints === 'erroring'
              ? ` (${Math.round((effect.errorRate ?? 0) * 100)}% errors)`
              : '';
        return `${where(effect)} endpoints: ${effect.endpoints}${detail}`;
      }
      if (effect.zoneState) {
        for (const zone of zonesOf(effect)) {
          sim.compute.setZoneState(zone, effect.zoneState, effect.message ? [effect.message] : []);
        }
        return `${where(effect)} zone state: ${effect.zoneState}${effect.message ? ` (${effect.message})` : ''}`;
      }
      const service = effect.service as AwsService;
      applyFaults(effect, service, notes);
      if (service === 'ec2') applyEc2(effect, notes);
      if (service === 'rds') applyRds(effect, notes);
      return `${where(effect)} ${service}: ${notes.join('; ')}`;
    },
  };
}
