// How each planned action becomes AWS calls. Every call goes through the call pipeline (guardrails, PB-3/PB-8);
// nothing here retries, waits for tokens or checks zones itself. Long-running effects never hold the worker: a
// Route 53 change is handed back as soon as Route 53 accepted it (PENDING until its authoritative servers have it,
// typically tens of seconds), and a promotion (minutes) as soon as it was sent. Either returns `settleAfterMs`;
// the executor requeues the policy, and the next reconcile reads the change's status (GetChange, shared by every
// policy on the change) and what the promotion did.
// In the engine, Route 53 changes of many policies to one hosted zone share change batches (change-coalescer.ts),
// and the read before a weight change shares one live listing (record-cache.ts): each policy still checks PB-5
// against its own group and gets its own journal entry, with the shared change id.

import { createHash } from 'node:crypto';
import { CloudError, errorText } from '../cloud/errors.ts';
import type {
  AwsService,
  Cloud,
  DnsRecord,
  InsufficientDataHealthStatus,
  PromotionLock,
  RegionName,
  ZoneName,
} from '../cloud/types.ts';
import { describeVerdicts, verdictResources } from '../decide/data-plane.ts';
import { PROMOTION_NOT_SENT } from '../decide/database-failover.ts';
import { DATA_PLANE_DEFAULTS } from '../decide/policy-view.ts';
import type { PlannedAction, Verdict } from '../decide/types.ts';
import type { CallPipeline } from './call-pipeline.ts';
import type { ChangeCoalescer } from './change-coalescer.ts';
import { ActionRejected, LeadershipExpiredError, PromotionLockRefused, PromotionNotSent } from './errors.ts';
import { ROUTE53_CONTROL_PLANE_REGION, splitIntoChangeBatches } from './route53-batches.ts';
import type { Clock } from './types.ts';

/** The few policy settings the executor reads; a validated FailoverPolicy satisfies it structurally. */
export interface ExecutorPolicy {
  spec: {
    dryRun?: boolean;
    traffic?: {
      route53?: {
        hostedZoneId: string;
        recordName: string;
        type: string;
        writerRecord?: { hostedZoneId?: string; recordName: string; type: string; ttl: number };
        dataPlane?: {
          namespace?: string;
          periodSeconds?: number;
          insufficientDataHealthStatus?: InsufficientDataHealthStatus;
        };
      };
    };
    guardrails?: { maxWritesPerMinute?: number };
  };
}

export interface SettleOptions {
  /**
   * Requeue delay after a Route 53 change was accepted: the next reconcile reads its status (GetChange). Also how
   * long one GetChange answer serves every policy waiting on the same change. Default 3 s.
   */
  dnsPollIntervalMs: number;
  /** Requeue delay after starting a promotion (it takes minutes). Default 30 s. */
  promotionRequeueAfterMs: number;
}

export const DEFAULT_SETTLE_OPTIONS: SettleOptions = {
  dnsPollIntervalMs: 3_000,
  promotionRequeueAfterMs: 30_000,
};

export interface ActionContext {
  cloud: Cloud;
  pipeline: CallPipeline;
  clock: Clock;
  policyKey: string;
  policy: ExecutorPolicy;
  signal: AbortSignal;
  /** The journal held this action as Pending: a previous run may have made the call before it stopped. */
  resuming: boolean;
  settle: SettleOptions;
  /**
   * Route 53 writes of many policies to one hosted zone share change batches (change-coalescer.ts, PB-8). Without
   * it, each action sends its own.
   */
  coalescer?: ChangeCoalescer;
  /**
   * The records of a weighted group as they are now, for the read before a weight change: the engine reads it
   * through the shared record cache as a live listing of the zone that the drains starting together share (one
   * listing, not one read per policy). Without it, each action lists its group itself.
   */
  currentRecords?: CurrentRecords;
  /**
   * The promotion lock (#14), taken right before every PromoteReadReplica, and who takes it (this operator's
   * identity). Without it a promotion is sent on this operator's decision alone.
   */
  promotionLock?: { lock: PromotionLock; vantage: string; holder: string };
}

