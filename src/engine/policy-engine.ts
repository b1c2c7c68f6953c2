// The operator's engine for every policy it tracks: observe → decide → act, shared by the Kubernetes controller
// (src/controller) and the embedded simulation (src/simulate). Neither knows how the other stores policies; both
// call `track` when a policy appears or changes and `reconcile` when it is due.
//
// Two loops per policy, deliberately separate:
// - the HEALTH loop folds probe results into zone/region state once per interval, on every replica (followers
//   keep probes warm, so a new leader acts on history, not on a blank slate). A state transition asks the owner
//   to reconcile now (`onHealthChange`), so detection → action does not wait for the next resync;
// - RECONCILE is level-based: it reads the cloud, plans from (policy, health, cloud, journal, requests, now), and —
//   only on the leader, never in dry run — executes the plan. Its result is the new status and when to come back.

import type { Logger } from 'pino';
import type { CallPipeline } from '../act/call-pipeline.ts';
import type { ExecutionResult, Executor } from '../act/executor.ts';
import type { JournalEntry } from '../act/journal.ts';
import type { JournalStore } from '../act/journal-store.ts';
import type { FailoverPolicy, FailoverPolicyStatus } from '../api/index.ts';
import type { Clock } from '../clock.ts';
import type { Cloud, RegionName, ZoneName } from '../cloud/types.ts';
import { plan as makePlan } from '../decide/planner.ts';
import type { CloudObservation, Plan } from '../decide/types.ts';
import type { ApiCallStats } from '../health/api-call-stats.ts';
import {
  createHealthState,
  type HealthSettings,
  type HealthState,
  healthView,
  observeRound,
  resolveHealthSettings,
  type ZoneRef,
} from '../health/health-model.ts';
import { probesForPolicy } from '../health/policy-probes.ts';
import type { FetchLike } from '../health/probe-http.ts';
import type { ProbeScheduler } from '../health/probe-scheduler.ts';
import { createRoundCollector, type RoundCollector } from '../health/probe-scheduler.ts';
import type { HealthTransition, HealthView, ProbeResult } from '../health/types.ts';
import { observeCloud } from './observe-cloud.ts';
import { operatorRequestsFor } from './operator-requests.ts';
import { buildPolicyStatus } from './policy-status.ts';

export interface PolicyEngineDeps {
  cloud: Cloud;
  pipeline: CallPipeline;
  executor: Executor;
  journalStore: JournalStore;
  scheduler: ProbeScheduler;
  apiStats: ApiCallStats;
  clock: Clock;
  logger: Logger;
  /** Only the leader writes to AWS (Lease, DESIGN "Leader election"). */
  isLeader: () => boolean;
  fetch?: FetchLike;
  /** Health changed for a policy: emit Events and reconcile it now. */
  onHealthChange?: (key: string, transitions: HealthTransition[], view: HealthView) => void;
  /** Every health round of a policy, transitions or not: its probe results and the new view (metrics). */
  onRound?: (key: string, results: readonly ProbeResult[], view: HealthView) => void;
  /** Stops every health loop. */
  signal: AbortSignal;
}

export interface ReconcileOutput {
  status: FailoverPolicyStatus;
  plan?: Plan;
  observation?: CloudObservation;
  execution?: ExecutionResult;
  requeueAfterMs: number;
}

export interface PolicyEngine {
  /** Starts (or, when the spec changed, restarts) probes and the health loop for a policy. Idempotent. */
  track(key: string, policy: FailoverPolicy): void;
  /** Stops probing a deleted policy. AWS state is left exactly as it is. */
  untrack(key: string): void;
  reconcile(key: string, policy: FailoverPolicy, signal: AbortSignal): Promise<ReconcileOutput>;
  /** Dry run of what the engine would do now (failoverctl plan, DryRun drills): plans, never executes. */
  preview(
    key: string,
    policy: FailoverPolicy,
    signal: AbortSignal,
  ): Promise<{ plan: Plan; observation: CloudObservation; view: HealthView }>;
  healthOf(key: string): HealthView | undefined;
  /** PB-3 guard input: is this zone Impaired for any tracked policy? */
  isZoneImpaired(region: RegionName, zone: ZoneName): boolean;
  /** Live drills: treat these zones as failed in the probe layer until cleared (PB-12). */
  injectZoneFailure(key: string, zones: ZoneName[], reason: string): void;
  clearInjectedFailures(key: string): void;
}

