// The cross-region database failover (PB-6, PB-7): a durable state machine kept in status.failover, written BEFORE
// each step is taken, in the way CloudNativePG records its target primary before it fences and promotes. The
// bounded journal is the audit trail; this state is the truth about where the writer is and what was sent.
//
//   (trigger + evidence) ─► Fencing ─► AwaitingPropagation ─► Promoting ─► Repointing ─► Settled
//                              └───────────┴──► Aborted (the old region recovered before any promotion was sent)
//
// Trigger: the region holding the writable primary is Impaired on independent evidence (promotion-evidence.ts:
// endpoints hard-down in the required zones AND the primary database unreachable or impaired; EC2 metadata or
// control-plane errors alone never start one), epoch `auto-<region Impaired since>`; a manual `failoverTo` request
// (`manual-<requestedAt>`); or a database failback (`failback-<requestedAt>`; Manual by default, PB-10). A Live
// drill's rehearsed outage starts none unless the drill allows promotion, and then only with an approval, like
// `promotion: Manual`. A trigger whose epoch is not newer than the recorded failover's never starts a second one.
//
// Fencing: chooseStandbyRegion picks the target; the state (from, to, the writer record's value and TTL before the
// fence) is recorded; the writer record is pointed at the target's endpoint — a replica rejects writes until it is
// promoted, so two writable primaries are never in traffic — and the weights drain the old region's region records
// (the traffic module computes them; this module names the step).
// AwaitingPropagation: the fence holds only once its Route 53 change is INSYNC (read with GetChange by the engine)
// and the longer of the old and the new TTL, plus a margin, has passed since: until then resolvers may still hand
// out the old primary. Then the promotion gates: target observed, `available` (AWS refuses PromoteReadReplica
// while it is backing-up), a fresh non-negative lag within the RPO budget unless a person forced it.
// Promoting: the attempt is recorded (with the lag, the RPO) before PromoteReadReplica is sent. From then on it
// counts as sent — whatever the journal says (a client timeout journals Failed, a lost save leaves it Pending, the
// journal may be trimmed) — until observation disproves it: the target still an `available` replica a full grace
// window after the attempt. Only then is it sent again, as a new numbered attempt. There is no way back from here
// but a new failover.
// Repointing: the target is observed promoted; once it is `available` the writer record is re-asserted if it drifted.
// Settled: the writer is the target until a later failover (a failback) says otherwise.

import type { FailoverPhase, FailoverState } from '../api/index.ts';
import { LIMITS } from '../api/index.ts';
import type { RegionName } from '../cloud/types.ts';
import { epochTime, type FailoverTrigger, failoverEpoch, failoverIds } from './action-ids.ts';
import { gate } from './gates.ts';
import { parseTime } from './journal-view.ts';
import type { PlanContext } from './plan-context.ts';
import { type DatabaseInstanceSetting, policyDatabases } from './policy-view.ts';
import { promotionEvidence } from './promotion-evidence.ts';
import {
  chooseStandbyRegion,
  isObserved,
  isWithinRpoBudget,
  type LagBudget,
  type ObservedDb,
} from './standby-selection.ts';
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
  /** The failover state this decision leaves (saved before the plan's actions when it changed). */
  failover?: FailoverState;
  /** The state to save instead when the planner drops `after` (a fence weight change rides in this plan). */
  heldFailover?: FailoverState;
}

/** Not able to take writes whatever its replication role. */
const NOT_SERVING = new Set(['deleting', 'stopped', 'stopping', 'failed', 'creating']);
/** Statuses that mean PromoteReadReplica was accepted (it reboots the instance). */
const PROMOTING = new Set(['modifying', 'rebooting', 'renaming', 'upgrading']);

/**
 * How long a promotion recorded as sent counts as sent while RDS shows no sign of it (still an `available`
 * replica). RDS moves a promoted replica to `modifying` within seconds of accepting the call; ten minutes of
 * nothing is a call that never arrived.
 */