/** Reads one (name, type) group of a hosted zone now (a read that may be shared with concurrent ones). */
export type CurrentRecords = (
  hostedZoneId: string,
  name: string,
  type: string,
  signal: AbortSignal,
) => Promise<DnsRecord[]>;

export interface ActionOutcome {
  detail: string;
  requestToken?: string;
  /** The effect is still settling: stop the plan here and requeue after this long. */
  settleAfterMs?: number;
  pendingDnsChange?: string;
}

/**
 * The idempotency token sent with creating calls (EC2 clientToken: at most 64 ASCII characters). The action id is
 * deterministic, so a re-issued action after a crash sends the same token and AWS returns the original result.
 */
export function idempotencyToken(actionId: string): string {
  return /^[\x20-\x7e]{1,64}$/.test(actionId) ? actionId : createHash('sha256').update(actionId).digest('hex');
}

/** The token the journal records with the intent, before the call (EC2 creates only). */
export function requestTokenFor(action: PlannedAction): string | undefined {
  const kind = action.action.kind;
  return kind === 'LaunchReplacements' || kind === 'RestoreVolume' ? idempotencyToken(action.id) : undefined;
}

export async function performAction(planned: PlannedAction, ctx: ActionContext): Promise<ActionOutcome> {
  const action = planned.action;
  switch (action.kind) {
    case 'SetWeights':
      return setWeights(planned, action.weights, ctx);
    case 'SetWriterRecord':
      return setWriterRecord(planned, action.value, ctx);
    case 'SetVerdicts':
      return setVerdicts(action.signalRegion, action.verdicts, ctx);
    case 'PrepareDataPlane':
      return prepareDataPlane(planned, action.signalRegion, action.setIdentifiers, ctx);
    case 'PromoteReplica':
      return promoteReplica(action, ctx);
    case 'LaunchReplacements': {
      const clientToken = idempotencyToken(planned.id);
      const ids = await call(
        ctx,
        {
          service: 'ec2',
          operation: 'RunInstances',
          region: action.region,
          zone: action.zone,
          write: true,
          idempotent: true,
        },
        (signal) =>
          ctx.cloud.compute.runInstances(
            action.region,
            { launchTemplateId: action.launchTemplateId, zone: action.zone, count: action.count, clientToken },
            { signal },
          ),
      );
      return { detail: `launched ${ids.join(', ') || 'no instances'} in ${action.zone}`, requestToken: clientToken };
    }
    case 'RestoreVolume': {
      const clientToken = idempotencyToken(planned.id);
      const volumeId = await call(
        ctx,
        {
          service: 'ebs',
          operation: 'CreateVolume',
          region: action.region,
          zone: action.zone,
          write: true,
          idempotent: true,
        },
        (signal) =>
          ctx.cloud.compute.createVolumeFromSnapshot(
            action.region,
            { snapshotId: action.snapshotId, zone: action.zone, clientToken },
            { signal },
          ),
      );
      return {
        detail: `created volume ${volumeId} from ${action.snapshotId} in ${action.zone}`,
        requestToken: clientToken,
      };
    }
    case 'RebootDBInstance': {
      const zone = planned.zone ?? (await describeDb(action.region, action.dbInstanceIdentifier, ctx)).zone;
      await call(
        ctx,
        { service: 'rds', operation: 'RebootDBInstance', region: action.region, zone, write: true },
        (signal) => ctx.cloud.databases.rebootInstance(action.region, action.dbInstanceIdentifier, { signal }),
      );
      return { detail: `rebooted ${action.dbInstanceIdentifier}` };
    }
    case 'RebootInstances': {
      await call(
        ctx,
        { service: 'ec2', operation: 'RebootInstances', region: action.region, zone: planned.zone, write: true },
        (signal) => ctx.cloud.compute.rebootInstances(action.region, action.instanceIds, { signal }),
      );
      return { detail: `rebooted ${action.instanceIds.join(', ')}` };
    }
  }
}

