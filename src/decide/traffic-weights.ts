// Route 53 weights for the policy's weighted record group (PB-5 drain and rescale, PB-7 fence, PB-10 failback).
//
// The algorithm, per record:
// 1. Where it serves: a zone record follows its ZONE's health only (drained when Degraded or Impaired), in every
//    phase — before, during and after a region failover. A healthy zone of an impaired region keeps serving: its
//    app instances write through the writer record, which the fence has moved off the old primary (PB-7). A region
//    record follows its region (drained only when the region is Impaired — a Degraded region still serves through
//    its healthy zones, whose own records handle the rest). A zone or region missing from the health view counts
//    as healthy: absent evidence never drains traffic.
// 2. Fenced regions (PB-7: a region holding a writable primary that is not the active writer, or the old writer's
//    region during a failover) get nothing on their REGION records; zone records are not fenced.
// 3. Its base weight is the configured weight, except that when the active writer has moved to a standby region,
//    that region's zero-weight records are activated with the average positive configured weight — the standby
//    region takes traffic from the fence on, for as long as the writer is there.
// 4. A record that is drained now (weight 0) and could serve again only returns when the caller allows returns
//    (failback: cooldown passed, PB-9/PB-10) — unless holding it would leave nothing serving.
// 5. Eligible records share the configured total in proportion to their base weights: rounded, clamped to 1–255.
//    If nothing is eligible, zero-weight records in healthy, unfenced places are activated with equal weights;
//    if still nothing, the current weights are kept and NoHealthyTarget reported. So the result is never all zero
//    while anything can serve: Route 53 spreads traffic over EVERY record when all weights are 0, dead ones too.

import type { RegionName, ZoneName } from '../cloud/types.ts';
import type { RegionState, ZoneState } from '../health/types.ts';
import type { RecordSetting } from './policy-view.ts';

export const MAX_WEIGHT = 255;

export interface WeightInputs {
  /** Configured records, sorted by set identifier. */
  records: readonly RecordSetting[];
  regionOfRecord: (record: RecordSetting) => RegionName | undefined;
  zoneState: (zone: ZoneName) => ZoneState | undefined;
  regionState: (region: RegionName) => RegionState | undefined;
  /** Observed weights by set identifier (a record missing from the observation counts as 0). */
  current: Readonly<Record<string, number>>;
  /** Regions whose region records get no traffic (PB-7); zone records are never fenced. */
  fencedRegions: ReadonlySet<RegionName>;
  /** Region of the active (or designated) writer; its zero-weight records are activated when it is not `homeRegion`. */
  writerRegion?: RegionName;
  homeRegion: RegionName;
  /** Whether drained records that are healthy again may receive traffic now (PB-9, PB-10). */
  allowReturn: boolean;
}

export interface WeightDecision {
  weights: Record<string, number>;
  /** Nothing can serve: `weights` are the current ones, unchanged. */
  noHealthyTarget: boolean;
  /** Records going from traffic to none: urgent, not held by cooldown. */
  drained: string[];
  /** Records going from none to traffic. */
  returning: string[];
  /** Records that could serve again but are held drained (returns not allowed yet). */
  held: string[];
  /** Records drained because their zone or region is unhealthy (not fenced, not held). */
  unhealthy: string[];
  /** Why each record gets no traffic, for explanations. */
  excluded: Array<{ setIdentifier: string; reason: string }>;
}

interface Candidate {
  record: RecordSetting;
  base: number;
}

/**
 * Why a record cannot serve now, if it cannot: a zone record only when its zone is unhealthy; a region record when
 * its region is impaired or fenced.
 */
function exclusion(
  input: WeightInputs,
  record: RecordSetting,
  region: RegionName | undefined,
): { reason: string; unhealthy: boolean } | undefined {
  if (record.zone !== undefined) {
    const state = input.zoneState(record.zone);
    if (state === 'Degraded' || state === 'Impaired')
      return { reason: `zone ${record.zone} ${state.toLowerCase()}`, unhealthy: true };
    return undefined;
  }
  if (region === undefined) return undefined;
  if (input.regionState(region) === 'Impaired') return { reason: `region ${region} impaired`, unhealthy: true };
  if (input.fencedRegions.has(region)) return { reason: `region ${region} fenced (PB-7)`, unhealthy: false };
  return undefined;
}