export const PROMOTION_GRACE_MS = 10 * 60_000;
/**
 * How a journaled promotion attempt that was certainly never sent begins its error: the executor refused it before
 * PromoteReadReplica (the promotion lock could not be taken: unreachable, throttled, its region down). Unlike a
 * failed PromoteReadReplica, which may have reached RDS, it is sent again under the executor's backoff, not after
 * the grace window.
 */
export const PROMOTION_NOT_SENT = 'promotion not sent: ';

/** Added to the longer writer-record TTL after the fence is INSYNC: resolvers and clients that round up. */
export const FENCE_MARGIN_MS = 5_000;

/** Known to take writes: described, not replicating, serving. Unknown is neither healthy nor writable. */
export function isWritablePrimary(db: ObservedDb): boolean {
  return isObserved(db) && db.replicaSourceId === undefined && !NOT_SERVING.has(db.status);
}

/** Phases after which the failover needs nothing more. */
export function isFinished(state: FailoverState): boolean {
  return state.phase === 'Settled' || state.phase === 'Aborted';
}

/** The writer a failover state implies: the target once a promotion was sent, else the instance it started from. */
export function writerOf(state: FailoverState): { region: RegionName; id: string } {
  const promotedOrSent = state.phase === 'Promoting' || state.phase === 'Repointing' || state.phase === 'Settled';
  const ref = promotedOrSent ? state.to : state.from;
  return { region: ref.region, id: ref.dbInstanceIdentifier };
}

const iso = (ms: number): string => new Date(ms).toISOString();

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

function lagBudget(ctx: PlanContext): LagBudget {
  const db = ctx.settings.database;
  return { maxLagSeconds: db?.maxLagSeconds ?? 0, maxLagAgeMs: db?.maxLagAgeMs ?? 0, now: ctx.now };
}

/** The writer as of the recorded failover, or the configured primary; repaired from observation when it drifted. */
function resolveWriter(ctx: PlanContext): { id: string; region: RegionName } | undefined {
  const db = ctx.settings.database;
  if (!db) return undefined;
  let id = ctx.failover ? writerOf(ctx.failover).id : db.primary.dbInstanceIdentifier;
  // Level-based repair: if that instance is observed as a replica while exactly one policy instance is known to be
  // writable (someone failed over by hand), the writable one is the writer. An instance we could not describe is
  // never taken for either.
  const observed = ctx.db(id);
  const writable = ctx.policyDbs.filter(isWritablePrimary);
  if (observed && isObserved(observed) && observed.replicaSourceId !== undefined && writable.length === 1) {
    id = writable[0]!.id;
  }
  const region = regionOfDb(ctx, id);
  return region === undefined ? undefined : { id, region };
}