interface Tracked {
  key: string;
  fingerprint: string;
  policy: FailoverPolicy;
  settings: HealthSettings;
  state: HealthState;
  view: HealthView;
  collector: RoundCollector;
  writerZone?: ZoneRef;
  injected?: { zones: ZoneName[]; reason: string };
  stop: AbortController;
}

/** Probe- and health-relevant parts of the spec; a change to these restarts the policy's probes. */
const fingerprints = new WeakMap<object, string>();
function healthFingerprint(policy: FailoverPolicy): string {
  const cached = fingerprints.get(policy.spec);
  if (cached !== undefined) return cached;
  const { regions, probes, health, database } = policy.spec;
  const fingerprint = JSON.stringify({ regions, probes, health, database });
  fingerprints.set(policy.spec, fingerprint);
  return fingerprint;
}

/** Resync period of a quiet policy: health transitions wake it sooner (onHealthChange). */
export const STEADY_RESYNC_MS = 60_000;
/** While something is going on (a zone drained, a gate holding) the engine looks again this often. */
export const ACTIVE_RESYNC_MS = 15_000;

/**
 * When to reconcile again. Level-based reconciles are cheap to repeat but not free: each one reads Route 53,
 * whose API allows 5 requests/second for the whole account (PB-8). So a quiet policy resyncs once a minute and
 * relies on health transitions to wake it; an active one comes back sooner, when an action settles or a gate
 * (cooldown, recovery window) is due to open.
 */
export function nextReconcileIn(
  plan: Plan,
  execution: ExecutionResult | undefined,
  intervalMs: number,
  now: number,
): number {
  const candidates = [plan.phase === 'Healthy' && plan.gates.length === 0 ? STEADY_RESYNC_MS : ACTIVE_RESYNC_MS];
  if (execution?.requeueAfterMs !== undefined) candidates.push(execution.requeueAfterMs);
  if ((execution?.deferred.length ?? 0) > 0 || execution?.failed !== undefined) candidates.push(intervalMs);
  for (const g of plan.gates) if (g.until !== undefined) candidates.push(Math.max(intervalMs, g.until - now));
  return Math.max(Math.min(...candidates), Math.min(intervalMs, 1000));
}

