// Maps the health model's output onto the FailoverPolicy status (zones, regions, the Ready and Degraded
// conditions) and onto Event messages. Pure: time comes in as arguments.

import { ConditionStatus, ConditionType, Reason } from '../api/conditions.ts';
import type { RegionStatus, ZoneStatus } from '../api/index.ts';
import { describeRule, Rule } from '../api/rules.ts';
import type { HealthTransition, HealthView } from './types.ts';

/** One entry of status.zones (the policy schema's ZoneStatus). */
export type ZoneStatusEntry = ZoneStatus & { reasons: string[] };
/** One entry of status.regions (the policy schema's RegionStatus). */
export type RegionStatusEntry = RegionStatus & { reasons: string[] };

/** The status schema's bounds on reasons: at most 16, each at most 1024 characters. */
export const MAX_STATUS_REASONS = 16;
export const MAX_REASON_LENGTH = 1024;

function boundedReasons(reasons: readonly string[]): string[] {
  const kept = reasons.slice(0, MAX_STATUS_REASONS).map((r) => truncate(r, MAX_REASON_LENGTH));
  if (reasons.length > MAX_STATUS_REASONS)
    kept[MAX_STATUS_REASONS - 1] = `… and ${reasons.length - MAX_STATUS_REASONS + 1} more`;
  return kept;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The metav1.Condition shape. */
export interface HealthCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export function zoneStatuses(view: HealthView): ZoneStatusEntry[] {
  return view.zones.map((z) => ({
    name: z.name,
    region: z.region,
    state: z.state,
    since: rfc3339(z.since),
    reasons: boundedReasons(z.reasons),
  }));
}

export function regionStatuses(view: HealthView): RegionStatusEntry[] {
  return view.regions.map((r) => ({
    name: r.name,
    state: r.state,
    since: rfc3339(r.since),
    reasons: boundedReasons(r.reasons),
  }));
}

/** Bounded message: the apiserver caps condition messages at 32 KiB; we keep them short and readable. */
function joinMessage(parts: string[], max = 1024): string {
  return truncate(parts.join('; '), max);
}

/**
 * The Ready and Degraded conditions that health alone implies. Ready is False only when a region is Impaired
 * (the service cannot be served from it as declared); a Degraded or Impaired zone sets Degraded=True.
 * `previous` conditions keep their lastTransitionTime when their status is unchanged.
 */
export function healthConditions(
  view: HealthView,
  opts: { observedGeneration?: number; previous?: readonly HealthCondition[] } = {},
): HealthCondition[] {
  const impairedRegions = view.regions.filter((r) => r.state === 'Impaired');
  const impairedZones = view.zones.filter((z) => z.state === 'Impaired');
  const degradedZones = view.zones.filter((z) => z.state === 'Degraded');
  const degradedRegions = view.regions.filter((r) => r.state === 'Degraded');
  const controlPlaneOnly =
    impairedZones.length === 0 &&
    degradedZones.length === 0 &&
    degradedRegions.some((r) => r.reasons.some((s) => s.startsWith('region-wide:')));

  const ready =
    impairedRegions.length > 0
      ? {
          status: ConditionStatus.False,
          reason: Reason.RegionImpaired,
          message: joinMessage(impairedRegions.map((r) => `region ${r.name} Impaired: ${r.reasons.join(', ')}`)),
        }
      : {
          status: ConditionStatus.True,
          reason: Reason.Reconciled,
          message: 'every region is served from at least one healthy zone',
        };

  const unhealthyZones = [...impairedZones, ...degradedZones];
  const degraded =
    impairedRegions.length > 0
      ? { status: ConditionStatus.True, reason: Reason.RegionImpaired, message: ready.message }
      : impairedZones.length > 0
        ? { status: ConditionStatus.True, reason: Reason.ZoneImpaired, message: zoneList(unhealthyZones) }
        : degradedZones.length > 0
          ? { status: ConditionStatus.True, reason: Reason.ZoneDegraded, message: zoneList(unhealthyZones) }
          : controlPlaneOnly
            ? {
                status: ConditionStatus.True,
                reason: Reason.ControlPlaneErrors,
                message: joinMessage(degradedRegions.map((r) => `region ${r.name}: ${r.reasons.join(', ')}`)),
              }
            : { status: ConditionStatus.False, reason: Reason.AllZonesHealthy, message: 'every zone is Healthy' };

  const at = rfc3339(view.at);
  const make = (type: string, c: { status: HealthCondition['status']; reason: string; message: string }) => {
    const prev = opts.previous?.find((p) => p.type === type);
    return {
      type,
      ...c,
      lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : at,
      ...(opts.observedGeneration === undefined ? {} : { observedGeneration: opts.observedGeneration }),
    };
  };
  return [make(ConditionType.Ready, ready), make(ConditionType.Degraded, degraded)];
}

function zoneList(zones: HealthView['zones']): string {
  return joinMessage(zones.map((z) => `zone ${z.name} ${z.state} since ${rfc3339(z.since)}`));
}

/**
 * The Event reason for one zone or region transition: it names the scope and the state reached, never more than
 * that transition shows (one zone recovering says nothing of the others; see healthTransitionEvents).
 */
export function transitionEventReason(t: HealthTransition): Reason {
  if (t.scope === 'region') {
    if (t.to === 'Healthy') return Reason.RegionRecovered;
    return t.to === 'Impaired' ? Reason.RegionImpaired : Reason.RegionDegraded;
  }
  if (t.to === 'Healthy') return Reason.ZoneRecovered;
  return t.to === 'Impaired' ? Reason.ZoneImpaired : Reason.ZoneDegraded;
}

/** A health Event before it is bound to its policy (the runtime's EventSpec shape). */
export interface HealthEventSpec {
  type: 'Normal' | 'Warning';
  reason: Reason;
  message: string;
}

/**
 * The Events for one batch of transitions and the view they led to: one per transition (Warning when the target
 * is not Healthy, Normal when it recovered), then AllZonesHealthy once when this batch brought the last unhealthy
 * zone back — the view, not the transition, decides that, so a zone recovering while another is still impaired
 * says ZoneRecovered only.
 */
export function healthTransitionEvents(transitions: readonly HealthTransition[], view: HealthView): HealthEventSpec[] {
  const events: HealthEventSpec[] = transitions.map((t) => ({
    type: t.to === 'Healthy' ? 'Normal' : 'Warning',
    reason: transitionEventReason(t),
    message: transitionEventMessage(t),
  }));
  const zoneRecovered = transitions.some((t) => t.scope === 'zone' && t.to === 'Healthy');
  if (zoneRecovered && view.zones.every((z) => z.state === 'Healthy')) {
    events.push({
      type: 'Normal',
      reason: Reason.AllZonesHealthy,
      message: `${describeRule(Rule.Hysteresis)}: every zone Healthy again (${view.zones.map((z) => z.name).join(', ')})`,
    });
  }
  return events;
}

/**
 * Event message text, citing the rule behind the change: PB-2 for a zone or region getting worse (decided per
 * zone, then per region), PB-9 for recovery (hysteresis) and for Degraded (a probe failed failureThreshold times
 * in a row).
 * E.g. `PB-2 zone us-east-1a Degraded → Impaired: 4 consecutive failures of api (http) …; api (http, down): …`.
 */
export function transitionEventMessage(t: HealthTransition, maxLength = 1024): string {
  const rule = t.to === 'Healthy' || t.to === 'Degraded' ? Rule.Hysteresis : Rule.ZoneThenRegion;
  const subject = t.scope === 'zone' ? `zone ${t.name} (${t.region})` : `region ${t.name}`;
  const head = `${describeRule(rule)}: ${subject} ${t.from} → ${t.to}`;
  return joinMessage([t.reasons.length > 0 ? `${head}: ${t.reasons[0]}` : head, ...t.reasons.slice(1)], maxLength);
}
