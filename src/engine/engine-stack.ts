// Assembles the operator's engine from its parts — call pipeline (guardrails), executor, probe scheduler, API
// call statistics, the shared Route 53 read cache and the policy engine — the same way for the in-cluster operator
// (src/main.ts) and for the embedded simulation (src/simulate), so both run exactly the same logic against
// different clouds and clocks.

import type { Logger } from 'pino';
import { type CallPipeline, createCallPipeline } from '../act/call-pipeline.ts';
import { type ChangeCoalescer, createChangeCoalescer } from '../act/change-coalescer.ts';
import { createExecutor, type Executor } from '../act/executor.ts';
import type { JournalStore } from '../act/journal-store.ts';
import { DEFAULT_SETTLE_OPTIONS } from '../act/perform-action.ts';
import { createRateLimiter, DEFAULT_ROUTE53_REQUESTS_PER_SECOND, route53Limits } from '../act/rate-limit.ts';
import type { EventSink } from '../act/trail.ts';
import type { Clock } from '../clock.ts';
import type { Cloud, PromotionLock } from '../cloud/types.ts';
import { type ApiCallStats, createApiCallStats } from '../health/api-call-stats.ts';
import type { FetchLike } from '../health/probe-http.ts';
import type { DatabaseConnector } from '../health/probe-rds-connect.ts';
import { createProbeScheduler, type ProbeScheduler } from '../health/probe-scheduler.ts';
import type { OperatorMetrics } from '../metrics/operator-metrics.ts';
import { createVerdictExchange, type VerdictExchange } from '../vantage/exchange.ts';
import type { OperatorVantage } from '../vantage/settings.ts';
import { createDataPlaneState } from './data-plane-state.ts';
import type { FailoverStore } from './failover-store.ts';
import { createPolicyEngine, type PolicyEngine, type PolicyEngineDeps } from './policy-engine.ts';
import { createRecordCache, type RecordCache, writeThrough } from './record-cache.ts';

export interface EngineStackDeps {
  cloud: Cloud;
  clock: Clock;
  logger: Logger;
  journalStore: JournalStore;
  /** Where status.failover is saved before each failover step (the controller: the policy's status). */
  failoverStore?: FailoverStore;
  isLeader: () => boolean;
  /**
   * Until when (clock ms) this process may write to AWS as leader (Manager.leadershipValidUntil): every AWS write
   * attempt is checked against it right before it goes out (src/act/leader-guard.ts). Absent in the simulation.
   */
  leadershipValidUntil?: () => number;
  /**
   * The current leadership term's signal (Manager.leadershipSignal): every AWS write — the coalescer's shared change
   * batches included — runs under it and stops when leadership ends. Absent in the simulation.
   */
  leadershipSignal?: () => AbortSignal;
  signal: AbortSignal;
  /**
   * This operator's share of its AWS account's Route 53 request rate (--route53-requests-per-second, PB-8): every
   * Route 53 call within it, reads within half of it (rate-limit.ts). Default 4 of the account's 5: the only
   * operator in the account.
   */
  route53RequestsPerSecond?: number;
  /** Source of jitter (retries, probe start offsets); seeded in the simulation. Default Math.random. */
  random?: () => number;
  /** Substitute for fetch in http probes (the simulation's endpoints). */
  fetch?: FetchLike;
  /** Substitute for the rds.connect probes' TCP connect (the simulation's databases). */
  connectDatabase?: DatabaseConnector;
  /** Where action Events go (Kubernetes Events in the cluster, the timeline in a simulation). */
  events?: EventSink;
  onHealthChange?: PolicyEngineDeps['onHealthChange'];
  /** Prometheus sinks (src/metrics): AWS calls, actions, health rounds, planner skips, journal. */
  metrics?: OperatorMetrics;
  /**
   * How long one listing of a hosted zone serves every policy's observation (record-cache.ts, PB-8). Default 5 s;
   * our own writes invalidate it at once, so this only bounds how late others' edits are seen.
   */
  recordCacheMaxAgeMs?: number;
  /**
   * The promotion lock (#14): a conditional write taken right before every PromoteReadReplica, so that operators
   * running the same policy promote one replica per failover. Absent: no lock (FO_PROMOTION_LOCK_TABLE unset).
   */
  promotionLock?: PromotionLock;
  /** This operator's name in the promotion lock (its identity). Default `failover-operator`. */
  vantage?: string;
  /**
   * Who holds the promotion lock, stable across restarts: the vantage name, else the Lease (`ns/name`). Default: the
   * vantage point's name, else `vantage`.
   */
  lockHolder?: string;
  /**
   * This operator as a vantage point (#14: --vantage, FO_VANTAGE): its verdicts are published to CloudWatch and its
   * peers' read back, and policies with spec.vantagePoints act on agreement. Needs cloud.verdicts.
   */
  vantagePoint?: OperatorVantage;
  /** Heartbeat of the verdict exchange. Default 10 s. */
  vantageHeartbeatMs?: number;
  /** A peer's verdict on a policy changed: reconcile it now. */
  onPeersChanged?: (key: string) => void;
  onAgreement?: PolicyEngineDeps['onAgreement'];
}

