// The operator's engine for every policy it tracks: observe → decide → act, shared by the Kubernetes controller
// (src/controller) and the embedded simulation (src/simulate). Neither knows how the other stores policies; both
// call `track` when a policy appears or changes and `reconcile` when it is due.
//
// Two loops per policy, deliberately separate:
// - the HEALTH loop folds each batch of probe results into zone/region state the moment the scheduler delivers it
//   (no round timer: a timer's phase would add up to one interval to detection, PB-1), on every replica (followers
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
import {
  type Cloud,
  type DnsChangeStatus,
  type RegionName,
  ROUTE53_CONTROL_PLANE_REGION,
  type ZoneName,
} from '../cloud/types.ts';
import { fingerprint, weightsId } from '../decide/action-ids.ts';
import { isWritablePrimary } from '../decide/database-failover.ts';
import { readJournal } from '../decide/journal-view.ts';
import { plan as makePlan } from '../decide/planner.ts';
import type { CloudObservation, FailoverState, OperatorRequests, Plan, PlannedAction } from '../decide/types.ts';
import type { ApiCallStats } from '../health/api-call-stats.ts';
import {
  createHealthState,
  type HealthSettings,
  type HealthState,
  healthView,
  observeResults,
  resolveHealthSettings,
  type ZoneRef,
} from '../health/health-model.ts';
import { probesForPolicy } from '../health/policy-probes.ts';
import type { FetchLike } from '../health/probe-http.ts';
import type { DatabaseConnector } from '../health/probe-rds-connect.ts';
import type { ProbeScheduler } from '../health/probe-scheduler.ts';
import type { HealthTransition, HealthView, ProbeResult } from '../health/types.ts';
import { type AgreementResult, agree, type VantageSettings } from '../vantage/agreement.ts';
import type { VerdictExchange } from '../vantage/exchange.ts';
import { vantageMembership } from '../vantage/settings.ts';
import { vantageStatus } from '../vantage/status.ts';
import type { DataPlaneState } from './data-plane-state.ts';
import { createInMemoryFailoverStore, type FailoverStore, sameFailoverState } from './failover-store.ts';
import { observeCloud } from './observe-cloud.ts';
import { operatorRequestsFor } from './operator-requests.ts';
import { buildPolicyStatus } from './policy-status.ts';
import { pipelinedProbeCloud } from './probe-cloud.ts';
import type { RecordCache } from './record-cache.ts';
import { createResourceIdMemory } from './resource-id-memory.ts';

