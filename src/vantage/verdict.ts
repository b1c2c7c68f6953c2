// Vantage verdicts (#14, docs/vantage-points.md): what one operator instance ("vantage point") says of each zone and
// region of a policy, published where its peers can read it without the impaired region, as CloudWatch custom
// metrics in every region of the policy.
//
// One metric per (policy, vantage, zone) and per (policy, vantage, region), in namespace VANTAGE_NAMESPACE:
// - ZoneVerdict, dimensions Policy (`<namespace>/<name>`), Vantage, Region, Zone;
// - RegionVerdict, dimensions Policy, Vantage, Region.
// The value is `sequence × 4 + state` (state 0 Healthy, 1 Degraded, 2 Impaired) and the sequence is the publication
// time in whole seconds since the Unix epoch, strictly increasing per publisher. So the Maximum statistic over any
// window is the LATEST verdict, and a verdict's age comes from its own value, whatever CloudWatch does with
// timestamps. Values stay below 2^35 (exact in a double with room to spare). A value that does not decode (not a
// whole number, a state outside 0–2, a time in the future beyond the skew allowance) counts as no verdict at all.
// Pure: no I/O, no clock.

import type { RegionName, VerdictDatum, ZoneName } from '../cloud/types.ts';
import type { ZoneState } from '../health/types.ts';

export const VANTAGE_NAMESPACE = 'FailoverOperator/Vantages';
export const ZONE_VERDICT_METRIC = 'ZoneVerdict';
export const REGION_VERDICT_METRIC = 'RegionVerdict';

const STATE_CODE: Record<ZoneState, number> = { Healthy: 0, Degraded: 1, Impaired: 2 };
const CODE_STATE: readonly ZoneState[] = ['Healthy', 'Degraded', 'Impaired'];

/** How far in the future a verdict's time may lie (publisher clock ahead of ours) and still count. */
export const MAX_CLOCK_AHEAD_MS = 30_000;

export type VerdictScope = 'zone' | 'region';

/** What one vantage said of one zone or region, and when. */
export interface VantageVerdict {
  vantage: string;
  scope: VerdictScope;
  region: RegionName;
  /** With scope zone. */
  zone?: ZoneName;
  state: ZoneState;
  /** The publisher's sequence: its clock in whole seconds when it published. */
  sequence: number;
  /** sequence × 1000: when it was published (epoch ms, the publisher's clock). */
  at: number;
}

/** The metric that carries one vantage's verdict on one zone or region of one policy. */
export interface VerdictMetric {
  metricName: string;
  dimensions: Record<string, string>;
}

export function verdictMetric(
  policy: string,
  vantage: string,
  scope: VerdictScope,
  region: RegionName,
  zone?: ZoneName,
): VerdictMetric {
  if (scope === 'zone') {
    return {
      metricName: ZONE_VERDICT_METRIC,
      dimensions: { Policy: policy, Vantage: vantage, Region: region, Zone: zone ?? '' },
    };
  }
  return { metricName: REGION_VERDICT_METRIC, dimensions: { Policy: policy, Vantage: vantage, Region: region } };
}

export function encodeVerdict(state: ZoneState, sequence: number): number {
  if (!Number.isSafeInteger(sequence) || sequence < 0) throw new RangeError(`bad verdict sequence ${sequence}`);
  return sequence * 4 + STATE_CODE[state];
}

/** The state and sequence a value carries, or undefined when it is not a verdict this code wrote. */
export function decodeVerdict(value: number): { state: ZoneState; sequence: number } | undefined {
  if (!Number.isSafeInteger(value) || value < 0) return undefined;
  const state = CODE_STATE[value % 4];
  if (state === undefined) return undefined;
  return { state, sequence: Math.floor(value / 4) };
}

/** The next sequence of a publisher: its clock in whole seconds, and always above the previous one. */
export function nextSequence(previous: number | undefined, nowMs: number): number {
  const seconds = Math.floor(nowMs / 1000);
  return previous === undefined || seconds > previous ? seconds : previous + 1;
}

/** The datums that publish a view: one per zone and one per region. */
export function verdictDatums(
  policy: string,
  vantage: string,
  view: {
    zones: ReadonlyArray<{ name: ZoneName; region: RegionName; state: ZoneState }>;
    regions: ReadonlyArray<{ name: RegionName; state: ZoneState }>;
  },
  sequence: number,
): VerdictDatum[] {
  const at = sequence * 1000;
  return [
    ...view.zones.map((z) => ({
      ...verdictMetric(policy, vantage, 'zone', z.region, z.name),
      value: encodeVerdict(z.state, sequence),
      at,
    })),
    ...view.regions.map((r) => ({
      ...verdictMetric(policy, vantage, 'region', r.name),
      value: encodeVerdict(r.state, sequence),
      at,
    })),
  ];
}

/** The verdict a metric's Maximum carries, or undefined when the value does not decode or lies in the future. */
export function verdictOf(metric: VerdictMetric, maximum: number, nowMs: number): VantageVerdict | undefined {
  const decoded = decodeVerdict(maximum);
  if (!decoded) return undefined;
  const at = decoded.sequence * 1000;
  if (at > nowMs + MAX_CLOCK_AHEAD_MS) return undefined;
  const d = metric.dimensions;
  const vantage = d.Vantage;
  const region = d.Region;
  if (vantage === undefined || region === undefined) return undefined;
  if (metric.metricName === ZONE_VERDICT_METRIC) {
    if (!d.Zone) return undefined;
    return { vantage, scope: 'zone', region, zone: d.Zone, state: decoded.state, sequence: decoded.sequence, at };
  }
  return { vantage, scope: 'region', region, state: decoded.state, sequence: decoded.sequence, at };
}

/** `zone/<region>/<zone>` or `region/<region>`: where a verdict applies. */
export function scopeKey(scope: VerdictScope, region: RegionName, zone?: ZoneName): string {
  return scope === 'zone' ? `zone/${region}/${zone ?? ''}` : `region/${region}`;
}