export function createPolicyEngine(deps: PolicyEngineDeps): PolicyEngine {
  const { clock, logger } = deps;
  const tracked = new Map<string, Tracked>();

  function topologyOf(policy: FailoverPolicy) {
    return { regions: policy.spec.regions.map((r) => ({ name: r.name, zones: [...r.zones] })) };
  }

  function startHealthLoop(t: Tracked): void {
    const signal = AbortSignal.any([deps.signal, t.stop.signal]);
    const unsubscribes = probesForPolicy(t.policy.spec, {
      cloud: deps.cloud,
      apiCallStats: deps.apiStats,
      now: () => clock.now(),
      ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
    }).map(({ name, probe }) =>
      deps.scheduler.subscribe({
        name,
        probe,
        intervalMs: t.settings.intervalMs,
        onResults: (results) => t.collector.add(results),
      }),
    );
    signal.addEventListener('abort', () => {
      for (const u of unsubscribes) u();
    });
    void (async () => {
      while (!signal.aborted) {
        try {
          await clock.sleep(t.settings.intervalMs, signal);
        } catch {
          return; // aborted
        }
        const now = clock.now();
        const results = [...t.collector.drain(), ...injectedResults(t, now)];
        const outcome = observeRound(
          t.state,
          t.settings,
          results,
          now,
          t.writerZone ? { writerZone: t.writerZone } : {},
        );
        t.state = outcome.state;
        t.view = outcome.view;
        deps.onRound?.(t.key, results, outcome.view);
        if (outcome.transitions.length > 0) {
          for (const tr of outcome.transitions) {
            logger.info(
              {
                policy: t.key,
                scope: tr.scope,
                name: tr.name,
                region: tr.region,
                from: tr.from,
                to: tr.to,
                rule: tr.to === 'Healthy' ? 'PB-9' : 'PB-2',
                reasons: tr.reasons,
              },
              `${tr.scope} ${tr.name} changed from ${tr.from} to ${tr.to}`,
            );
          }
          deps.onHealthChange?.(t.key, outcome.transitions, outcome.view);
        }
      }
    })();
  }

  function injectedResults(t: Tracked, now: number): ProbeResult[] {
    if (!t.injected) return [];
    const zones = new Set(t.injected.zones);
    return t.policy.spec.regions.flatMap((r) =>
      r.zones
        .filter((z) => zones.has(z))
        .map(
          (zone): ProbeResult => ({
            probe: 'drill',
            kind: 'http',
            region: r.name,
            zone,
            ok: false,
            severity: 'down',
            at: now,
            detail: `drill: zone treated as failed (${t.injected?.reason ?? 'drill'})`,
            source: 'operator',
          }),
        ),
    );
  }

  function track(key: string, policy: FailoverPolicy): Tracked {
    const fingerprint = healthFingerprint(policy);
    const existing = tracked.get(key);
    if (existing && existing.fingerprint === fingerprint) {
      existing.policy = policy;
      return existing;
    }
    existing?.stop.abort();
    const settings = resolveHealthSettings(policy.spec.health);
    const now = clock.now();
    const state = createHealthState(settings, topologyOf(policy), now);
    const t: Tracked = {
      key,
      fingerprint,
      policy,
      settings,
      state,
      view: healthView(state, now),
      collector: createRoundCollector(),
      stop: new AbortController(),
      ...(existing?.injected ? { injected: existing.injected } : {}),
    };
    tracked.set(key, t);
    startHealthLoop(t);
    logger.info(
      { policy: key, probes: policy.spec.probes.length, intervalMs: settings.intervalMs },
      'started probing policy',
    );
    return t;
  }

  async function planNow(key: string, policy: FailoverPolicy, signal: AbortSignal) {
    const t = track(key, policy);
    const observation = await observeCloud(
      key,
      policy,
      { cloud: deps.cloud, pipeline: deps.pipeline, now: () => clock.now() },
      signal,
    );
    const writer = observation.databases.find((d) => d.replicaSourceId === undefined && d.status === 'available');
    if (writer?.zone) t.writerZone = { region: writer.region, zone: writer.zone };
    const journal = (await deps.journalStore.load(key)) as JournalEntry[];
    const now = clock.now();
    const plan = makePlan({
      policy,
      health: t.view,
      cloud: observation,
      journal,
      requests: operatorRequestsFor(policy, now),
      now,
    });
    return { t, observation, journal, plan, now };
  }

  return {
    track(key, policy) {
      track(key, policy);
    },
    untrack(key) {
      const t = tracked.get(key);
      if (!t) return;
      t.stop.abort();
      tracked.delete(key);
      logger.info({ policy: key }, 'stopped probing policy; AWS state left as it is');
    },
    async reconcile(key, policy, signal) {
      const { t, observation, plan } = await planNow(key, policy, signal);
      const leader = deps.isLeader();
      const acted = leader && !policy.spec.dryRun;
      // Followers only plan (their status is not written); a dry-run policy's leader reports what it would do.
      const execution = leader ? await deps.executor.execute(key, policy, plan, { signal, dryRun: !acted }) : undefined;
      const journal = (await deps.journalStore.load(key)) as JournalEntry[];
      const status = buildPolicyStatus({
        policy,
        view: t.view,
        observation,
        plan,
        ...(execution ? { execution } : {}),
        journal,
        now: clock.now(),
        acted,
      });
      const requeueAfterMs = nextReconcileIn(plan, execution, t.settings.intervalMs, clock.now());
      return { status, plan, observation, ...(execution ? { execution } : {}), requeueAfterMs };
    },
    async preview(key, policy, signal) {
      const { t, observation, plan } = await planNow(key, policy, signal);
      return { plan, observation, view: t.view };
    },
    healthOf(key) {
      return tracked.get(key)?.view;
    },
    isZoneImpaired(region, zone) {
      for (const t of tracked.values()) {
        if (t.view.zones.some((z) => z.region === region && z.name === zone && z.state === 'Impaired')) return true;
      }
      return false;
    },
    injectZoneFailure(key, zones, reason) {
      const t = tracked.get(key);
      if (t) t.injected = { zones: [...zones], reason };
    },
    clearInjectedFailures(key) {
      const t = tracked.get(key);
      if (t) delete t.injected;
    },
  };
}
