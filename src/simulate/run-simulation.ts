// Runs the REAL operator logic — probes, health model, planner, executor with all its guardrails — against the
// simulated cloud, on a virtual clock, while a scenario plays its timeline. This is `failover-operator simulate`
// and the engine of DryRun drills: no cluster and no AWS account, same decisions as production.
//
// Time is virtual: a 30-hour timeline runs in seconds and the same seed gives the same run. Everything that
// happens lands in a timeline; the drill report (drill-report.ts) is computed from the timeline and the
// simulated cloud's own evidence (its call log, its DNS history), not from what the operator believes it did.

import pino, { type Logger } from 'pino';
import { createInMemoryJournalStore } from '../act/journal-store.ts';
import { route53ShareOfAccount } from '../act/rate-limit.ts';
import type { ActionEvent } from '../act/trail.ts';
import type { FailoverPolicy, FailoverPolicyStatus } from '../api/index.ts';
import { createVirtualClock } from '../clock.ts';
import type { CallLogOptions } from '../cloud/sim/sim-call-log.ts';
import { createSimCloud, type SimCloud } from '../cloud/sim/sim-cloud.ts';
import { seededRandom } from '../cloud/sim/sim-random.ts';
import { topologyFromPolicy } from '../cloud/sim/sim-topology.ts';
import { createEngineStack } from '../engine/engine-stack.ts';
import type { HealthTransition } from '../health/types.ts';
import { applyScenario } from '../scenarios/index.ts';
import type { Scenario } from '../scenarios/scenario-schema.ts';
import { scenarioVantages } from '../scenarios/scenario-vantages.ts';
import { agreementEvents } from '../vantage/events.ts';
import type { AnswerSample } from './drill-report.ts';
import { buildDrillReport, type DrillReport } from './drill-report.ts';
import { simDatabaseConnector } from './sim-database-connector.ts';
import { TIMELINE_KIND_OF_EVENT, type TimelineEntry } from './timeline.ts';
import { createVantageView, type VantageView } from './vantage-view.ts';

/** Scenario minute 0 of every simulation: fixed, so runs are reproducible (00:55 PDT on 21 April 2011). */
export const SIMULATION_EPOCH_MS = Date.parse('2011-04-21T07:55:00Z');
/** Probes and reconciles run this long before minute 0, so the operator starts from a settled, healthy state. */
const WARM_UP_MS = 2 * 60_000;

export interface SimulationOptions {
  policy: FailoverPolicy;
  scenario: Scenario;
  seed?: number;
  logger?: Logger;
  /** Called every simulated minute or so, for a progress line. */
  onProgress?: (p: { minute: number; totalMinutes: number; phase: string | undefined }) => void;
  /** Stop early (the caller's Ctrl-C). */
  signal?: AbortSignal;
  /** The simulated cloud's call log bounds (default CALL_LOG_DEFAULTS); a benchmark may keep every call. */
  callLog?: CallLogOptions;
}

export interface SimulationResult {
  report: DrillReport;
  timeline: TimelineEntry[];
  finalStatus: FailoverPolicyStatus | undefined;
  sim: SimCloud;
  /** What resolvers answered over the run (one sample per change, checked every second). */
  answers: AnswerSample[];
  /** Real (wall) milliseconds the run took. */
  wallMs: number;
}

/** How often the simulation samples what resolvers answer (virtual time). */
export const ANSWER_SAMPLE_MS = 1_000;

