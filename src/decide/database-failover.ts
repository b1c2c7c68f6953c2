// The cross-region database failover (PB-6, PB-7): a two-phase state machine kept in the journal, in the style of
// CloudNativePG.
//
//   trigger ──► phase 1: choose the target, FENCE ──► phase 2: PROMOTE ──► promoted & available: re-assert writer
//
// Trigger: the region holding the writable primary is Impaired (epoch `auto-<region Impaired since>`), a manual
// `failoverTo` request (`manual-<requestedAt>`), or a database failback (`failback-<requestedAt>`; Manual by
// default, PB-10) — a failback is just a failover back home with the same gates.
//
// Phase 1 (fence, PB-7): chooseStandbyRegion picks the target; the writer record is pointed at the target's
// endpoint — a replica rejects writes until promoted, so two writable primaries are never in traffic — and the
// weights give the target region's region records traffic and drain the old region's region records (the traffic
// module computes them; this module names the step). Zone records follow zone health only: a healthy zone of the
// old region keeps serving and writes through the writer record. The target is recorded in the step ids, so a
// restart resumes with the same target.
// Phase 2 (promote): only once the fence is journaled Done and its DNS change had time to reach clients (change
// INSYNC, then the writer record's TTL); only a replica that is `available` (AWS refuses while `backing-up`) and
// within the lag budget (PB-6) unless forced. A PromoteReplica already Done — or Pending while the observation
// shows the instance modifying, rebooting or promoted — is never issued again.
// Then, once the instance is `available` with no replication source: re-point the writer record if it drifted.
//
// An automatic failover whose promotion was never attempted is abandoned when the old region recovers: the writer
// record is pointed back at the old primary (still the only writable one). Once a promotion is journaled, in any
// state, there is no way back but a new failover.
//
// Gates: MultiplePrimaries (PB-7) whenever more than one writable primary is visible where one is expected;
// Approval for Manual promotion before anything is fenced; ReplicaLag, DatabaseBusy, DnsPropagation, NoStandby.

import type { RegionName } from '../cloud/types.ts';
import { epochTime, type FailoverTrigger, failoverEpoch, failoverIds } from './action-ids.ts';
import { gate } from './gates.ts';
import { type FailoverEpochRecord, parseTime } from './journal-view.ts';
import type { PlanContext } from './plan-context.ts';
import { type DatabaseInstanceSetting, policyDatabases } from './policy-view.ts';
import { chooseStandbyRegion, isWithinRpoBudget, type ObservedDb } from './standby-selection.ts';
import type { PlanGate, PlannedAction } from './types.ts';

export type DatabaseStage = 'steady' | 'failing-over' | 'recovering';

export interface DatabaseDecision {
  stage: DatabaseStage;
  /** Writer-record actions that must precede the weight change (the fence, an abort). */
  before: PlannedAction[];
  /** Actions after the weight change (promotion, re-pointing the writer). Dropped by the planner when this
   * plan also changes weights as a failover step: phase 2 waits until phase 1 is journaled. */
  after: PlannedAction[];
  gates: PlanGate[];
  /** The writer's region: its zero-weight (standby) records are activated while the writer is there. */
  writerRegion?: RegionName;
  /** Regions whose REGION records get no traffic: they hold a writable primary that is not the writer, or the old
   * writer during a failover (PB-7). Zone records are never fenced: they follow zone health. */
  fencedRegions: Set<RegionName>;
  desiredWriter?: { region: RegionName; dbInstanceIdentifier: string };
  /** When a weight change in this plan is a failover step: its id and why (urgent, not held by cooldown). */
  weightsStep?: { id: string; reason: string };
}

/** Not able to take writes whatever its replication role. */
const NOT_SERVING = new Set(['deleting', 'stopped', 'stopping', 'failed', 'creating']);
/** Statuses that mean PromoteReadReplica was accepted (it reboots the instance). */
const PROMOTING = new Set(['modifying', 'rebooting', 'renaming', 'upgrading']);

export function isWritablePrimary(db: ObservedDb): boolean {
  return db.replicaSourceId === undefined && !NOT_SERVING.has(db.status);
}

function normalizeHost(value: string | undefined): string | undefined {
  return value?.replace(/\.$/, '').toLowerCase();
}