export interface PolicyEngineDeps {
  cloud: Cloud;
  pipeline: CallPipeline;
  executor: Executor;
  journalStore: JournalStore;
  /**
   * Where status.failover is kept (the controller: the policy's status). A changed failover state is saved here
   * BEFORE the plan's actions run. Default: in memory, falling back to the policy's status.
   */
  failoverStore?: FailoverStore;
  scheduler: ProbeScheduler;
  apiStats: ApiCallStats;
  clock: Clock;
  logger: Logger;
  /** Only the leader writes to AWS (Lease, DESIGN "Leader election"). */
  isLeader: () => boolean;
  fetch?: FetchLike;
  /** Substitute for the rds.connect probes' TCP connect (the simulation's databases). */
  connectDatabase?: DatabaseConnector;
  /** Shared Route 53 read cache for observations (record-cache.ts, PB-8); without it each policy reads its own. */
  recordCache?: RecordCache;
  /** The data-plane path's shared state (data-plane-state.ts); without it no policy observes that path. */
  dataPlane?: DataPlaneState;
  /**
   * A Route 53 change's status, shared by every policy waiting on the same change id (the change coalescer's
   * GetChange: one request per change and poll interval, PB-8). Without it each policy reads its own.
   */
  changeStatus?: (changeId: string, signal: AbortSignal) => Promise<DnsChangeStatus>;
  /** Health changed for a policy: emit Events and reconcile it now. */
  onHealthChange?: (key: string, transitions: HealthTransition[], view: HealthView) => void;
  /**
   * Every batch of probe results folded into a policy's health (as delivered, plus the drill's injected results
   * once per interval), transitions or not: the batch and the new view (metrics count each result once).
   */
  onRound?: (key: string, results: readonly ProbeResult[], view: HealthView) => void;
  /**
   * The verdict exchange when this operator is a vantage point (#14): a policy with spec.vantagePoints publishes its
   * real-probe health there and plans from the agreement of its members (src/vantage/agreement.ts).
   */
  exchange?: VerdictExchange;
  /** Each reconcile's agreement of a vantage policy, with the previous one (Events: who agreed, who acts). */
  onAgreement?: (
    key: string,
    agreement: AgreementResult,
    previous: AgreementResult | undefined,
    settings: VantageSettings,
  ) => void;
  /** Stops every health loop. */
  signal: AbortSignal;
  /** Jitter source (resync spreading); seeded in the simulation. Default Math.random. */
  random?: () => number;
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
  /**
   * The health from real probe results only: a second model state that never sees a drill's injected results
   * (so a drill can tell its injected outage from a real one). Equal to healthOf while nothing was injected.
   */
  realHealthOf(key: string): HealthView | undefined;
  /**
   * PB-3 guard input: is this zone Impaired in this policy's health (a tracked policy), else in any tracked
   * policy's? One tenant's failing probes never block another tenant's remediation.
   */
  isZoneImpaired(region: RegionName, zone: ZoneName, policyKey?: string): boolean;
  /**
   * Live drills: treat these zones as failed in the probe layer until cleared (PB-12). The rehearsed outage never
   * starts a database failover unless `drill.allowPromotion`, and then only with an approval.
   */
  injectZoneFailure(key: string, zones: ZoneName[], reason: string, drill?: LiveDrillRef): void;
  clearInjectedFailures(key: string): void;
  /**
   * Drill abort (PB-12): clears the injection AND drops what it did to the health model — the policy's health
   * becomes the real-probe health at once, without a recovery window (the zone never really failed). Transitions
   * are announced like any other (onHealthChange), so the policy is reconciled now.
   */
  forgetInjectedFailures(key: string): void;
  /**
   * Drill abort (PB-12): sets the policy's Route 53 weights back to `weights` through the executor (journaled
   * SetWeights: intent first, one UPSERT change batch, PB-8 guardrails). Leader only; never in dry run.
   */
  restoreWeights(
    key: string,
    policy: FailoverPolicy,
    weights: Readonly<Record<string, number>>,
    reason: string,
    signal: AbortSignal,
  ): Promise<ExecutionResult>;
}

/** The Live drill behind an injected failure. */
export interface LiveDrillRef {
  name: string;
  allowPromotion: boolean;
}