function call<T>(
  ctx: ActionContext,
  meta: {
    service: AwsService;
    operation: string;
    region: RegionName;
    zone?: ZoneName | undefined;
    write: boolean;
    idempotent?: boolean;
  },
  fn: (signal: AbortSignal, nextRequest: () => Promise<void>) => Promise<T>,
): Promise<T> {
  const { zone, ...rest } = meta;
  const maxWritesPerMinute = ctx.policy.spec.guardrails?.maxWritesPerMinute;
  return ctx.pipeline.call(
    {
      ...rest,
      ...(zone !== undefined && { zone }),
      policy: ctx.policyKey,
      partOfAction: true,
      ...(maxWritesPerMinute !== undefined && { maxWritesPerMinute }),
      dryRun: ctx.policy.spec.dryRun === true,
      signal: ctx.signal,
    },
    fn,
  );
}

function route53Of(ctx: ActionContext) {
  const route53 = ctx.policy.spec.traffic?.route53;
  if (route53 === undefined) throw new ActionRejected('policy has no spec.traffic.route53', 'PB-5');
  return route53;
}

/**
 * PB-5: one change batch of UPSERTs setting each named record's weight, keeping its values and TTL. Never a
 * DELETE; never a result where every record in the group has weight 0.
 */
async function setWeights(
  planned: PlannedAction,
  weights: Record<string, number>,
  ctx: ActionContext,
): Promise<ActionOutcome> {
  const route53 = route53Of(ctx);
  for (const [id, w] of Object.entries(weights)) {
    if (!Number.isInteger(w) || w < 0 || w > 255)
      throw new ActionRejected(`weight of ${id} must be 0–255, got ${w}`, 'PB-5');
  }
  const current = await recordsBeforeChange(route53, Object.keys(weights), ctx);
  const bySetId = new Map(current.filter((r) => r.setIdentifier !== undefined).map((r) => [r.setIdentifier!, r]));
  const missing = Object.keys(weights).filter((id) => !bySetId.has(id));
  if (missing.length) throw new ActionRejected(`weighted records not found: ${missing.join(', ')}`, 'PB-5');

  const after = current.map(
    (r) => (r.setIdentifier !== undefined && r.setIdentifier in weights ? weights[r.setIdentifier] : r.weight) ?? 0,
  );
  if (after.length > 0 && after.every((w) => w === 0)) {
    throw new ActionRejected(
      'every record in the group would have weight 0, which spreads traffic to all of them',
      'PB-5',
    );
  }

  const upserts: DnsRecord[] = [...bySetId.values()]
    .filter((r) => r.setIdentifier! in weights && r.weight !== weights[r.setIdentifier!])
    .map((r) => ({ ...r, weight: weights[r.setIdentifier!]! }));
  if (upserts.length === 0) return { detail: 'weights already as planned' };

  const batches = splitIntoChangeBatches(upserts, (r) => bySetId.get(r.setIdentifier!)?.weight);
  let changeId = '';
  for (const batch of batches) {
    // A split group is sent part by part, in order, on its own (route53-batches.ts); one batch may be shared.
    changeId = await upsert(route53.hostedZoneId, batch, planned, ctx, batches.length === 1);
  }
  return handBackPending(changeId, `set weights ${formatWeights(weights)}`, ctx);
}

/**
 * The group as it is now: through the engine's shared read when it provides one; a read of the group itself when
 * that read does not know every record the change names — the shared read must never be why a drain is refused.
 */