/** Regions holding a known writable primary other than the writer (their region records are fenced, PB-7). A home
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
    if (requests.failback?.includeDatabase) {
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

/** A trigger newer than the recorded failover; the same impairment or a stale request never starts a second one. */
function detectTrigger(ctx: PlanContext, writer: { id: string; region: RegionName }): Trigger | undefined {
  const trig = findTrigger(ctx, writer);
  if (!trig) return undefined;
  const recorded = ctx.failover;
  if (recorded && epochTime(trig.epoch) <= epochTime(recorded.epoch)) return undefined;
  return trig;
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
    ...(ctx.failover ? { failover: ctx.failover } : {}),
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
  const drill = ctx.requests.liveDrill;
  const seen: string[] = [];
  if (trig.trigger === 'auto') {
    // A rehearsal never moves the production database unless the drill says so (PB-12).
    if (drill && !drill.allowPromotion) return steady(ctx, writer, [gate.drill(drill.name)]);
  }
  if (trig.trigger === 'auto' && !drill) {
    // A drill that allows promotion rehearses the database's failure too; it needs a person's approval instead.
    const region = ctx.settings.regions.find((r) => r.name === writer.region);
    const zone = ctx.db(writer.id)?.zone;
    const evidence = promotionEvidence(ctx.regionHealth(writer.region), {
      writerId: writer.id,
      ...(zone === undefined ? {} : { writerZone: zone }),
      zoneCount: region?.zones.length ?? 0,
      impairedZones: ctx.settings.regionImpairedZones,
    });
    if (!evidence.sufficient) {
      return steady(ctx, writer, [gate.insufficientEvidence(writer.region, evidence.missing)]);
    }
    seen.push(...evidence.seen);
  }
  const from = ctx.db(writer.id);
  const choice = chooseStandbyRegion(ctx.cloud.databases, {
    from: { id: writer.id, region: writer.region, ...(from?.arn ? { arn: from.arn } : {}) },
    allowedIds: ctx.policyDbIds,
    regionState: ctx.regionState,
    zoneState: ctx.zoneState,
    lag: lagBudget(ctx),
    force: trig.force,
    ...(trig.region === undefined ? {} : { region: trig.region }),
  });
  let target = choice.chosen;
  if (!target) {
    const overLag = choice.rejected
      .filter((r) => r.overLag)
      .map((r) => ctx.db(r.id))
      .filter((d): d is ObservedDb => d !== undefined)
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    if (overLag[0]) return steady(ctx, writer, [gate.replicaLag(overLag[0], lagBudget(ctx))]);
    const reasons = choice.rejected.map((r) => `${r.id}: ${r.reason}`).join('; ');
    return steady(ctx, writer, [
      gate.noStandby(`${trig.why}, but no replica qualifies${reasons ? ` (${reasons})` : ''}`),
    ]);
  }
  // Manual promotion (or a drill that may promote): a person approves before anything is fenced. A manual request
  // or a failback request is itself that decision.
  if (trig.trigger === 'auto' && (settings.promotion === 'Manual' || drill)) {
    const approved = ctx.requests.approvePromotion?.dbInstanceIdentifier;
    const approvedTarget = choice.ranked.find((d) => d.id === approved);
    if (!approvedTarget) {
      const why = drill ? `live drill ${drill.name} allows a promotion` : 'promotion is Manual';
      return steady(ctx, writer, [gate.approval(target.id, why)]);
    }
    target = approvedTarget;
  }
  if (target.endpoint === undefined) {
    return steady(ctx, writer, [gate.databaseBusy(target.id, 'has no endpoint yet: cannot point the writer at it')]);
  }
  const now = iso(ctx.now);
  const before = ctx.cloud.writer;
  const state: FailoverState = {
    epoch: trig.epoch,
    trigger: trig.trigger,
    from: { region: writer.region, dbInstanceIdentifier: writer.id },
    to: { region: target.region, dbInstanceIdentifier: target.id },
    phase: 'Fencing',
    startedAt: now,
    phaseSince: now,
    reason: [trig.why, ...seen].join('; ').slice(0, 1024),
    fence: {
      ...(before?.values[0] === undefined ? {} : { previousValue: before.values[0].slice(0, 512) }),
      ...(before?.ttl === undefined ? {} : { previousTtlSeconds: before.ttl }),
    },
  };
  return continueFailover(ctx, state);
}

function advance(ctx: PlanContext, state: FailoverState, phase: FailoverPhase, extra: Partial<FailoverState> = {}) {
  return { ...state, ...extra, phase, phaseSince: iso(ctx.now) } satisfies FailoverState;
}

/**
 * An automatic failover before any promotion was sent is abandoned when its region is no longer Impaired — by the
 * vantage points' agreement when there are several: a vantage that lost sight of its peers mid-failover (its region
 * capped at Degraded because it is alone) holds instead, or it would point the writer back at the old primary while
 * a peer that still has the quorum promotes.
 */
function canAbandon(ctx: PlanContext, state: FailoverState): boolean {
  return (
    state.trigger === 'auto' &&
    ctx.requests.vantageAlone === undefined &&
    (state.phase === 'Fencing' || state.phase === 'AwaitingPropagation') &&
    ctx.regionState(state.from.region) !== 'Impaired'
  );
}