interface Tracked {
  key: string;
  fingerprint: string;
  /** The policy without its status: probes and peers read the spec, and status is the reconcile's own copy. */
  policy: FailoverPolicy;
  settings: HealthSettings;
  state: HealthState;
  view: HealthView;
  /** Real probe results only (realHealthOf); the same object as `state` until a drill injects results. */
  realState: HealthState;
  realView: HealthView;
  writerZone?: ZoneRef;
  /** A weight change the executor handed back before INSYNC: the next weight change waits for it (PB-8). */
  pendingDnsChange?: string;
  injected?: { zones: ZoneName[]; reason: string; drill?: LiveDrillRef };
  /** The last agreement planned from (vantage policies). */
  agreement?: AgreementResult;
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

/**
 * Quiet policies come back at STEADY_RESYNC_MS ± 10%: policies created or woken together would otherwise resync in
 * lockstep forever, a burst of observations every minute instead of a steady trickle (PB-8).
 */
export function jitterResync(ms: number, random: () => number): number {
  return ms >= STEADY_RESYNC_MS ? Math.round(ms * (0.9 + 0.2 * random())) : ms;
}

export function createPolicyEngine(deps: PolicyEngineDeps): PolicyEngine {
  const { clock, logger } = deps;
  const spreadResync = (ms: number) => jitterResync(ms, deps.random ?? Math.random);
  const tracked = new Map<string, Tracked>();
  // Probes read AWS through the call pipeline too (the probe profile: no retry, no breaker), PB-8 and PB-1.
  const probeCloud = pipelinedProbeCloud(deps.cloud, deps.pipeline);

  // One writer per policy at a time: a reconcile's plan-then-execute and a drill's weight restore must not
  // interleave, or a drain planned from the drill's injected health could land after the restore (PB-12).
  const policyLocks = new Map<string, Promise<unknown>>();
  function exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = policyLocks.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => {});
    policyLocks.set(key, tail);
    void tail.then(() => {
      if (policyLocks.get(key) === tail) policyLocks.delete(key);
    });
    return run;
  }

  function topologyOf(policy: FailoverPolicy) {
    return { regions: policy.spec.regions.map((r) => ({ name: r.name, zones: [...r.zones] })) };
  }

  function startHealthLoop(t: Tracked): void {
    const signal = AbortSignal.any([deps.signal, t.stop.signal]);
    const unsubscribes = probesForPolicy(t.policy.spec, {
      cloud: probeCloud,
      apiCallStats: deps.apiStats,
      now: () => clock.now(),
      ...(deps.fetch === undefined ? {} : { fetch: deps.fetch }),
      ...(deps.connectDatabase === undefined ? {} : { connectDatabase: deps.connectDatabase }),
    }).map(({ name, probe }) =>
      deps.scheduler.subscribe({
        name,
        probe,
        intervalMs: t.settings.intervalMs,
        onResults: (results) => {
          if (!signal.aborted) observeBatch(t, results, { real: true });
        },
      }),
    );
    signal.addEventListener('abort', () => {
      for (const u of unsubscribes) u();
    });
    // Live drills: the injected zones get a `down` result once per interval, into the main state only.
    void (async () => {
      while (!signal.aborted) {
        try {
          await clock.sleep(t.settings.intervalMs, signal);
        } catch {
          return; // aborted
        }
        const injected = injectedResults(t, clock.now());
        if (injected.length > 0) observeBatch(t, injected, { real: false });
      }
    })();
  }

  /** Folds one batch into the policy's health at once, reports it, and announces transitions (PB-1, PB-9). */
  function observeBatch(t: Tracked, results: readonly ProbeResult[], { real }: { real: boolean }): void {
    const now = clock.now();
    const options = t.writerZone ? { writerZone: t.writerZone } : {};
    const outcome = observeResults(t.state, t.settings, results, now, options);
    if (real) {
      // Until a drill injects results both states are one object, and the pure model gives the same answer: fold once.
      const realOutcome =
        t.realState === t.state ? outcome : observeResults(t.realState, t.settings, results, now, options);
      t.realState = realOutcome.state;
      t.realView = realOutcome.view;
    }
    t.state = outcome.state;
    t.view = outcome.view;
    // Peers hear the real-probe health only: a drill's injected outage is a rehearsal on this vantage, not a verdict.
    if (deps.exchange && t.policy.spec.vantagePoints) {
      deps.exchange.update(t.key, t.policy, t.realView, real && outcome.transitions.length > 0);
    }
    deps.onRound?.(t.key, results, outcome.view);
    if (outcome.transitions.length === 0) return;
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

  function track(key: string, validated: FailoverPolicy): Tracked {
    // Kept for as long as the policy is probed, one per policy: not its status (3 KB of conditions and zones).
    const { status: _status, ...policy } = validated;
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
    const view = healthView(state, now);
    const t: Tracked = {
      key,
      fingerprint,
      policy,
      settings,
      state,
      view,
      realState: state,
      realView: view,
      stop: new AbortController(),
      ...(existing?.injected ? { injected: existing.injected } : {}),
    };
    tracked.set(key, t);
    startHealthLoop(t);
    if (deps.exchange) {
      if (policy.spec.vantagePoints) deps.exchange.register(key, policy, t.realView);
      else deps.exchange.forget(key);
    }
    logger.info(
      { policy: key, probes: policy.spec.probes.length, intervalMs: settings.intervalMs },
      'started probing policy',
    );
    return t;
  }

  const failoverStore = deps.failoverStore ?? createInMemoryFailoverStore();

  // Each database's DbiResourceId as last described, for the promotion lock's key (resource-id-memory.ts).
  const resourceIds = createResourceIdMemory();

  async function reconcileNow(key: string, policy: FailoverPolicy, signal: AbortSignal): Promise<ReconcileOutput> {
    const { t, observation, plan, failover, agreement } = await planNow(key, policy, signal);
    if (agreement) {
      deps.onAgreement?.(key, agreement.result, t.agreement, agreement.settings);
      t.agreement = agreement.result;
    }
    const leader = deps.isLeader();
    const acted = leader && !policy.spec.dryRun;
    // The failover state machine is written BEFORE the step it records is taken (a crash between the two resumes
    // from the state, never from a journal that may have been trimmed). A failed save means no action this round.
    let recorded = failover;
    if (acted && plan.failover && !sameFailoverState(plan.failover, failover)) {
      await failoverStore.saveFailover(key, plan.failover);
      recorded = plan.failover;
      logger.info(
        {
          policy: key,
          epoch: plan.failover.epoch,
          phase: plan.failover.phase,
          from: plan.failover.from.dbInstanceIdentifier,
          to: plan.failover.to.dbInstanceIdentifier,
          rule: 'PB-6',
        },
        `failover ${plan.failover.epoch} ${plan.failover.phase}`,
      );
    }
    // Followers only plan (their status is not written); a dry-run policy's leader reports what it would do.
    const execution = leader ? await deps.executor.execute(key, policy, plan, { signal, dryRun: !acted }) : undefined;
    if (acted && execution?.pendingDnsChange !== undefined) t.pendingDnsChange = execution.pendingDnsChange;
    const journal = (await deps.journalStore.load(key)) as JournalEntry[];
    const built = buildPolicyStatus({
      policy,
      // A vantage policy reports the states it acts on (agreed); its own view is in status.vantages.disagreements.
      view: agreement?.view ?? t.view,
      observation,
      plan,
      ...(execution ? { execution } : {}),
      journal,
      ...(recorded ? { failover: recorded } : {}),
      now: clock.now(),
      acted,
    });
    const status = agreement
      ? { ...built, vantages: vantageStatus(agreement.settings, agreement.result, agreement.peers, clock.now()) }
      : built;
    const requeueAfterMs = spreadResync(nextReconcileIn(plan, execution, t.settings.intervalMs, clock.now()));
    return { status, plan, observation, ...(execution ? { execution } : {}), requeueAfterMs };
  }

  /** The failover's fence change, read with GetChange while the fence waits for INSYNC (PB-7). */
  function fenceChangeOf(
    key: string,
    failover: FailoverState | undefined,
    signal: AbortSignal,
  ): Promise<CloudObservation['fenceChange']> {
    const changeId = failover?.phase === 'AwaitingPropagation' ? failover.fence?.changeId : undefined;
    if (changeId === undefined || failover?.fence?.inSyncAt !== undefined) return Promise.resolve(undefined);
    return changeStatus(key, changeId, signal);
  }

  /**
   * A Route 53 change's status through the pipeline (shared by the policies of one change batch when the stack
   * provides `changeStatus`); undefined when it cannot be read (not known INSYNC).
   */
  async function changeStatus(
    key: string,
    changeId: string,
    signal: AbortSignal,
  ): Promise<{ id: string; status: 'PENDING' | 'INSYNC' } | undefined> {
    try {
      const status =
        deps.changeStatus !== undefined
          ? await deps.changeStatus(changeId, signal)
          : await deps.pipeline.call(
              {
                service: 'route53',
                operation: 'GetChange',
                region: ROUTE53_CONTROL_PLANE_REGION,
                write: false,
                policy: key,
                signal,
              },
              (s) => deps.cloud.dns.getChangeStatus(changeId, { signal: s }),
            );
      return { id: changeId, status };
    } catch (err) {
      // Not known to be INSYNC: the promotion keeps waiting (the gate says why).
      logger.warn(
        { policy: key, changeId, err: String(err) },
        'could not read a Route 53 change; what depends on it waits',
      );
      return undefined;
    }
  }

  function requestsFor(t: Tracked, policy: FailoverPolicy, now: number): OperatorRequests {
    const requests = operatorRequestsFor(policy, now);
    if (!t.injected) return requests;
    const drill = t.injected.drill ?? { name: t.injected.reason, allowPromotion: false };
    return { ...requests, liveDrill: { name: drill.name, allowPromotion: drill.allowPromotion } };
  }

  async function planNow(key: string, policy: FailoverPolicy, signal: AbortSignal) {
    const t = track(key, policy);
    const failover = (await failoverStore.loadFailover(key)) ?? policy.status?.failover;
    const [observed, fenceChange, pendingChange] = await Promise.all([
      observeCloud(
        key,
        policy,
        {
          cloud: deps.cloud,
          pipeline: deps.pipeline,
          now: () => clock.now(),
          ...(deps.recordCache ? { recordCache: deps.recordCache } : {}),
          ...(deps.dataPlane ? { dataPlane: deps.dataPlane } : {}),
        },
        signal,
        { health: t.view },
      ),
      fenceChangeOf(key, failover, signal),
      t.pendingDnsChange === undefined ? undefined : changeStatus(key, t.pendingDnsChange, signal),
    ]);
    if (pendingChange?.status === 'INSYNC') delete t.pendingDnsChange;
    const pendingDnsChange = t.pendingDnsChange;
    const observation: CloudObservation = {
      ...observed,
      databases: resourceIds.fill(observed.databases),
      ...(fenceChange ? { fenceChange } : {}),
      ...(pendingDnsChange === undefined ? {} : { pendingDnsChange }),
    };
    const writer = observation.databases.find((d) => isWritablePrimary(d) && d.status === 'available');
    if (writer?.zone) t.writerZone = { region: writer.region, zone: writer.zone };
    const journal = (await deps.journalStore.load(key)) as JournalEntry[];
    const agreement = await agreementFor(t, policy, signal);
    const now = clock.now();
    const plan = makePlan({
      policy,
      health: agreement?.view ?? t.view,
      cloud: observation,
      journal,
      requests: {
        ...requestsFor(t, policy, now),
        ...(agreement && agreement.result.capacityActor !== agreement.settings.self
          ? { capacityLeftTo: agreement.result.capacityActor }
          : {}),
        ...(agreement?.result.alone
          ? {
              vantageAlone: `only ${agreement.result.freshMembers} of ${agreement.settings.members.length} vantage points fresh (quorum ${agreement.settings.quorum})`,
            }
          : {}),
      },
      ...(failover ? { failover } : {}),
      now,
    });
    return { t, observation, journal, plan, now, failover, agreement };
  }

  /**
   * A vantage policy's health to plan from (#14): the agreement of its members over the REAL-probe health, with a
   * Live drill's injected zones laid over it (a drill rehearses on this vantage alone; its peers never hear of it).
   */
  async function agreementFor(t: Tracked, policy: FailoverPolicy, signal: AbortSignal) {
    const membership = vantageMembership(policy.spec, deps.exchange?.self);
    if (membership.kind === 'single') return undefined;
    if (membership.kind === 'not-a-member' || !deps.exchange) {
      throw new Error(membership.kind === 'not-a-member' ? membership.message : 'no verdict exchange');
    }
    // Followers plan from what the leader's reads left (they act on nothing and must not double the read cost).
    const peers = await deps.exchange.peers(t.key, signal, deps.isLeader() ? undefined : Number.POSITIVE_INFINITY);
    const result = agree(membership.settings, t.realView, peers, clock.now());
    let view = result.view;
    if (t.injected) {
      const injected = new Set(t.injected.zones);
      const drilled = (z: { name: string }) => injected.has(z.name);
      view = {
        ...view,
        zones: view.zones.map((z) =>
          drilled(z) ? (t.view.zones.find((m) => m.name === z.name && m.region === z.region) ?? z) : z,
        ),
        regions: view.regions.map((r) => {
          const main = t.view.regions.find((m) => m.name === r.name);
          return main && main.state !== r.state && t.view.zones.some((z) => z.region === r.name && drilled(z))
            ? main
            : r;
        }),
      };
    }
    return { settings: membership.settings, result, peers, view };
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
      deps.dataPlane?.forget(key);
      deps.exchange?.forget(key);
      logger.info({ policy: key }, 'stopped probing policy; AWS state left as it is');
    },
    reconcile(key, policy, signal) {
      return exclusive(key, () => reconcileNow(key, policy, signal));
    },
    async preview(key, policy, signal) {
      const { t, observation, plan } = await planNow(key, policy, signal);
      return { plan, observation, view: t.view };
    },
    healthOf(key) {
      return tracked.get(key)?.view;
    },
    realHealthOf(key) {
      return tracked.get(key)?.realView;
    },
    isZoneImpaired(region, zone, policyKey) {
      const own = policyKey === undefined ? undefined : tracked.get(policyKey);
      for (const t of own ? [own] : tracked.values()) {
        if (t.view.zones.some((z) => z.region === region && z.name === zone && z.state === 'Impaired')) return true;
      }
      return false;
    },
    injectZoneFailure(key, zones, reason, drill) {
      const t = tracked.get(key);
      if (t) t.injected = { zones: [...zones], reason, ...(drill ? { drill: { ...drill } } : {}) };
    },
    clearInjectedFailures(key) {
      const t = tracked.get(key);
      if (t) delete t.injected;
    },
    forgetInjectedFailures(key) {
      const t = tracked.get(key);
      if (!t) return;
      delete t.injected;
      const now = clock.now();
      const transitions = diffHealth(t.view, t.realView, now);
      t.state = t.realState;
      t.view = t.realView;
      if (transitions.length === 0) return;
      logger.info(
        { policy: key, zones: transitions.map((tr) => `${tr.name} ${tr.from}→${tr.to}`), rule: 'PB-12' },
        'forgot the drill-injected failure; health is the real-probe health again',
      );
      deps.onHealthChange?.(key, transitions, t.view);
    },
    restoreWeights(key, policy, weights, reason, signal) {
      return exclusive(key, async () => {
        if (!deps.isLeader()) throw new Error(`not the leader: restoring the weights of ${key} is left to the leader`);
        const route53 = policy.spec.traffic?.route53;
        if (!route53) return { done: [], skipped: [], alreadyDone: [], deferred: [] };
        const journal = (await deps.journalStore.load(key)) as JournalEntry[];
        const last = readJournal(journal).lastDone('SetWeights');
        const action: PlannedAction = {
          id: weightsId(`drill-${last ? fingerprint(last.id) : 'initial'}`, { ...weights }),
          action: { kind: 'SetWeights', weights: { ...weights } },
          rule: 'PB-12',
          target: route53.recordName,
          reason,
        };
        return deps.executor.execute(key, policy, { actions: [action] }, { signal, dryRun: false });
      });
    },
  };
}

/** Zone and region transitions from one view to another (drill abort: injected health → real health). */
function diffHealth(from: HealthView, to: HealthView, at: number): HealthTransition[] {
  const out: HealthTransition[] = [];
  for (const z of to.zones) {
    const before = from.zones.find((b) => b.name === z.name && b.region === z.region);
    if (before && before.state !== z.state) {
      out.push({
        scope: 'zone',
        name: z.name,
        region: z.region,
        from: before.state,
        to: z.state,
        at,
        reasons: z.reasons,
      });
    }
  }
  for (const r of to.regions) {
    const before = from.regions.find((b) => b.name === r.name);
    if (before && before.state !== r.state) {
      out.push({
        scope: 'region',
        name: r.name,
        region: r.name,
        from: before.state,
        to: r.state,
        at,
        reasons: r.reasons,
      });
    }
  }
  return out;
}