function averagePositiveWeight(records: readonly RecordSetting[]): number {
  const positive = records.filter((r) => r.weight > 0);
  if (positive.length === 0) return 1;
  return Math.max(1, Math.round(positive.reduce((s, r) => s + r.weight, 0) / positive.length));
}

/** Shares `total` among candidates in proportion to their base weights, as integers in 1–255. */
export function rescale(
  candidates: ReadonlyArray<{ id: string; base: number }>,
  total: number,
): Record<string, number> {
  const sum = candidates.reduce((s, c) => s + c.base, 0);
  const out: Record<string, number> = {};
  for (const c of candidates) {
    const share = sum > 0 ? (c.base * total) / sum : total / candidates.length;
    out[c.id] = Math.min(MAX_WEIGHT, Math.max(1, Math.round(share)));
  }
  return out;
}

export function computeWeights(input: WeightInputs): WeightDecision {
  const current = (id: string) => input.current[id] ?? 0;
  const activation = averagePositiveWeight(input.records);
  const excluded: WeightDecision['excluded'] = [];
  const unhealthy: string[] = [];
  const eligible: Candidate[] = [];
  const standby: Candidate[] = [];
  for (const record of input.records) {
    const region = input.regionOfRecord(record);
    const out = exclusion(input, record, region);
    if (out !== undefined) {
      excluded.push({ setIdentifier: record.setIdentifier, reason: out.reason });
      if (out.unhealthy) unhealthy.push(record.setIdentifier);
      continue;
    }
    const followsWriter =
      record.weight === 0 &&
      input.writerRegion !== undefined &&
      input.writerRegion !== input.homeRegion &&
      region === input.writerRegion;
    const base = followsWriter ? activation : record.weight;
    if (base > 0) eligible.push({ record, base });
    else standby.push({ record, base: 1 });
  }

  const held = input.allowReturn ? [] : eligible.filter((c) => current(c.record.setIdentifier) === 0);
  let serving = eligible.filter((c) => !held.includes(c));
  let heldIds = held.map((c) => c.record.setIdentifier);
  if (serving.length === 0 && eligible.length > 0) {
    serving = eligible; // holding a recovered record back would leave nothing serving
    heldIds = [];
  }
  if (serving.length === 0) serving = standby;
  if (serving.length === 0) {
    return {
      weights: currentWeights(input),
      noHealthyTarget: true,
      drained: [],
      returning: [],
      held: [],
      unhealthy,
      excluded,
    };
  }

  const configuredTotal = input.records.reduce((s, r) => s + r.weight, 0);
  const total = configuredTotal > 0 ? configuredTotal : Math.min(MAX_WEIGHT, 100 * serving.length);
  const shares = rescale(
    serving.map((c) => ({ id: c.record.setIdentifier, base: c.base })),
    total,
  );
  const weights: Record<string, number> = {};
  for (const r of input.records) weights[r.setIdentifier] = shares[r.setIdentifier] ?? 0;
  for (const id of heldIds)
    excluded.push({ setIdentifier: id, reason: 'recovered, held until failback is allowed (PB-10)' });
  return {
    weights,
    noHealthyTarget: false,
    drained: input.records.map((r) => r.setIdentifier).filter((id) => current(id) > 0 && weights[id] === 0),
    returning: input.records.map((r) => r.setIdentifier).filter((id) => current(id) === 0 && (weights[id] ?? 0) > 0),
    held: heldIds,
    unhealthy,
    excluded: excluded.sort((a, b) => (a.setIdentifier < b.setIdentifier ? -1 : 1)),
  };
}

function currentWeights(input: WeightInputs): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of input.records) out[r.setIdentifier] = input.current[r.setIdentifier] ?? 0;
  return out;
}

export function sameWeights(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  for (const k of keys) if ((a[k] ?? 0) !== (b[k] ?? 0)) return false;
  return true;
}