async function recordsBeforeChange(
  route53: { hostedZoneId: string; recordName: string; type: string },
  setIdentifiers: string[],
  ctx: ActionContext,
): Promise<DnsRecord[]> {
  if (ctx.currentRecords !== undefined) {
    const cached = await ctx.currentRecords(route53.hostedZoneId, route53.recordName, route53.type, ctx.signal);
    const known = new Set(cached.map((r) => r.setIdentifier));
    if (setIdentifiers.every((id) => known.has(id))) return cached;
  }
  return call(
    ctx,
    { service: 'route53', operation: 'ListResourceRecordSets', region: ROUTE53_CONTROL_PLANE_REGION, write: false },
    (signal) => ctx.cloud.dns.listRecords(route53.hostedZoneId, route53.recordName, route53.type, { signal }),
  );
}

/** The data-plane settings an action needs, with the API's defaults. */
function dataPlaneOf(ctx: ActionContext, signalRegion: RegionName) {
  const dp = route53Of(ctx).dataPlane;
  return {
    signalRegion,
    namespace: dp?.namespace ?? DATA_PLANE_DEFAULTS.namespace,
    periodSeconds: dp?.periodSeconds ?? DATA_PLANE_DEFAULTS.periodSeconds,
    insufficientDataHealthStatus: dp?.insufficientDataHealthStatus ?? DATA_PLANE_DEFAULTS.insufficientDataHealthStatus,
  };
}

function verdictsApi(ctx: ActionContext) {
  const verdicts = ctx.cloud.verdicts;
  if (verdicts === undefined) throw new ActionRejected('this cloud has no CloudWatch verdicts', 'PB-5');
  return verdicts;
}

/**
 * The data-plane drain (docs/static-stability.md): one PutMetricData in the signal region with every record's
 * verdict (1 drain, 0 serve). The health checks follow their alarms; no Route 53 call is made. The planner never
 * asks for every record to be drained (data-plane.ts), and that is checked again here (PB-5).
 */
async function setVerdicts(
  signalRegion: RegionName,
  verdicts: Record<string, Verdict>,
  ctx: ActionContext,
): Promise<ActionOutcome> {
  const ids = Object.keys(verdicts);
  if (ids.length === 0 || ids.every((id) => verdicts[id] === 'drain')) {
    throw new ActionRejected(
      'every record would be unhealthy, and Route 53 answers as if all were healthy: nothing would be drained',
      'PB-5',
    );
  }
  const dp = dataPlaneOf(ctx, signalRegion);
  const at = ctx.clock.now();
  const data = ids.map((id) => {
    const names = verdictResources(ctx.policyKey, id, dp);
    return { metricName: names.metricName, dimensions: names.dimensions, value: verdicts[id] === 'drain' ? 1 : 0, at };
  });
  await call(
    ctx,
    { service: 'cloudwatch', operation: 'PutMetricData', region: signalRegion, write: true, idempotent: true },
    (signal) => verdictsApi(ctx).publishVerdicts(signalRegion, dp.namespace, data, { signal }),
  );
  return { detail: `published verdicts ${describeVerdicts(verdicts)} to ${dp.namespace} in ${signalRegion}` };
}

/**
 * Steady state only (the planner's isSteady): for each record, its verdict alarm in the signal region and a
 * health check that follows it (idempotent by caller reference), "serve" published for every record, then the
 * checks attached to the records in one UPSERT batch that keeps weights and values as they are.
 */
