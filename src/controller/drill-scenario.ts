// What a DryRun drill simulates (PB-12): the drill's scenario turned into a timeline for the embedded simulation,
// and the real policy adapted to the simulated cloud. Pure: no clock, no I/O apart from loading a built-in
// timeline by name for `replay`.
//
// The outage starts at scenario minute 1 and lasts `spec.scenario.durationSeconds` (default 10 minutes); the run
// then continues for the policy's own recovery window and cooldown plus two minutes, so the report can show the
// failback too. Expectations are derived from the policy: a zone is expected to be drained only when it has a
// weighted record, a promotion only when exactly one replica can take over, traffic failback only when the policy
// fails traffic back automatically and the drill asks for it.

import type { FailoverDrill, FailoverPolicy } from '../api/index.ts';
import { loadScenario, type Scenario, ScenarioError } from '../scenarios/index.ts';
import type { Effect, Expectation, LoadedEvent } from '../scenarios/scenario-schema.ts';

/** How long the outage lasts when the drill does not say (scenario seconds). */
export const DEFAULT_OUTAGE_SECONDS = 600;
/** Scenario minute at which the simulated fault starts. */
const FAULT_AT_MINUTES = 1;
/** Host suffix of probe URLs rewritten for the simulated endpoints (they route by host name). */
export const SIMULATED_PROBE_HOST = 'drill.simulated';

/** A drill that cannot run as written: `field` is the spec path to fix. Terminal: retrying will not help. */
export class DrillSpecError extends Error {
  readonly field: string;
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'DrillSpecError';
    this.field = field;
  }
}

/** The zones a drill fails: the scenario's zone, or every zone of its region. Throws DrillSpecError. */
export function drilledZones(drill: FailoverDrill, policy: FailoverPolicy): { region: string; zones: string[] } {
  const s = drill.spec.scenario;
  if (s.type === 'zone-outage') {
    const region = policy.spec.regions.find((r) => s.zone !== undefined && r.zones.includes(s.zone));
    if (!region || s.zone === undefined) {
      throw new DrillSpecError(
        'spec.scenario.zone',
        `zone ${s.zone ?? '(none)'} is not one of policy ${policy.metadata.name}'s zones (${policy.spec.regions.flatMap((r) => r.zones).join(', ')}); name one of them`,
      );
    }
    return { region: region.name, zones: [s.zone] };
  }
  if (s.type === 'region-outage') {
    const name = s.region ?? policy.spec.regions.find((r) => r.role === 'primary')?.name;
    const region = policy.spec.regions.find((r) => r.name === name);
    if (!region) {
      throw new DrillSpecError(
        'spec.scenario.region',
        `region ${name ?? '(none)'} is not one of policy ${policy.metadata.name}'s regions (${policy.spec.regions.map((r) => r.name).join(', ')}); name one of them`,
      );
    }
    return { region: region.name, zones: [...region.zones] };
  }
  throw new DrillSpecError(
    'spec.scenario.type',
    `${s.type} fails no zone; a Live drill supports zone-outage and region-outage (use mode DryRun for ${s.type})`,
  );
}

/** Set identifiers of the weighted records that serve the drilled zones (or the drilled region as a whole). */
export function drilledRecords(policy: FailoverPolicy, region: string, zones: readonly string[]): string[] {
  const records = policy.spec.traffic?.route53?.records ?? [];
  const allZonesOfRegion = (policy.spec.regions.find((r) => r.name === region)?.zones ?? []).every((z) =>
    zones.includes(z),
  );
  return records
    .filter((r) => (r.zone !== undefined && zones.includes(r.zone)) || (allZonesOfRegion && r.region === region))
    .map((r) => r.setIdentifier);
}

/** The outage length the drill asked for, in scenario seconds. */
export function outageSeconds(drill: FailoverDrill): number {
  return drill.spec.scenario.durationSeconds ?? DEFAULT_OUTAGE_SECONDS;
}