/** The writer record pointed back at the old primary after an abort, until that is done. */
function pointBack(ctx: PlanContext, state: FailoverState): PlannedAction | undefined {
  const writerRecord = ctx.settings.traffic?.writerRecord;
  const fromId = state.from.dbInstanceIdentifier;
  const from = ctx.db(fromId);
  const id = failoverIds.abortWriter(state.epoch, fromId);
  if (!writerRecord || !from || !isWritablePrimary(from) || from.endpoint === undefined) return undefined;
  if (writerPointsAt(ctx, from.endpoint) || ctx.journal.isDone(id)) return undefined;
  return {
    id,
    action: { kind: 'SetWriterRecord', value: from.endpoint },
    rule: 'PB-7',
    target: writerRecord.recordName,
    region: state.from.region,
    reason: `region ${state.from.region} recovered before ${state.to.dbInstanceIdentifier} was promoted: failover abandoned, writer pointed back at ${fromId}`,
  };
}

function abandon(ctx: PlanContext, state: FailoverState): DatabaseDecision {
  const aborted = advance(ctx, state, 'Aborted', {
    finishedAt: iso(ctx.now),
    reason: `region ${state.from.region} recovered before ${state.to.dbInstanceIdentifier} was promoted: failover abandoned`,
  });
  const decision = steady(ctx, { id: state.from.dbInstanceIdentifier, region: state.from.region });
  decision.failover = aborted;
  const back = pointBack(ctx, aborted);
  if (back) decision.before.push(back);
  return decision;
}

function promoteAction(ctx: PlanContext, state: FailoverState, to: ObservedDb, attempt: number): PlannedAction {
  const from = ctx.db(state.from.dbInstanceIdentifier);
  const backupRetentionPeriod = Math.max(1, to.backupRetentionPeriod, from?.backupRetentionPeriod ?? 0);
  const lag = to.lagSeconds === undefined ? 'unknown' : `${to.lagSeconds}s`;
  const forced = state.promotion?.forced === true;
  return {
    id: failoverIds.promote(state.epoch, to.id, attempt),
    action: {
      kind: 'PromoteReplica',
      region: to.region,
      dbInstanceIdentifier: to.id,
      backupRetentionPeriod,
      // The promotion lock's key: the writer failed away from, by incarnation (its DbiResourceId as last observed).
      from: {
        region: state.from.region,
        dbInstanceIdentifier: state.from.dbInstanceIdentifier,
        ...(from?.resourceId === undefined ? {} : { resourceId: from.resourceId }),
      },
      epoch: state.epoch,
    },
    rule: 'PB-6',
    target: to.id,
    region: to.region,
    ...(to.zone === undefined ? {} : { zone: to.zone }),
    reason: `promoted ${to.id} in ${to.region} (lag ${lag}${forced ? ', forced' : ''}${attempt > 1 ? `, attempt ${attempt}` : ''}) to replace ${state.from.dbInstanceIdentifier} in ${state.from.region}`,
  };
}

/** The gates a promotion must pass (target known and available, RPO budget unless forced). */
function promotionGate(ctx: PlanContext, to: ObservedDb | undefined, forced: boolean, toId: string) {
  if (!to || !isObserved(to)) {
    return gate.databaseBusy(toId, `is not observable (${to?.status ?? 'not described'}): not promoted blind`);
  }
  if (!forced && !isWithinRpoBudget(to, lagBudget(ctx))) return gate.replicaLag(to, lagBudget(ctx));
  if (to.status !== 'available') {
    return gate.databaseBusy(toId, `is ${to.status}: AWS refuses PromoteReadReplica until it is available`);
  }
  return undefined;
}

function isForced(ctx: PlanContext, state: FailoverState): boolean {
  const manual = ctx.requests.failoverTo;
  return state.promotion?.forced === true || (manual?.force === true && manual.region === state.to.region);
}

/**
 * The promotion lock was held for another replica (#14: another operator, e.g. another vantage point, took this
 * failover) and that operator's promotion has landed: one of the policy's other replicas is now a standalone,
 * available writer. This failover adopts it as its target and goes on to repoint the writer record to it, so every
 * operator converges on the one promoted writer instead of holding at PromotionLocked. Nothing is promoted here.
 */