async function prepareDataPlane(
  planned: PlannedAction,
  signalRegion: RegionName,
  setIdentifiers: string[],
  ctx: ActionContext,
): Promise<ActionOutcome> {
  const route53 = route53Of(ctx);
  const healthChecks = ctx.cloud.healthChecks;
  if (healthChecks === undefined) throw new ActionRejected('this cloud has no Route 53 health checks', 'PB-5');
  const dp = dataPlaneOf(ctx, signalRegion);
  const names = new Map(setIdentifiers.map((id) => [id, verdictResources(ctx.policyKey, id, dp)]));

  for (const [id, res] of names) {
    await call(
      ctx,
      { service: 'cloudwatch', operation: 'PutMetricAlarm', region: signalRegion, write: true, idempotent: true },
      (signal) =>
        verdictsApi(ctx).putVerdictAlarm(
          {
            region: signalRegion,
            name: res.alarmName,
            namespace: dp.namespace,
            metricName: res.metricName,
            dimensions: res.dimensions,
            periodSeconds: dp.periodSeconds,
            description: `failover-operator verdict for record ${id} of ${route53.recordName} (policy ${ctx.policyKey}): 1 drains it, 0 serves it`,
          },
          { signal },
        ),
    );
  }
  const at = ctx.clock.now();
  await call(
    ctx,
    { service: 'cloudwatch', operation: 'PutMetricData', region: signalRegion, write: true, idempotent: true },
    (signal) =>
      verdictsApi(ctx).publishVerdicts(
        signalRegion,
        dp.namespace,
        [...names.values()].map((res) => ({ metricName: res.metricName, dimensions: res.dimensions, value: 0, at })),
        { signal },
      ),
  );

  const checkIds = new Map<string, string>();
  for (const [id, res] of names) {
    const checkId = await call(
      ctx,
      {
        service: 'route53',
        operation: 'CreateHealthCheck',
        region: ROUTE53_CONTROL_PLANE_REGION,
        write: true,
        idempotent: true, // same caller reference: the same check
      },
      // CreateHealthCheck, then ChangeTagsForResource: the second waits for its own grant.
      (signal, nextRequest) =>
        healthChecks.createAlarmHealthCheck(
          {
            callerReference: res.callerReference,
            alarm: { region: signalRegion, name: res.alarmName },
            insufficientDataHealthStatus: dp.insufficientDataHealthStatus,
            tags: { ...res.tags, Name: `${route53.recordName} ${id}` },
          },
          { signal, nextRequest },
        ),
    );
    checkIds.set(id, checkId);
  }

  const current = await recordsBeforeChange(route53, setIdentifiers, ctx);
  const missing = setIdentifiers.filter((id) => !current.some((r) => r.setIdentifier === id));
  if (missing.length) throw new ActionRejected(`weighted records not found: ${missing.join(', ')}`, 'PB-5');
  const upserts = current
    .filter((r) => r.setIdentifier !== undefined && checkIds.has(r.setIdentifier))
    .filter((r) => r.healthCheckId !== checkIds.get(r.setIdentifier!))
    .map((r) => ({ ...r, healthCheckId: checkIds.get(r.setIdentifier!)! }));
  const attached = [...checkIds].map(([id, check]) => `${id}=${check}`).join(' ');
  if (upserts.length === 0) return { detail: `health checks already attached (${attached})` };
  const batches = splitIntoChangeBatches(upserts, (r) => r.weight);
  let changeId = '';
  for (const batch of batches) changeId = await upsert(route53.hostedZoneId, batch, planned, ctx, batches.length === 1);
  return handBackPending(changeId, `attached health checks ${attached} following alarms in ${signalRegion}`, ctx);
}

/** PB-7: point the writer record at one endpoint (fencing the old primary, or naming the promoted one). */
async function setWriterRecord(planned: PlannedAction, value: string, ctx: ActionContext): Promise<ActionOutcome> {
  const route53 = route53Of(ctx);
  const writer = route53.writerRecord;
  if (writer === undefined) throw new ActionRejected('policy has no spec.traffic.route53.writerRecord', 'PB-7');
  const record: DnsRecord = { name: writer.recordName, type: writer.type, ttl: writer.ttl, values: [value] };
  const changeId = await upsert(writer.hostedZoneId ?? route53.hostedZoneId, [record], planned, ctx, true);
  return handBackPending(changeId, `pointed ${writer.recordName} at ${value}`, ctx);
}