function writerPointsAt(ctx: PlanContext, endpoint: string | undefined): boolean {
  const value = ctx.cloud.writer?.values[0];
  return endpoint !== undefined && normalizeHost(value) === normalizeHost(endpoint);
}

function settingOf(ctx: PlanContext, id: string): DatabaseInstanceSetting | undefined {
  return policyDatabases(ctx.settings).find((d) => d.dbInstanceIdentifier === id);
}

function regionOfDb(ctx: PlanContext, id: string): RegionName | undefined {
  return settingOf(ctx, id)?.region ?? ctx.db(id)?.region;
}

interface EpochStatus {
  aborted: boolean;
  promotionSent: boolean;
  promoted: boolean;
  settled: boolean;
}

function epochStatus(ctx: PlanContext, ep: FailoverEpochRecord): EpochStatus {
  const to = ep.toId === undefined ? undefined : ctx.db(ep.toId);
  const promote = ep.toId === undefined ? undefined : ctx.journal.entry(failoverIds.promote(ep.epoch, ep.toId));
  const promoted = to !== undefined && to.replicaSourceId === undefined;
  const promotionSent =
    promoted || promote?.state === 'Done' || (promote !== undefined && to !== undefined && PROMOTING.has(to.status));
  const writerOk =
    ctx.settings.traffic?.writerRecord === undefined ||
    writerPointsAt(ctx, to?.endpoint) ||
    (ep.toId !== undefined && ctx.journal.isDone(failoverIds.writer(ep.epoch, ep.toId)));
  const abortedByWriter = ep.steps['abort-writer']?.state === 'Done';
  // Without a writer record there is nothing to point back: an unsent automatic failover simply lapses.
  const lapsed =
    ep.trigger === 'auto' &&
    !promotionSent &&
    promote === undefined &&
    ctx.settings.traffic?.writerRecord === undefined &&
    !isFromRegionImpaired(ctx, ep);
  return {
    aborted: abortedByWriter || lapsed,
    promotionSent,
    promoted,
    // Settled once promoted and the writer points at it; later status changes (an automatic backup) do not
    // reopen the failover. While the promotion's reboot is still running it is not settled.
    settled: promoted && to !== undefined && !PROMOTING.has(to.status) && writerOk,
  };
}

function isFromRegionImpaired(ctx: PlanContext, ep: FailoverEpochRecord): boolean {
  const region = ep.fromId === undefined ? undefined : regionOfDb(ctx, ep.fromId);
  return region !== undefined && ctx.regionState(region) === 'Impaired';
}

/** The writer as of the last failover that took effect, or the configured primary. */
function resolveWriter(ctx: PlanContext): { id: string; region: RegionName } | undefined {
  const db = ctx.settings.database;
  if (!db) return undefined;
  let id = db.primary.dbInstanceIdentifier;
  for (const ep of [...ctx.journal.failoverEpochs].reverse()) {
    if (ep.toId === undefined) continue;
    const status = epochStatus(ctx, ep);
    if (status.aborted || !status.promotionSent) continue;
    id = ep.toId;
    break;
  }
  // Level-based repair: if that instance is observed as a replica while exactly one policy instance is writable
  // (someone failed over by hand, or the journal was trimmed), the writable one is the writer.
  const observed = ctx.db(id);
  const writable = ctx.policyDbs.filter(isWritablePrimary);
  if (observed?.replicaSourceId !== undefined && writable.length === 1 && writable[0]) id = writable[0].id;
  const region = regionOfDb(ctx, id);
  return region === undefined ? undefined : { id, region };
}

/** Regions holding a writable primary other than the writer (their region records are fenced, PB-7). A home
 * region whose database has not failed back is not fenced for that: its recovered zones serve again (PB-10). */
function fencedRegionsFor(ctx: PlanContext, writer: { id: string; region: RegionName }): Set<RegionName> {
  const fenced = new Set<RegionName>();
  for (const d of ctx.policyDbs)
    if (isWritablePrimary(d) && d.id !== writer.id && d.region !== writer.region) fenced.add(d.region);
  return fenced;
}

interface Trigger {
  trigger: FailoverTrigger;
  epoch: string;
  /** Only replicas in this region qualify. */
  region?: RegionName;
  force: boolean;
  why: string;
}