function adoptLockHoldersWriter(ctx: PlanContext, state: FailoverState): FailoverState | undefined {
  if (state.phase !== 'Promoting') return undefined;
  const entry = ctx.journal.entry(
    failoverIds.promote(state.epoch, state.to.dbInstanceIdentifier, state.promotion?.attempts ?? 1),
  );
  if (entry?.state !== 'Skipped' || entry.rule !== 'PB-6') return undefined;
  const promoted = ctx.policyDbs.find(
    (d) =>
      d.id !== state.from.dbInstanceIdentifier &&
      d.id !== state.to.dbInstanceIdentifier &&
      isObserved(d) &&
      d.replicaSourceId === undefined &&
      d.status === 'available' &&
      isWritablePrimary(d),
  );
  if (!promoted) return undefined;
  return {
    ...advance(ctx, state, 'Repointing', { promotedAt: iso(ctx.now) }),
    to: { region: promoted.region, dbInstanceIdentifier: promoted.id },
    reason:
      `${state.reason ?? ''}${state.reason ? '; ' : ''}adopted ${promoted.id} in ${promoted.region}: the promotion lock's holder promoted it (${entry.detail ?? 'lock held for another target'})`.slice(
        0,
        1024,
      ),
  };
}

/** Steps the failover as far as observation allows in this plan (several phases at once when nothing waits). */
function continueFailover(ctx: PlanContext, given: FailoverState): DatabaseDecision {
  const initial = adoptLockHoldersWriter(ctx, given) ?? given;
  const fromId = initial.from.dbInstanceIdentifier;
  const toId = initial.to.dbInstanceIdentifier;
  const fromRegion = initial.from.region;
  const toRegion = initial.to.region;
  const to = ctx.db(toId);
  const writerRecord = ctx.settings.traffic?.writerRecord;
  const decision: DatabaseDecision = {
    stage: initial.trigger === 'failback' ? 'recovering' : 'failing-over',
    before: [],
    after: [],
    gates: [],
    writerRegion: toRegion,
    fencedRegions: new Set([fromRegion]),
    desiredWriter: { region: toRegion, dbInstanceIdentifier: toId },
  };
  for (const d of ctx.policyDbs)
    if (isWritablePrimary(d) && d.id !== toId && d.region !== toRegion) decision.fencedRegions.add(d.region);
  const fenceWeightsId = failoverIds.fenceWeights(initial.epoch, fromId, toId);
  if (!ctx.journal.isDone(fenceWeightsId)) {
    decision.weightsStep = {
      id: fenceWeightsId,
      reason: `fenced ${fromRegion} before promoting ${toId} (PB-7): ${toRegion} takes traffic, healthy zones keep serving`,
    };
  }
  const waiting = (state: FailoverState, g: PlanGate): DatabaseDecision => {
    decision.gates.push(g);
    decision.failover = state;
    return decision;
  };

  let state = initial;
  for (let step = 0; step < 6; step++) {
    switch (state.phase) {
      case 'Fencing': {
        if (canAbandon(ctx, state)) return abandon(ctx, state);
        const fenceWriterId = failoverIds.fenceWriter(state.epoch, fromId, toId);
        const entry = ctx.journal.entry(fenceWriterId);
        if (writerRecord && entry?.state !== 'Done' && !writerPointsAt(ctx, to?.endpoint)) {
          const endpoint = to?.endpoint;
          if (endpoint === undefined) {
            return waiting(
              state,
              gate.databaseBusy(toId, 'is not observed with an endpoint: cannot fence the writer yet'),
            );
          }
          decision.before.push({
            id: fenceWriterId,
            action: { kind: 'SetWriterRecord', value: endpoint },
            rule: 'PB-7',
            target: writerRecord.recordName,
            region: toRegion,
            reason: `fenced ${fromId} from writes: writer pointed at ${toId}, which rejects writes until promoted`,
          });
          decision.failover = state;
          return decision;
        }
        // Fenced (or nothing to fence). A change id and its INSYNC come from the executor's journal entry.
        const changeId = entry?.requestToken;
        const inSync = entry?.state === 'Done' && entry.detail?.includes('INSYNC') === true;
        const finished = parseTime(entry?.finishedAt);
        state = advance(ctx, state, 'AwaitingPropagation', {
          fence: {
            ...state.fence,
            ...(changeId === undefined ? {} : { changeId }),
            ...(inSync && finished !== undefined ? { inSyncAt: iso(finished) } : {}),
          },
        });
        continue;
      }
      case 'AwaitingPropagation': {
        if (canAbandon(ctx, state)) return abandon(ctx, state);
        if (writerRecord) {
          let inSyncAt = parseTime(state.fence?.inSyncAt);
          const changeId = state.fence?.changeId;
          if (inSyncAt === undefined) {
            if (changeId === undefined) {
              // The record already pointed at the target when observed: it has held since at least then.
              inSyncAt = parseTime(state.phaseSince) ?? ctx.now;
            } else if (ctx.cloud.fenceChange?.id === changeId && ctx.cloud.fenceChange.status === 'INSYNC') {
              inSyncAt = ctx.cloud.at; // first seen INSYNC now: conservative, it may have been earlier
            } else {
              return waiting(
                state,
                gate.dnsPropagation(changeId, `promotion of ${toId} (fence change not yet INSYNC)`),
              );
            }
            state = { ...state, fence: { ...state.fence, inSyncAt: iso(inSyncAt) } };
          }
          const ttl = Math.max(
            state.fence?.previousTtlSeconds ?? 0,
            writerRecord.ttlSeconds,
            ctx.cloud.writer?.ttl ?? 0,
          );
          const until = inSyncAt + ttl * 1000 + FENCE_MARGIN_MS;
          if (ctx.now < until) {
            return waiting(
              state,
              gate.dnsPropagation(
                changeId ?? failoverIds.fenceWriter(state.epoch, fromId, toId),
                `promotion of ${toId} (writer record TTL ${ttl}s after INSYNC, the longer of the old and new TTL)`,
                until,
              ),
            );
          }
        }
        const many = tooManyPrimaries(ctx, new Set([fromId, toId]));
        if (many) return waiting(state, many);
        if (to && isObserved(to) && to.replicaSourceId === undefined) {
          // Promoted by someone else (or by a call we lost track of): nothing to send.
          state = advance(ctx, state, 'Repointing', { promotedAt: iso(ctx.now) });
          continue;
        }
        const forced = isForced(ctx, state);
        const blocked = promotionGate(ctx, to, forced, toId);
        if (blocked || !to) return waiting(state, blocked ?? gate.databaseBusy(toId, 'is not observed'));
        decision.heldFailover = state;
        state = advance(ctx, state, 'Promoting', {
          promotion: {
            attempts: 1,
            lastAttemptAt: iso(ctx.now),
            ...(to.lagSeconds === undefined ? {} : { lagSeconds: to.lagSeconds }),
            ...(forced ? { forced: true } : {}),
          },
        });
        decision.after.push(promoteAction(ctx, state, to, 1));
        decision.failover = state;
        return decision;
      }
      case 'Promoting': {
        if (to && isObserved(to) && to.replicaSourceId === undefined) {
          state = advance(ctx, state, 'Repointing', { promotedAt: iso(ctx.now) });
          continue;
        }
        const attempt = state.promotion?.attempts ?? 1;
        const promoteId = failoverIds.promote(state.epoch, toId, attempt);
        const entry = ctx.journal.entry(promoteId);
        // The promotion lock is held for another replica (#14): another operator took this failover. Never sent,
        // never sent again: the refusal, naming the holder, stays until a person or a newer failover decides.
        if (entry?.state === 'Skipped' && entry.rule === 'PB-6') {
          return waiting(state, gate.promotionLocked(toId, entry.detail ?? 'promotion lock held for another target'));
        }
        // Refused before the call (the lock could not be taken): certainly not sent, so sent again as the same
        // attempt, as soon as the executor's backoff allows — never without the lock.
        if (
          entry?.state === 'Failed' &&
          entry.error?.startsWith(PROMOTION_NOT_SENT) === true &&
          to &&
          !promotionGate(ctx, to, isForced(ctx, state), toId)
        ) {
          decision.after.push(promoteAction(ctx, state, to, attempt));
          decision.failover = state;
          return decision;
        }
        // Recorded as due but never journaled, and the journal holds everything since (it is not full): the process
        // stopped between saving the state and the call. Sending it now is its first and only send.
        if (!entry && ctx.journal.size < LIMITS.journal && to && !promotionGate(ctx, to, isForced(ctx, state), toId)) {
          decision.after.push(promoteAction(ctx, state, to, attempt));
          decision.failover = state;
          return decision;
        }
        const last = parseTime(state.promotion?.lastAttemptAt) ?? parseTime(state.phaseSince) ?? ctx.now;
        const graceEnds = last + PROMOTION_GRACE_MS;
        if (to && PROMOTING.has(to.status)) {
          return waiting(
            state,
            gate.databaseBusy(toId, `promotion sent, instance ${to.status}: waiting for it to finish`),
          );
        }
        if (ctx.now < graceEnds || !to || !isObserved(to) || to.status !== 'available') {
          const journaled = entry ? `journal says ${entry.state}` : 'not in the journal';
          return waiting(
            state,
            gate.databaseBusy(
              toId,
              `promotion attempt ${attempt} counts as sent (${journaled}): waiting for RDS to show it, up to ${iso(graceEnds)}`,
            ),
          );
        }
        // A full grace window later RDS still shows an available replica: the call never arrived. Send again.
        const blocked = promotionGate(ctx, to, isForced(ctx, state), toId);
        if (blocked) return waiting(state, blocked);
        decision.heldFailover = state;
        state = {
          ...state,
          promotion: {
            ...state.promotion,
            attempts: attempt + 1,
            lastAttemptAt: iso(ctx.now),
            ...(to.lagSeconds === undefined ? {} : { lagSeconds: to.lagSeconds }),
          },
        };
        decision.after.push(promoteAction(ctx, state, to, attempt + 1));
        decision.failover = state;
        return decision;
      }
      case 'Repointing': {
        if (to?.status !== 'available') {
          return waiting(
            state,
            gate.databaseBusy(toId, `promoted, instance ${to?.status ?? 'not observed'}: waiting for available`),
          );
        }
        const writerId = failoverIds.writer(state.epoch, toId);
        if (
          writerRecord &&
          to.endpoint !== undefined &&
          !writerPointsAt(ctx, to.endpoint) &&
          !ctx.journal.isDone(writerId)
        ) {
          decision.after.push({
            id: writerId,
            action: { kind: 'SetWriterRecord', value: to.endpoint },
            rule: 'PB-7',
            target: writerRecord.recordName,
            region: toRegion,
            reason: `writer pointed at promoted ${toId}, the one writable primary`,
          });
          decision.failover = state;
          return decision;
        }
        state = advance(ctx, state, 'Settled', { finishedAt: iso(ctx.now) });
        continue;
      }
      case 'Settled':
      case 'Aborted': {
        const settled = steady(ctx, writerOf(state));
        settled.failover = state;
        return settled;
      }
    }
  }
  decision.failover = state;
  return decision;
}