function upsert(
  hostedZoneId: string,
  records: DnsRecord[],
  planned: PlannedAction,
  ctx: ActionContext,
  mayShareBatch: boolean,
): Promise<string> {
  const comment = `failover-operator ${planned.rule} ${planned.id}`.slice(0, 256);
  // Dry run stays on the direct path: the pipeline's dry-run guard refuses it there.
  if (ctx.coalescer !== undefined && mayShareBatch && ctx.policy.spec.dryRun !== true) {
    const maxWritesPerMinute = ctx.policy.spec.guardrails?.maxWritesPerMinute;
    return ctx.coalescer.submit({
      hostedZoneId,
      records,
      comment,
      policy: ctx.policyKey,
      ...(maxWritesPerMinute !== undefined && { maxWritesPerMinute }),
      signal: ctx.signal,
    });
  }
  return call(
    ctx,
    {
      service: 'route53',
      operation: 'ChangeResourceRecordSets',
      region: ROUTE53_CONTROL_PLANE_REGION,
      write: true,
      idempotent: true, // UPSERT of the same values is a no-op
    },
    (signal) => ctx.cloud.dns.upsertRecords(hostedZoneId, records, comment, { signal }),
  );
}

/**
 * Hands the accepted change back at once: the worker is never held while Route 53 propagates it (PENDING, typically
 * tens of seconds, and minutes when its control plane is struggling). With 16 workers and 100 policies draining
 * together, holding each worker for INSYNC put the last drain many batches behind the first. The journal records
 * the change id; the engine keeps it as the policy's pending change and reads its status on the next reconcile,
 * `dnsPollIntervalMs` later (one GetChange per change id, shared by every policy in its batch). The detail never
 * says INSYNC: the planner reads a fence as propagated only from the observed status (database-failover.ts).
 */
function handBackPending(changeId: string, what: string, ctx: ActionContext): ActionOutcome {
  return {
    detail: `${what}; change ${changeId} accepted, PENDING until Route 53 reports it propagated`,
    requestToken: changeId,
    settleAfterMs: ctx.settle.dnsPollIntervalMs,
    pendingDnsChange: changeId,
  };
}

/**
 * PB-6/PB-7: a promotion is never issued twice. The replica is described first: one that no longer replicates
 * from a source has been promoted already; one that is `modifying`/`rebooting` while the journal shows our promotion
 * Pending is mid-promotion (the previous run made the call, then stopped). Either way the call is not repeated.
 * Otherwise the promotion lock is taken (#14), and only then is PromoteReadReplica sent.
 */
async function promoteReplica(
  action: Extract<PlannedAction['action'], { kind: 'PromoteReplica' }>,
  ctx: ActionContext,
): Promise<ActionOutcome> {
  const { region, dbInstanceIdentifier: id, backupRetentionPeriod } = action;
  const db = await describeDb(region, id, ctx);
  const settleAfterMs = ctx.settle.promotionRequeueAfterMs;
  if (db.replicaSourceId === undefined) {
    return db.status === 'available'
      ? { detail: `${id} already promoted (observed: no replication source)` }
      : { detail: `${id} already promoted, status ${db.status}`, settleAfterMs };
  }
  if (ctx.resuming && (db.status === 'modifying' || db.status === 'rebooting')) {
    return { detail: `${id} promotion already in progress (observed status ${db.status})`, settleAfterMs };
  }
  const locked = ctx.promotionLock === undefined ? '' : await takePromotionLock(action, ctx.promotionLock, ctx);
  await call(ctx, { service: 'rds', operation: 'PromoteReadReplica', region, zone: db.zone, write: true }, (signal) =>
    ctx.cloud.databases.promoteReadReplica(region, id, backupRetentionPeriod, { signal }),
  );
  return { detail: `started promotion of ${id}${locked}`, settleAfterMs };
}

/** The lock's key: the writer failed away from, by incarnation (docs/failover.md, "Promotion lock"). */
export function promotionLockKey(from: { region: RegionName; dbInstanceIdentifier: string }, resourceId: string) {
  return `rds#${from.region}#${from.dbInstanceIdentifier}#${resourceId}`;
}