/**
 * The read before a weight change (perform-action.ts) is a live listing of the zone, never a finished one, but it
 * joins a listing in flight that started at most this long ago: the drains that start together (one AZ lost, every
 * policy on the zone decides at once) share one listing instead of one read each (PB-8).
 */
export const PRE_WRITE_READ_JOIN_WITHIN_MS = 1_000;

export interface EngineStack {
  engine: PolicyEngine;
  pipeline: CallPipeline;
  executor: Executor;
  scheduler: ProbeScheduler;
  apiStats: ApiCallStats;
  recordCache: RecordCache;
  coalescer: ChangeCoalescer;
  /** Present when the operator runs as a vantage point. */
  exchange?: VerdictExchange;
}

export function createEngineStack(deps: EngineStackDeps): EngineStack {
  const { clock, logger, journalStore, signal, metrics } = deps;
  const apiStats = createApiCallStats();
  // The PB-3 guard needs the engine's health view, and the engine needs the pipeline: bind late.
  let isZoneImpaired: (region: string, zone: string, policy?: string) => boolean = () => false;
  // Created here so the change coalescer can spend a policy's write budget in the same limiter (PB-8).
  const route53 = route53Limits(deps.route53RequestsPerSecond ?? DEFAULT_ROUTE53_REQUESTS_PER_SECOND);
  const rateLimiter = createRateLimiter(clock, { route53: route53.all }, route53.reads);
  const pipeline = createCallPipeline({
    clock,
    logger,
    rateLimiter,
    isZoneImpaired: (region, zone, policy) => isZoneImpaired(region, zone, policy),
    ...(deps.random ? { random: deps.random } : {}),
    ...(deps.leadershipValidUntil ? { leadershipValidUntil: deps.leadershipValidUntil } : {}),
    ...(deps.leadershipSignal ? { leadershipSignal: deps.leadershipSignal } : {}),
    ...(metrics ? { onBreakerStateChange: (state, breaker) => metrics.observeCircuitBreaker(breaker, state) } : {}),
    // Every attempt feeds the control-plane signal (PB-1): the operator's own API error rate and latency.
    onCall: (o) => {
      apiStats.record({
        service: o.service,
        operation: o.operation,
        region: o.region,
        ...(o.zone === undefined ? {} : { zone: o.zone }),
        ok: o.ok,
        latencyMs: o.latencyMs,
        at: clock.now(),
      });
      metrics?.observeAwsCall(o);
    },
  });
  // One Route 53 listing per hosted zone for every policy's observation; every write through this stack (the
  // executor's) invalidates the zone it changed, so the planner never sees weights from before our own write.
  const recordCache = createRecordCache({
    dns: deps.cloud.dns,
    pipeline,
    clock,
    logger,
    signal,
    ...(deps.recordCacheMaxAgeMs === undefined ? {} : { maxAgeMs: deps.recordCacheMaxAgeMs }),
  });
  // The data-plane path's shared state follows our own health-check and verdict writes (write-through as well).
  const dataPlane = createDataPlaneState({ cloud: deps.cloud, pipeline, now: () => clock.now() });
  const cloud: Cloud = {
    ...deps.cloud,
    dns: writeThrough(deps.cloud.dns, recordCache),
    ...(dataPlane.healthChecks ? { healthChecks: dataPlane.healthChecks } : {}),
    ...(dataPlane.verdicts ? { verdicts: dataPlane.verdicts } : {}),
  };
  // Drains of many policies on one hosted zone share change batches and GetChange polls; its writes go through
  // the cache like every other (write-through).
  const coalescer = createChangeCoalescer({ dns: cloud.dns, pipeline, rateLimiter, clock, logger, signal });
  const executor = createExecutor({
    cloud,
    pipeline,
    clock,
    logger,
    journalStore,
    coalescer,
    currentRecords: (hostedZoneId, name, type, readSignal) =>
      recordCache.records(hostedZoneId, name, type, {
        signal: readSignal,
        live: { joinWithinMs: PRE_WRITE_READ_JOIN_WITHIN_MS },
      }),
    ...(deps.events ? { events: deps.events } : {}),
    ...(metrics ? { metrics } : {}),
    ...(deps.promotionLock
      ? {
          promotionLock: {
            lock: deps.promotionLock,
            vantage: deps.vantage ?? 'failover-operator',
            holder: deps.lockHolder ?? deps.vantagePoint?.name ?? deps.vantage ?? 'failover-operator',
          },
        }
      : {}),
  });
  const scheduler = createProbeScheduler({ clock, signal, logger, ...(deps.random ? { random: deps.random } : {}) });
  if (deps.vantagePoint && !cloud.verdicts) {
    throw new Error('a vantage point needs CloudWatch (cloud.verdicts) to publish and read verdicts');
  }
  const exchange =
    deps.vantagePoint && cloud.verdicts
      ? createVerdictExchange({
          self: deps.vantagePoint,
          verdicts: cloud.verdicts,
          pipeline,
          clock,
          logger,
          isLeader: deps.isLeader,
          signal,
          ...(deps.vantageHeartbeatMs === undefined ? {} : { heartbeatMs: deps.vantageHeartbeatMs }),
          ...(deps.onPeersChanged ? { onPeersChanged: deps.onPeersChanged } : {}),
        })
      : undefined;
  const engine = createPolicyEngine({
    cloud,
    pipeline,
    executor,
    journalStore,
    ...(deps.failoverStore ? { failoverStore: deps.failoverStore } : {}),
    scheduler,
    apiStats,
    clock,
    logger,
    isLeader: deps.isLeader,
    signal,
    ...(deps.random ? { random: deps.random } : {}),
    recordCache,
    dataPlane,
    // The pending change of a drain (handed back at once, perform-action.ts) and a fence's change: one GetChange per
    // change id and poll interval for every policy in its batch, not one per policy.
    changeStatus: (changeId, readSignal) =>
      coalescer.changeStatus(changeId, { signal: readSignal, maxAgeMs: DEFAULT_SETTLE_OPTIONS.dnsPollIntervalMs }),
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    ...(deps.connectDatabase ? { connectDatabase: deps.connectDatabase } : {}),
    ...(deps.onHealthChange ? { onHealthChange: deps.onHealthChange } : {}),
    ...(exchange ? { exchange } : {}),
    ...(deps.onAgreement ? { onAgreement: deps.onAgreement } : {}),
    ...(metrics ? { onRound: (key, results, view) => metrics.observeHealthRound(key, results, view) } : {}),
  });
  isZoneImpaired = (region, zone, policy) => engine.isZoneImpaired(region, zone, policy);
  return {
    engine: metrics ? withMetrics(engine, metrics) : engine,
    pipeline,
    executor,
    scheduler,
    apiStats,
    recordCache,
    coalescer,
    ...(exchange ? { exchange } : {}),
  };
}

/**
 * Records each reconcile's planner skips, journal, weights and replica lag, and drops a policy's series once it is no
 * longer tracked (and what a reconcile still in flight then reports: OperatorMetrics.forgetPolicy).
 */
export function withMetrics(engine: PolicyEngine, metrics: OperatorMetrics): PolicyEngine {
  return {
    ...engine,
    track(key, policy) {
      metrics.trackPolicy(key);
      engine.track(key, policy);
    },
    untrack(key) {
      const wasTracked = engine.healthOf(key) !== undefined;
      engine.untrack(key);
      if (wasTracked) void metrics.forgetPolicy(key);
    },
    async reconcile(key, policy, signal) {
      const output = await engine.reconcile(key, policy, signal);
      if (output.plan) metrics.observeSkippedActions(key, output.plan.skipped);
      metrics.observeJournal(key, output.status.journal ?? []);
      if (output.status.weights) metrics.observeWeights(key, output.status.weights);
      if (output.observation) metrics.observeReplicaLag(key, output.observation.databases);
      return output;
    },
  };
}