function detectTrigger(ctx: PlanContext, writer: { id: string; region: RegionName }): Trigger | undefined {
  const trig = findTrigger(ctx, writer);
  if (!trig) return undefined;
  // A trigger whose epoch is already in the journal has had its failover (settled or abandoned), and one older than
  // the latest failover was overtaken by it: a stale request or the same impairment never starts a second one.
  const latest = ctx.journal.latestFailoverEpoch;
  if (latest && epochTime(trig.epoch) <= epochTime(latest.epoch)) return undefined;
  return trig;
}

function findTrigger(ctx: PlanContext, writer: { id: string; region: RegionName }): Trigger | undefined {
  const { requests, settings } = ctx;
  const manual = requests.failoverTo;
  if (manual && manual.region !== writer.region) {
    return {
      trigger: 'manual',
      epoch: failoverEpoch('manual', manual.requestedAt),
      region: manual.region,
      force: manual.force,
      why: `manual failover to ${manual.region} requested`,
    };
  }
  const home = settings.primaryRegion;
  if (writer.region !== home) {
    if (requests.failback) {
      return {
        trigger: 'failback',
        epoch: failoverEpoch('failback', requests.failback.requestedAt),
        region: home,
        force: false,
        why: `database failback to ${home} requested`,
      };
    }
    const homeHealth = ctx.regionHealth(home);
    if (settings.failback.database === 'Automatic' && homeHealth?.state === 'Healthy') {
      return {
        trigger: 'failback',
        epoch: failoverEpoch('failback', homeHealth.since),
        region: home,
        force: false,
        why: `region ${home} healthy again; database failback is Automatic`,
      };
    }
  }
  const regionHealth = ctx.regionHealth(writer.region);
  if (regionHealth?.state === 'Impaired') {
    return {
      trigger: 'auto',
      epoch: failoverEpoch('auto', regionHealth.since),
      force: false,
      why: `region ${writer.region} impaired with the writable primary`,
    };
  }
  return undefined;
}

function steady(
  ctx: PlanContext,
  writer: { id: string; region: RegionName },
  gates: PlanGate[] = [],
): DatabaseDecision {
  return {
    stage: 'steady',
    before: [],
    after: [],
    gates,
    writerRegion: writer.region,
    fencedRegions: fencedRegionsFor(ctx, writer),
    desiredWriter: { region: writer.region, dbInstanceIdentifier: writer.id },
  };
}

function tooManyPrimaries(ctx: PlanContext, expected: ReadonlySet<string>): PlanGate | undefined {
  const writable = ctx.policyDbs.filter(isWritablePrimary).map((d) => d.id);
  const unexpected = writable.filter((id) => !expected.has(id));
  return writable.length > 1 && unexpected.length > 0 ? gate.multiplePrimaries(writable) : undefined;
}

function startFailover(ctx: PlanContext, trig: Trigger, writer: { id: string; region: RegionName }): DatabaseDecision {
  const settings = ctx.settings.database;
  if (!settings) return steady(ctx, writer);
  const many = tooManyPrimaries(ctx, new Set([writer.id]));
  if (many) return steady(ctx, writer, [many]);
  const from = ctx.db(writer.id);
  const choice = chooseStandbyRegion(ctx.cloud.databases, {
    from: { id: writer.id, region: writer.region, ...(from ? { arn: from.arn } : {}) },
    allowedIds: ctx.policyDbIds,
    regionState: ctx.regionState,
    zoneState: ctx.zoneState,
    maxLagSeconds: settings.maxLagSeconds,
    force: trig.force,
    ...(trig.region === undefined ? {} : { region: trig.region }),
  });
  let target = choice.chosen;
  if (!target) {
    const overLag = choice.rejected
      .filter((r) => r.overLag)
      .map((r) => ctx.db(r.id))
      .filter((d): d is ObservedDb => d !== undefined)
      .sort((a, b) => (a.lagSeconds ?? Number.POSITIVE_INFINITY) - (b.lagSeconds ?? Number.POSITIVE_INFINITY));
    if (overLag[0]) return steady(ctx, writer, [gate.replicaLag(overLag[0], settings.maxLagSeconds)]);
    const reasons = choice.rejected.map((r) => `${r.id}: ${r.reason}`).join('; ');
    return steady(ctx, writer, [
      gate.noStandby(`${trig.why}, but no replica qualifies${reasons ? ` (${reasons})` : ''}`),
    ]);
  }
  // Manual promotion: a person approves the automatic failover before anything is fenced. A manual request or a
  // failback request is itself that decision.
  if (trig.trigger === 'auto' && settings.promotion === 'Manual') {
    const approved = ctx.requests.approvePromotion?.dbInstanceIdentifier;
    const approvedTarget = choice.ranked.find((d) => d.id === approved);
    if (!approvedTarget) return steady(ctx, writer, [gate.approval(target.id)]);
    target = approvedTarget;
  }
  if (target.endpoint === undefined) {
    return steady(ctx, writer, [gate.databaseBusy(target.id, 'has no endpoint yet: cannot point the writer at it')]);
  }
  return continueFailover(ctx, {
    epoch: trig.epoch,
    trigger: trig.trigger,
    fromId: writer.id,
    toId: target.id,
    steps: {},
  });
}