/** Decides the database's part of the plan: continue a failover in progress, start one, or hold steady. */
export function planDatabaseFailover(input: PlanContext): DatabaseDecision {
  let ctx = input;
  if (!ctx.settings.database) return { stage: 'steady', before: [], after: [], gates: [], fencedRegions: new Set() };
  if (ctx.failover && !isFinished(ctx.failover)) {
    const d = continueFailover(ctx, ctx.failover);
    const idle = d.before.length === 0 && d.after.length === 0 && d.gates.length === 0;
    // Finished in this very plan with nothing left to do: a newer trigger may start the next failover at once.
    if (!d.failover || !isFinished(d.failover) || !idle) return d;
    ctx = { ...ctx, failover: d.failover };
  }
  const recorded = ctx.failover;
  const writer = resolveWriter(ctx);
  if (!writer) return { stage: 'steady', before: [], after: [], gates: [], fencedRegions: new Set() };
  const trig = detectTrigger(ctx, writer);
  if (trig) return startFailover(ctx, trig, writer);
  const decision = steady(ctx, writer);
  // An abandoned failover keeps pointing the writer back at the old primary until that is done.
  const back = recorded?.phase === 'Aborted' ? pointBack(ctx, recorded) : undefined;
  if (back) decision.before.push(back);
  return decision;
}
