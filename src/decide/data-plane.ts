// The data-plane traffic path (docs/static-stability.md), as pure decisions: which records a drain can move without
// editing Route 53 records, and what each record's verdict must be.
//
// Route 53's answer for a weighted group whose records carry health checks (Route 53 Developer Guide, "How Amazon
// Route 53 chooses records when health checking is configured"):
//   1. it considers the healthy records with weight > 0 and shares by weight;
//   2. if every record with weight > 0 is unhealthy, it considers the healthy zero-weight records (equal shares);
//   3. if no record is healthy at all, it answers as if all were healthy — the opposite of a drain.
// A record's health check follows the alarm on its verdict metric: verdict `drain` (1) → ALARM → unhealthy.
//
// So a desired set of weights D (computed exactly as for record edits, traffic-weights.ts) can be reached with
// verdicts alone, leaving the stored weights W as they are, in two shapes:
//   A. the records that should serve (D > 0) all have W > 0 and D is proportional to W among them: drain the other
//      W > 0 records. (Draining one zone of three is this: 150/150/0 is 100/100/skip.)
//   B. no W > 0 record should serve and the ones that should are zero-weight records with equal D: drain every
//      W > 0 record; Route 53 then answers the zero-weight ones (a region failover onto a weight-0 standby).
// Anything else (returning traffic after the weights were edited, unequal standby shares) is a record edit: the
// deliberate, steady-state tool. Every verdict set planned here has at least one `serve` record that should serve,
// so rule 3 never applies: the planner never asks for all records of a group to be unhealthy.

import { createHash } from 'node:crypto';
import type { DnsRecord, RegionName } from '../cloud/types.ts';
import type { DataPlaneSettings, RecordSetting } from './policy-view.ts';
import type { DataPlaneObservation, DataPlaneReadiness, Verdict } from './types.ts';

/** The metric every verdict is published as (dimensions Policy and Record). */
export const VERDICT_METRIC = 'RecordDrain';
/** Tag keys on the health checks: who owns them, which policy and which record. */
export const TAG_MANAGED_BY = 'failover.io/managed-by';
export const TAG_POLICY = 'failover.io/policy';
export const TAG_RECORD = 'failover.io/record';
export const MANAGED_BY = 'failover-operator';

export interface VerdictResources {
  alarmName: string;
  metricName: string;
  dimensions: Record<string, string>;
  /** Route 53 CallerReference of the record's health check (≤ 64 characters). */
  callerReference: string;
  tags: Record<string, string>;
}

const digest = (text: string, length: number) => createHash('sha256').update(text).digest('hex').slice(0, length);

/**
 * Names of one record's alarm, metric and health check. Deterministic, so a restart or another leader finds the
 * same resources; the caller reference changes with the signal region and alarm, so moving the signal makes new
 * checks rather than silently reusing ones bound elsewhere. Alarm names start with `failover-operator-`, which the
 * IAM policy's resource pattern allows.
 */
export function verdictResources(
  policyKey: string,
  setIdentifier: string,
  dataPlane: Pick<DataPlaneSettings, 'signalRegion' | 'namespace' | 'periodSeconds'>,
): VerdictResources {
  const readable = `${policyKey.replace('/', '.')}.${setIdentifier}`.replace(/[^A-Za-z0-9._-]/g, '_');
  const alarmName = `failover-operator-${digest(`${policyKey}\u0000${setIdentifier}`, 8)}-${readable}`.slice(0, 255);
  return {
    alarmName,
    metricName: VERDICT_METRIC,
    dimensions: { Policy: policyKey, Record: setIdentifier },
    callerReference: `fo-${digest(`${policyKey}\u0000${setIdentifier}\u0000${dataPlane.signalRegion}\u0000${alarmName}\u0000${dataPlane.namespace}\u0000${dataPlane.periodSeconds}`, 40)}`,
    tags: { [TAG_MANAGED_BY]: MANAGED_BY, [TAG_POLICY]: policyKey, [TAG_RECORD]: setIdentifier },
  };
}

/**
 * Each configured record's share of answers under the verdicts in force, as weights for the planner's "current":
 * the stored weight for a served weight > 0 record, 0 for a drained one; when every weight > 0 record is drained,
 * 1 for each served zero-weight record (Route 53's second rule). Only "> 0 or not" matters to the planner.
 */
export function effectiveWeights(
  records: readonly RecordSetting[],
  stored: Readonly<Record<string, number>>,
  verdicts: Readonly<Record<string, Verdict>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  const serving = (id: string) => verdicts[id] !== 'drain';
  const weighted = records.filter((r) => (stored[r.setIdentifier] ?? 0) > 0);
  const anyWeightedServing = weighted.some((r) => serving(r.setIdentifier));
  for (const r of records) {
    const w = stored[r.setIdentifier] ?? 0;
    if (w > 0) out[r.setIdentifier] = serving(r.setIdentifier) ? w : 0;
    else out[r.setIdentifier] = !anyWeightedServing && serving(r.setIdentifier) ? 1 : 0;
  }
  if (Object.values(out).every((w) => w === 0)) {
    // Every record drained: Route 53 answers as if all were healthy (its third rule).
    for (const r of records) out[r.setIdentifier] = stored[r.setIdentifier] ?? 0;
  }
  return out;
}