function continueFailover(ctx: PlanContext, ep: FailoverEpochRecord): DatabaseDecision {
  const db = ctx.settings.database;
  const fromId = ep.fromId;
  const toId = ep.toId;
  const fromRegion = fromId === undefined ? undefined : regionOfDb(ctx, fromId);
  const toRegion = toId === undefined ? undefined : regionOfDb(ctx, toId);
  if (!db || fromId === undefined || toId === undefined || fromRegion === undefined || toRegion === undefined) {
    // A journal entry we cannot place (instance no longer in the policy): fall back to the steady view.
    const writer = resolveWriter(ctx);
    return writer
      ? steady(ctx, writer)
      : { stage: 'steady', before: [], after: [], gates: [], fencedRegions: new Set() };
  }
  const from = ctx.db(fromId);
  const to = ctx.db(toId);
  const status = epochStatus(ctx, ep);
  const writerRecord = ctx.settings.traffic?.writerRecord;
  const stage: DatabaseStage = ep.trigger === 'failback' ? 'recovering' : 'failing-over';

  // The old region recovered before any promotion was attempted: point the writer back, the failover is abandoned.
  // Any journaled attempt (even Pending or Failed: a timed-out call may still have reached RDS) rules this out.
  const promoteAttempted = ctx.journal.entry(failoverIds.promote(ep.epoch, toId)) !== undefined;
  if (
    ep.trigger === 'auto' &&
    !status.promotionSent &&
    !promoteAttempted &&
    !isFromRegionImpaired(ctx, ep) &&
    writerRecord
  ) {
    const back = steady(ctx, { id: fromId, region: fromRegion });
    if (from?.endpoint !== undefined && isWritablePrimary(from)) {
      back.before.push({
        id: failoverIds.abortWriter(ep.epoch, fromId),
        action: { kind: 'SetWriterRecord', value: from.endpoint },
        rule: 'PB-7',
        target: writerRecord.recordName,
        region: fromRegion,
        reason: `region ${fromRegion} recovered before ${toId} was promoted: failover abandoned, writer pointed back at ${fromId}`,
      });
      return back;
    }
  }

  const decision: DatabaseDecision = {
    stage,
    before: [],
    after: [],
    gates: [],
    writerRegion: toRegion,
    fencedRegions: new Set([fromRegion]),
    desiredWriter: { region: toRegion, dbInstanceIdentifier: toId },
  };
  for (const d of ctx.policyDbs)
    if (isWritablePrimary(d) && d.id !== toId && d.region !== toRegion) decision.fencedRegions.add(d.region);
  const fenceWeightsId = failoverIds.fenceWeights(ep.epoch, fromId, toId);
  if (!ctx.journal.isDone(fenceWeightsId)) {
    decision.weightsStep = {
      id: fenceWeightsId,
      reason: `fenced ${fromRegion} before promoting ${toId} (PB-7): ${toRegion} takes traffic, healthy zones keep serving`,
    };
  }

  // Phase 1: fence the writer record.
  const fenceWriterId = failoverIds.fenceWriter(ep.epoch, fromId, toId);
  const fenceEntry = ctx.journal.entry(fenceWriterId);
  if (writerRecord && fenceEntry?.state !== 'Done' && !status.promotionSent) {
    const endpoint = to?.endpoint;
    if (endpoint === undefined) {
      decision.gates.push(gate.databaseBusy(toId, 'is not observed with an endpoint: cannot fence the writer yet'));
      return decision;
    }
    if (!writerPointsAt(ctx, endpoint)) {
      decision.before.push({
        id: fenceWriterId,
        action: { kind: 'SetWriterRecord', value: endpoint },
        rule: 'PB-7',
        target: writerRecord.recordName,
        region: toRegion,
        reason: `fenced ${fromId} from writes: writer pointed at ${toId}, which rejects writes until promoted`,
      });
      return decision;
    }
  }

  // Phase 2 gates.
  const many = tooManyPrimaries(ctx, new Set([fromId, toId]));
  if (many) {
    decision.gates.push(many);
    return decision;
  }
  if (!to) {
    decision.gates.push(gate.databaseBusy(toId, 'is not observed: waiting for its status before promoting'));
    return decision;
  }

  if (!status.promoted) {
    const promoteId = failoverIds.promote(ep.epoch, toId);
    if (status.promotionSent) {
      decision.gates.push(gate.databaseBusy(toId, `promotion sent, instance ${to.status}: waiting for it to finish`));
      return decision;
    }
    if (ctx.cloud.pendingDnsChange !== undefined) {
      decision.gates.push(gate.dnsPropagation(ctx.cloud.pendingDnsChange, `promotion of ${toId}`));
      return decision;
    }
    // Measured from when the fence finished (or was started, if the executor never recorded its end).
    const fencedAt = parseTime(fenceEntry?.finishedAt ?? fenceEntry?.startedAt);
    if (writerRecord && fencedAt !== undefined && ctx.now < fencedAt + writerRecord.ttlSeconds * 1000) {
      const until = fencedAt + writerRecord.ttlSeconds * 1000;
      decision.gates.push(
        gate.dnsPropagation(
          fenceWriterId,
          `promotion of ${toId} (writer record TTL ${writerRecord.ttlSeconds}s)`,
          until,
        ),
      );
      return decision;
    }
    const manual = ctx.requests.failoverTo;
    const forced = manual?.force === true && manual.region === toRegion;
    if (!forced && !isWithinRpoBudget(to, db.maxLagSeconds)) {
      decision.gates.push(gate.replicaLag(to, db.maxLagSeconds));
      return decision;
    }
    if (to.status !== 'available') {
      decision.gates.push(
        gate.databaseBusy(toId, `is ${to.status}: AWS refuses PromoteReadReplica until it is available`),
      );
      return decision;
    }
    const backupRetentionPeriod = Math.max(1, to.backupRetentionPeriod, from?.backupRetentionPeriod ?? 0);
    const lag = to.lagSeconds === undefined ? 'unknown' : `${to.lagSeconds}s`;
    decision.after.push({
      id: promoteId,
      action: { kind: 'PromoteReplica', region: toRegion, dbInstanceIdentifier: toId, backupRetentionPeriod },
      rule: 'PB-6',
      target: toId,
      region: toRegion,
      ...(to.zone === undefined ? {} : { zone: to.zone }),
      reason: `promoted ${toId} in ${toRegion} (lag ${lag}${forced ? ', forced' : ''}) to replace ${fromId} in ${fromRegion}`,
    });
    return decision;
  }

  if (to.status !== 'available') {
    decision.gates.push(gate.databaseBusy(toId, `promoted, instance ${to.status}: waiting for available`));
    return decision;
  }
  const writerId = failoverIds.writer(ep.epoch, toId);
  if (writerRecord && to.endpoint !== undefined && !writerPointsAt(ctx, to.endpoint) && !ctx.journal.isDone(writerId)) {
    decision.after.push({
      id: writerId,
      action: { kind: 'SetWriterRecord', value: to.endpoint },
      rule: 'PB-7',
      target: writerRecord.recordName,
      region: toRegion,
      reason: `writer pointed at promoted ${toId}, the one writable primary`,
    });
  }
  return decision;
}

/** Decides the database's part of the plan: continue a failover in progress, start one, or hold steady. */
export function planDatabaseFailover(ctx: PlanContext): DatabaseDecision {
  const writer = resolveWriter(ctx);
  if (!ctx.settings.database || !writer) {
    return { stage: 'steady', before: [], after: [], gates: [], fencedRegions: new Set() };
  }
  const latest = ctx.journal.latestFailoverEpoch;
  if (latest) {
    const status = epochStatus(ctx, latest);
    if (!status.aborted && !status.settled) return continueFailover(ctx, latest);
  }
  const trig = detectTrigger(ctx, writer);
  if (!trig) return steady(ctx, writer);
  return startFailover(ctx, trig, writer);
}