/**
 * Takes the promotion lock or throws: PromotionLockRefused when it is held for another replica (terminal, the holder
 * named), PromotionNotSent when it cannot be taken now (fail closed: no lock, no promotion; retried later). The
 * writer's DbiResourceId comes from the plan (its last observation); when it was never observed, the writer is
 * described now — in a region that is down that fails too, and nothing is promoted.
 */
async function takePromotionLock(
  action: Extract<PlannedAction['action'], { kind: 'PromoteReplica' }>,
  promotionLock: { lock: PromotionLock; vantage: string; holder: string },
  ctx: ActionContext,
): Promise<string> {
  const { lock, vantage, holder } = promotionLock;
  const target = `${action.region}/${action.dbInstanceIdentifier}`;
  const lockRegion = lock.regionFor(action.region);
  const from = action.from;
  const where = `promotion lock ${lock.table} in ${lockRegion}`;
  const notSent = (why: string, cause?: unknown) =>
    new PromotionNotSent(`${PROMOTION_NOT_SENT}${why}; no promotion of ${target} without the ${where}`, { cause });
  if (from === undefined) throw notSent('the plan does not name the writer failed away from');
  const fromName = `${from.region}/${from.dbInstanceIdentifier}`;
  try {
    const resourceId = from.resourceId ?? (await describeDb(from.region, from.dbInstanceIdentifier, ctx)).resourceId;
    if (resourceId === undefined) throw notSent(`${fromName} has no DbiResourceId to key the lock with`);
    const key = promotionLockKey(from, resourceId);
    const outcome = await call(
      ctx,
      {
        service: 'dynamodb',
        operation: 'PutItem',
        region: lockRegion,
        write: true,
        idempotent: true, // the same claim again passes its own condition
      },
      // PutItem, and GetItem when refused: the second waits for its own grant.
      (signal, nextRequest) =>
        lock.acquire(
          lockRegion,
          { key, target, vantage, holder, epoch: action.epoch ?? 'unknown', acquiredAt: ctx.clock.now() },
          { signal, nextRequest },
        ),
    );
    if (!outcome.acquired) {
      const h = outcome.holder;
      throw new PromotionLockRefused(
        `promotion of ${target} refused: the failover away from ${fromName} (${resourceId}) was already taken by vantage ${h.vantage ?? 'unknown'} for ${h.target === target ? 'the same replica' : h.target} at ${h.acquiredAt ?? 'an unknown time'}${h.epoch === undefined ? '' : ` (epoch ${h.epoch})`} (${where})`,
        action.region,
      );
    }
    const before = outcome.heldBefore;
    return before === undefined
      ? `; took the ${where} (${key})`
      : `; ${where} (${key}) already held for ${target} by vantage ${before.vantage ?? 'unknown'} since ${before.acquiredAt ?? 'an unknown time'}`;
  } catch (err) {
    if (err instanceof PromotionLockRefused || err instanceof PromotionNotSent) throw err;
    // Cancelled, or no longer the leader: unchanged, as for every call (the executor leaves the entry Pending).
    if (ctx.signal.aborted || err instanceof LeadershipExpiredError) throw err;
    const why = err instanceof Error ? errorText(err) : String(err);
    throw notSent(`the ${where} could not be taken (${why})`, err);
  }
}

async function describeDb(region: RegionName, id: string, ctx: ActionContext) {
  const db = await call(ctx, { service: 'rds', operation: 'DescribeDBInstances', region, write: false }, (signal) =>
    ctx.cloud.databases.describeInstance(region, id, { signal }),
  );
  if (db === undefined) {
    throw new CloudError({
      kind: 'not-found',
      service: 'rds',
      operation: 'DescribeDBInstances',
      code: 'DBInstanceNotFound',
      message: `${id} not found in ${region}`,
    });
  }
  return db;
}

function formatWeights(weights: Record<string, number>): string {
  return Object.entries(weights)
    .map(([id, w]) => `${id}=${w}`)
    .join(' ');
}