/** True when `a` and `b` share out the same total in the same proportions, to within the weights' rounding. */
function proportional(
  ids: readonly string[],
  a: Readonly<Record<string, number>>,
  b: Readonly<Record<string, number>>,
) {
  const sumA = ids.reduce((s, id) => s + (a[id] ?? 0), 0);
  const sumB = ids.reduce((s, id) => s + (b[id] ?? 0), 0);
  if (sumA <= 0 || sumB <= 0) return false;
  // computeWeights rounds each share to an integer: allow one unit of rounding on either side.
  const tolerance = 1 / sumA + 1 / sumB;
  return ids.every((id) => Math.abs((a[id] ?? 0) / sumA - (b[id] ?? 0) / sumB) <= tolerance);
}

/**
 * The verdicts that make Route 53 answer as `desired` asks while the stored weights stay `stored`; undefined when
 * health checks cannot express it (then the change is a record edit). `unfit` lists records that must not be
 * offered as a fallback (their zone or region is unhealthy or fenced): they are drained whenever that is allowed.
 */
export function verdictsFor(
  records: readonly RecordSetting[],
  stored: Readonly<Record<string, number>>,
  desired: Readonly<Record<string, number>>,
  unfit: ReadonlySet<string>,
): Record<string, Verdict> | undefined {
  const ids = records.map((r) => r.setIdentifier);
  const should = ids.filter((id) => (desired[id] ?? 0) > 0);
  if (should.length === 0) return undefined; // nothing to serve: never drain everything
  const weighted = ids.filter((id) => (stored[id] ?? 0) > 0);
  const zero = ids.filter((id) => (stored[id] ?? 0) <= 0);
  const verdicts: Record<string, Verdict> = {};

  if (should.every((id) => weighted.includes(id)) && proportional(should, desired, stored)) {
    // Shape A: drain the weighted records that should not serve; zero-weight ones stay offered unless unfit.
    for (const id of weighted) verdicts[id] = should.includes(id) ? 'serve' : 'drain';
    for (const id of zero) verdicts[id] = unfit.has(id) ? 'drain' : 'serve';
    return verdicts;
  }
  if (should.every((id) => zero.includes(id))) {
    const first = desired[should[0]!] ?? 0;
    if (!should.every((id) => Math.abs((desired[id] ?? 0) - first) <= 1)) return undefined;
    // Shape B: every weighted record drained; Route 53 answers the zero-weight records that serve, equally.
    for (const id of weighted) verdicts[id] = 'drain';
    for (const id of zero) verdicts[id] = should.includes(id) ? 'serve' : 'drain';
    return verdicts;
  }
  return undefined;
}

/** The verdicts as a sorted "id=verdict" list, for ids, logs and comparisons. */
export function describeVerdicts(verdicts: Readonly<Record<string, Verdict>>): string {
  return Object.keys(verdicts)
    .sort()
    .map((id) => `${id}=${verdicts[id]}`)
    .join(' ');
}

export function sameVerdicts(
  ids: readonly string[],
  a: Readonly<Record<string, Verdict>>,
  b: Readonly<Record<string, Verdict>>,
): boolean {
  return ids.every((id) => (a[id] ?? 'serve') === (b[id] ?? 'serve'));
}

/**
 * Is each record prepared: its health check (found by tags) attached to the record as Route 53 lists it, and its
 * alarm present in the signal region?
 */
export function dataPlaneReadiness(
  records: readonly RecordSetting[],
  observed: readonly DnsRecord[],
  observation: DataPlaneObservation | undefined,
  signalRegion: RegionName,
): DataPlaneReadiness {
  const ids = records.map((r) => r.setIdentifier);
  if (observation === undefined) {
    return {
      ready: false,
      recordEditsFor: ids,
      reason: 'Unobserved',
      message: 'the health checks and verdict alarms have not been read yet; drains edit records until they are',
    };
  }
  const attached = new Map(observed.map((r) => [r.setIdentifier, r.healthCheckId]));
  const missing: string[] = [];
  for (const id of ids) {
    const check = observation.checks[id];
    const parts: string[] = [];
    if (check === undefined) parts.push('no health check');
    else if (attached.get(id) !== check) parts.push('health check not attached');
    if (observation.alarms[id] === undefined) parts.push(`no verdict alarm in ${signalRegion}`);
    if (parts.length > 0) missing.push(`${id} (${parts.join(', ')})`);
  }
  const unknown = observation.unknown?.length ? `; could not read: ${observation.unknown.join('; ')}` : '';
  if (missing.length === 0) {
    return {
      ready: true,
      recordEditsFor: [],
      reason: 'Prepared',
      message: `every record has a health check following its verdict alarm in ${signalRegion}: drains need no Route 53 call${unknown}`,
    };
  }
  return {
    ready: false,
    recordEditsFor: ids,
    reason: 'NotPrepared',
    message: `not prepared: ${missing.join('; ')}; drains edit records until they are${unknown}`,
  };
}