export async function runSimulation(opts: SimulationOptions): Promise<SimulationResult> {
  const wallStart = performance.now();
  const logger = opts.logger ?? pino({ level: 'silent' });
  const { scenario } = opts;
  const policyKey = `${opts.policy.metadata.namespace ?? 'default'}/${opts.policy.metadata.name}`;
  const start = SIMULATION_EPOCH_MS - WARM_UP_MS;
  const clock = createVirtualClock(start);
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  const timeline: TimelineEntry[] = [];
  const scenarioSeconds = (t: number) => Math.round((t - SIMULATION_EPOCH_MS) / 1000);
  const note = (entry: Omit<TimelineEntry, 'at'>) => timeline.push({ at: scenarioSeconds(clock.now()), ...entry });

  const sim = createSimCloud({
    clock,
    seed: opts.seed ?? 1,
    topology: topologyFromPolicy(opts.policy.spec),
    ...(opts.callLog === undefined ? {} : { callLog: opts.callLog }),
  });
  // One operator — or, for a policy with spec.vantagePoints, one per member (#14): each its own engine stack,
  // journal, seeded jitter and view of the shared simulated cloud (vantage-view.ts: its partitions), all acting on
  // the same Route 53, RDS, CloudWatch verdicts and promotion lock.
  const placed = scenarioVantages(scenario, opts.policy.spec);
  const multi = placed.length > 0;
  // The vantages are operators in ONE AWS account (one simulated Route 53, which throttles the account above 5
  // requests a second): each runs with its share of the account's limit, as docs/vantage-points.md tells operators
  // to configure them (--route53-requests-per-second). A single operator keeps the default.
  const route53Share = multi ? { route53RequestsPerSecond: route53ShareOfAccount(placed.length) } : {};
  const operators: Operator[] = [];

  interface Operator {
    vantage?: VantageView;
    stop: AbortController;
    signal: AbortSignal;
    engine: ReturnType<typeof createEngineStack>['engine'];
    policy: FailoverPolicy;
    lastPhase: string | undefined;
    /** Wakes the reconcile loop as soon as health (or a peer's verdict) changes. */
    wake: AbortController;
    /** Scenario seconds when its operator died (vantageDown). */
    downAt?: number;
  }

  function startOperator(vantage: VantageView | undefined): Operator {
    const stopOne = new AbortController();
    const opSignal = vantage ? AbortSignal.any([signal, stopOne.signal]) : signal;
    const tag = vantage ? { vantage: vantage.name } : {};
    const journalStore = createInMemoryJournalStore();
    const op: Operator = {
      ...(vantage ? { vantage } : {}),
      stop: stopOne,
      signal: opSignal,
      engine: undefined as unknown as Operator['engine'],
      policy: structuredClone(opts.policy),
      lastPhase: undefined,
      wake: new AbortController(),
    };
    const alive = () => op.downAt === undefined;
    const { engine } = createEngineStack({
      cloud: vantage?.cloud ?? sim,
      clock,
      logger: vantage ? logger.child({ vantage: vantage.name }) : logger,
      journalStore,
      ...route53Share,
      random: seededRandom(opts.seed ?? 1, vantage ? `operator:${vantage.name}` : 'operator'),
      fetch: vantage?.fetch ?? sim.endpoints.fetch,
      connectDatabase: vantage?.connectDatabase ?? simDatabaseConnector(sim),
      events: {
        emit: (_key: string, e: ActionEvent) => {
          if (alive()) recordActionEvent(e, tag);
        },
      },
      // The same path as in the cluster: every promotion takes the (simulated) promotion lock first.
      promotionLock: vantage?.promotionLock ?? sim.promotionLock,
      vantage: vantage?.name ?? 'simulation',
      ...(vantage
        ? {
            vantagePoint: { name: vantage.name, ...(vantage.region ? { region: vantage.region } : {}) },
            onPeersChanged: () => op.wake.abort(),
            onAgreement: (_key, agreement, previous, settings) => {
              if (!alive()) return;
              for (const ev of agreementEvents(settings, agreement, previous)) {
                note({ kind: 'vantage', message: ev.message, reason: ev.reason, ...tag });
              }
            },
          }
        : {}),
      isLeader: () => true,
      signal: opSignal,
      onHealthChange: (_key, transitions) => {
        if (!alive()) return;
        for (const t of transitions) recordTransition(t, tag);
        op.wake.abort();
      },
    });
    op.engine = engine;
    return op;
  }

  function recordTransition(t: HealthTransition, tag: { vantage?: string }): void {
    note({
      kind: 'health',
      message: `${t.scope} ${t.name} ${t.from} → ${t.to}${t.reasons.length ? `: ${t.reasons.slice(0, 2).join('; ')}` : ''}`,
      rule: t.to === 'Healthy' ? 'PB-9' : 'PB-2',
      scope: t.scope,
      name: t.name,
      state: t.to,
      ...tag,
    });
  }

  function recordActionEvent(e: ActionEvent, tag: { vantage?: string }): void {
    const a = e.action;
    note({
      kind: TIMELINE_KIND_OF_EVENT[e.reason],
      message: e.message,
      rule: e.rule,
      ...tag,
      ...(a
        ? {
            action: {
              id: a.id,
              kind: a.action.kind,
              target: a.target,
              ...(a.zone === undefined ? {} : { zone: a.zone }),
              ...(a.region === undefined ? {} : { region: a.region }),
              ...(a.action.kind === 'SetWeights' ? { weights: a.action.weights } : {}),
            },
          }
        : {}),
    });
  }

  if (!multi) operators.push(startOperator(undefined));
  for (const v of placed) {
    const view = createVantageView({
      name: v.name,
      ...(v.region === undefined ? {} : { region: v.region }),
      sim,
      clock,
      fetch: sim.endpoints.fetch,
      connectDatabase: simDatabaseConnector(sim),
    });
    operators.push(startOperator(view));
  }
  const byName = (name: string): Operator => {
    const op = operators.find((o) => o.vantage?.name === name);
    if (!op) throw new Error(`no vantage ${name}`);
    return op;
  };

  const run = applyScenario(sim, scenario, clock, {
    startAt: SIMULATION_EPOCH_MS,
    // The scenario's own events follow no playbook rule: they are what happens to the service, not a decision.
    onEvent: (ev) => note({ kind: 'scenario', message: `${ev.note ? `${ev.note}: ` : ''}${ev.effects.join('; ')}` }),
    ...(multi
      ? {
          vantages: {
            partition: (name, regions, scope) => byName(name).vantage!.partition(regions, scope),
            heal: (name, regions) => byName(name).vantage!.heal(regions),
            down: (name) => {
              const op = byName(name);
              if (op.downAt !== undefined) return `vantage ${name} is down already`;
              op.downAt = scenarioSeconds(clock.now());
              op.stop.abort();
              return `vantage ${name} down: its operator stops; its last verdicts age out`;
            },
          },
        }
      : {}),
  });

  // What resolvers answer, sampled every second and kept when it changes: the drill report judges a data-plane
  // drain (health checks, no record edit) by when the answers moved, as a person querying DNS would.
  const answers: AnswerSample[] = [];
  const r53 = opts.policy.spec.traffic?.route53;
  const sampler = r53
    ? (async () => {
        let last = '';
        while (!signal.aborted && clock.now() < run.endsAt) {
          const share = sim.trafficShare(r53.hostedZoneId, r53.recordName, r53.type);
          const key = JSON.stringify(share);
          if (key !== last) {
            answers.push({ at: scenarioSeconds(clock.now()), share });
            last = key;
          }
          try {
            await clock.sleep(ANSWER_SAMPLE_MS, signal);
          } catch {
            return;
          }
        }
      })()
    : Promise.resolve();

  const reconcileLoop = (op: Operator) =>
    (async () => {
      const tag = op.vantage ? { vantage: op.vantage.name } : {};
      let lastGates = '';
      while (!op.signal.aborted && clock.now() < run.endsAt) {
        let delay = op.policy.spec.health.intervalSeconds * 1000;
        try {
          const out = await op.engine.reconcile(policyKey, op.policy, op.signal);
          if (op.downAt !== undefined) break;
          op.policy = { ...op.policy, status: out.status };
          if (out.status.phase !== op.lastPhase) {
            note({
              kind: 'phase',
              message: `phase ${op.lastPhase ?? '(none)'} → ${out.status.phase}`,
              state: out.status.phase,
              ...tag,
            });
            op.lastPhase = out.status.phase;
          }
          const gates = (out.plan?.gates ?? []).map((g) => `${g.rule} ${g.kind}: ${g.message}`).join(' | ');
          if (gates !== lastGates) {
            if (gates) note({ kind: 'gate', message: gates, rule: out.plan?.gates[0]?.rule, ...tag });
            lastGates = gates;
          }
          for (const s of out.plan?.skipped ?? []) {
            note({
              kind: 'skip',
              message: s.reason,
              rule: s.rule,
              ...tag,
              action: { id: '', kind: String(s.kind), target: s.target, ...(s.zone ? { zone: s.zone } : {}) },
            });
          }
          delay = out.requeueAfterMs;
        } catch (err) {
          if (op.downAt !== undefined) break;
          note({
            kind: 'failure',
            message: `reconcile failed: ${err instanceof Error ? err.message : String(err)}`,
            ...tag,
          });
        }
        op.wake = new AbortController();
        try {
          await clock.sleep(Math.max(250, delay), AbortSignal.any([op.wake.signal, op.signal]));
        } catch {
          // woken by a health change, or stopped
        }
      }
    })();
  const reconcileLoops = Promise.all(operators.map(reconcileLoop));
  const phaseNow = () => (operators.find((o) => o.downAt === undefined) ?? operators[0])?.lastPhase;

  // Drive virtual time to the end of the scenario, reporting progress each simulated minute.
  const totalMinutes = scenario.durationMinutes;
  for (let t = start; t < run.endsAt && !signal.aborted; ) {
    const next = Math.min(run.endsAt, t + 60_000);
    await clock.runUntil(next);
    t = next;
    opts.onProgress?.({
      minute: Math.max(0, Math.floor((t - SIMULATION_EPOCH_MS) / 60_000)),
      totalMinutes,
      phase: phaseNow(),
    });
  }
  stop.abort();
  run.cancel();
  // Let aborted loops unwind: timers were cancelled by the abort; give pending promises a turn.
  await clock.advance(60_000);
  await Promise.race([Promise.all([reconcileLoops, sampler]), new Promise((r) => setTimeout(r, 100))]);

  dedupeSkips(timeline);
  // With several vantages, the status reported is the one of the vantage that promoted, else of one that failed over,
  // else of a live one.
  const reporting =
    operators.find((o) => o.vantage?.promoteCalls.some((c) => c.ok)) ??
    operators.find((o) => o.policy.status?.lastFailover !== undefined) ??
    operators.find((o) => o.downAt === undefined) ??
    operators[0]!;
  const finalStatus = reporting.policy.status;
  const report = buildDrillReport({
    scenario,
    policy: opts.policy,
    timeline,
    sim,
    answers,
    finalStatus,
    ...(multi
      ? {
          vantages: operators.map((o) => ({
            name: o.vantage!.name,
            ...(o.vantage!.region === undefined ? {} : { region: o.vantage!.region }),
            ...(o.downAt === undefined ? {} : { downAt: o.downAt }),
            promoteCalls: o.vantage!.promoteCalls.map((c) => ({ ...c, at: scenarioSeconds(c.at) })),
          })),
        }
      : {}),
    epochMs: SIMULATION_EPOCH_MS,
    endsAtSeconds: scenarioSeconds(run.endsAt),
    seed: opts.seed ?? 1,
  });
  return {
    report,
    timeline,
    finalStatus,
    sim,
    answers,
    wallMs: Math.round(performance.now() - wallStart),
  };
}

/** A plan repeats its skipped actions every reconcile; the timeline keeps the first of each. */
function dedupeSkips(timeline: TimelineEntry[]): void {
  const seen = new Set<string>();
  for (let i = 0; i < timeline.length; i++) {
    const e = timeline[i]!;
    if (e.kind !== 'skip') continue;
    const key = `${e.vantage ?? ''}|${e.rule}|${e.action?.kind}|${e.action?.target}|${e.message}`;
    if (seen.has(key)) {
      timeline.splice(i, 1);
      i--;
    } else seen.add(key);
  }
}