/** The scenario a DryRun drill simulates. Throws DrillSpecError when the drill does not fit the policy. */
export function drillScenario(
  drill: FailoverDrill,
  policy: FailoverPolicy,
  load: (name: string) => Scenario = loadScenario,
): Scenario {
  const s = drill.spec.scenario;
  if (s.type === 'replay') {
    if (s.timeline === undefined) throw new DrillSpecError('spec.scenario.timeline', 'a replay needs a timeline');
    try {
      return load(s.timeline);
    } catch (err) {
      const why = err instanceof ScenarioError ? err.message : String(err);
      throw new DrillSpecError('spec.scenario.timeline', `cannot load timeline ${s.timeline}: ${why}`);
    }
  }
  const topology = {
    regions: policy.spec.regions.map((r) => ({ name: r.name, role: r.role, zones: [...r.zones] })),
  };
  const settle = settleMinutes(policy);
  if (s.type === 'manual-failover') {
    const target = s.region;
    if (target === undefined || !policy.spec.regions.some((r) => r.name === target)) {
      throw new DrillSpecError(
        'spec.scenario.region',
        `manual-failover needs a target region of policy ${policy.metadata.name} (${policy.spec.regions.map((r) => r.name).join(', ')})`,
      );
    }
    const expect: Expectation[] = [];
    const replica = policy.spec.database?.rds?.replicas?.find((r) => r.region === target);
    if (replica) {
      expect.push({ check: 'promote', region: target, text: `promote the ${target} replica once (PB-6, PB-7)` });
      expect.push({ check: 'database-stays', region: target, text: `the writer stays in ${target}` });
    }
    return {
      name: 'manual-failover',
      description: `operator-requested failover to ${target}; no fault`,
      topology,
      durationMinutes: FAULT_AT_MINUTES + settle,
      events: [
        event(FAULT_AT_MINUTES, `manual failover to ${target} requested`, [{ region: target, endpoints: 'ok' }]),
      ],
      expect,
      source: `drill ${drill.metadata.name}`,
    };
  }

  const { region, zones } = drilledZones(drill, policy);
  const endMinutes = FAULT_AT_MINUTES + outageSeconds(drill) / 60;
  const down: Effect[] = zones.flatMap((zone): Effect[] => [
    { zone, endpoints: 'down' },
    { zone, zoneState: 'impaired', message: `drill ${drill.metadata.name}: zone treated as failed` },
    { zone, service: 'ec2', api: ['RebootInstances', 'StopInstances', 'DetachVolume'], hangs: true },
    { zone, service: 'rds', connectivity: 'down' },
  ]);
  const up: Effect[] = zones.flatMap((zone): Effect[] => [
    { zone, endpoints: 'ok' },
    { zone, zoneState: 'available' },
    { zone, service: 'ec2', api: ['RebootInstances', 'StopInstances', 'DetachVolume'], hangs: false },
    { zone, service: 'rds', connectivity: 'ok' },
  ]);

  const withRecords = zones.filter((z) => drilledRecords(policy, region, [z]).length > 0);
  const intervals = policy.spec.health.failureThreshold + 2;
  const expect: Expectation[] = [
    { check: 'detect', zones, withinIntervals: intervals, text: `detect ${zones.join(', ')} down (PB-1)` },
    {
      check: 'no-zone-targeted-writes',
      zones,
      text: `no reboot/stop/detach/restore/snapshot in ${zones.join(', ')} while impaired (PB-3)`,
    },
  ];
  if (withRecords.length > 0) {
    expect.push({ check: 'drain', zones: withRecords, text: `drain ${withRecords.join(', ')} (PB-5)` });
  }
  if (s.type === 'zone-outage') {
    expect.push({ check: 'no-promotion', text: 'one zone is not a region: no database failover' });
    const fallsBack = drill.spec.autoFailback && policy.spec.guardrails.failback.traffic === 'Automatic';
    if (fallsBack && withRecords.length > 0) {
      expect.push({
        check: 'failback-traffic',
        zone: zones[0]!,
        notBeforeMinutes: endMinutes,
        text: `return traffic to ${zones[0]} only after its recovery window (PB-9, PB-10)`,
      });
    }
  } else {
    const rds = policy.spec.database?.rds;
    const standbys = (rds?.replicas ?? []).filter((r) => r.region !== region);
    expect.push({ check: 'region-impaired', region, text: `declare ${region} impaired (PB-2)` });
    if (rds?.primary.region === region && standbys.length === 1 && rds.promotion === 'Automatic') {
      expect.push({
        check: 'promote',
        region: standbys[0]!.region,
        text: `promote the ${standbys[0]!.region} replica once, after fencing the old primary (PB-6, PB-7)`,
      });
    }
  }
  return {
    name: s.type,
    description: `drill ${drill.metadata.name}: ${zones.join(', ')} down for ${outageSeconds(drill)}s`,
    topology,
    durationMinutes: endMinutes + settle,
    events: [
      event(FAULT_AT_MINUTES, `drill: ${zones.join(', ')} fail`, down),
      event(endMinutes, `drill: ${zones.join(', ')} back`, up),
    ],
    expect,
    source: `drill ${drill.metadata.name}`,
  };
}

/**
 * The policy as the simulation runs it: probes reach the simulated endpoints (which route by host name, so a
 * URL whose host does not carry its `{zone}`/`{region}` placeholder gets one), and a manual-failover drill
 * becomes the policy's manual request.
 */
export function simulatedPolicy(drill: FailoverDrill, policy: FailoverPolicy): FailoverPolicy {
  const copy = structuredClone(policy);
  delete copy.status;
  for (const p of copy.spec.probes) {
    if (!p.http) continue;
    const url = p.http.url;
    const host = /^https?:\/\/([^/:?#]*)/.exec(url)?.[1] ?? '';
    for (const placeholder of ['{zone}', '{region}']) {
      if (url.includes(placeholder) && !host.includes(placeholder)) {
        p.http.url = `http://${placeholder}.${SIMULATED_PROBE_HOST}/healthz`;
        break;
      }
    }
  }
  const s = drill.spec.scenario;
  if (s.type === 'manual-failover' && s.region !== undefined) {
    copy.spec.manual = {
      id: `drill-${drill.metadata.name}`.slice(0, 64),
      action: 'Failover',
      targetRegion: s.region,
      allowDataLoss: false,
      reason: `drill ${drill.metadata.name} (PB-12)`,
    };
  }
  return copy;
}

function settleMinutes(policy: FailoverPolicy): number {
  const h = policy.spec.health;
  return (h.recoveryThreshold * h.intervalSeconds + policy.spec.guardrails.cooldownSeconds) / 60 + 2;
}

function event(at: number, note: string, effects: Effect[]): LoadedEvent {
  return { at, note, effects };
}
