import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import type { FailoverDrillStatus, JournalEntry } from '../api/index.ts';
import { DRILL_LIMITS } from '../api/index.ts';
import { createVirtualClock } from '../clock.ts';
import type { HealthView, ZoneState } from '../health/types.ts';
import { runSimulation } from '../simulate/run-simulation.ts';
import {
  createDrillReconciler,
  type DrillEngine,
  type DrillReconcilerDeps,
  type StoredDrill,
} from './drill-reconciler.ts';
import { DrillSimulationTooLarge } from './drill-simulator.ts';
import { drillPolicyObject } from './drill-test-fixtures.ts';
import type { StoredPolicy } from './policy-reconciler.ts';

const logger = pino({ level: 'silent' });
const T0 = Date.parse('2026-11-23T10:00:00Z');
const REQ = { namespace: 'team', name: 'drill-a' };
const DRILL_KEY = 'team/drill-a';
const POLICY_KEY = 'team/web';
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const policyObject = drillPolicyObject;

function drillObject(spec: Record<string, unknown>, status?: Partial<FailoverDrillStatus>): StoredDrill {
  return {
    ...({ apiVersion: 'failover.io/v1alpha1', kind: 'FailoverDrill' } as object),
    metadata: { name: 'drill-a', namespace: 'team', generation: 1, uid: 'd-1' },
    spec: { policyRef: { name: 'web' }, ...spec },
    ...(status ? { status } : {}),
  } as StoredDrill;
}

const LIVE = { scenario: { type: 'zone-outage', zone: 'us-east-1a', durationSeconds: 10 }, mode: 'Live' };

function view(states: Record<string, ZoneState> = {}, since = T0): HealthView {
  const zones = ['us-east-1a', 'us-east-1b'].map((name) => ({
    name,
    region: 'us-east-1',
    state: states[name] ?? 'Healthy',
    since: states[name] ? since : 0,
    reasons: states[name] ? [`probe web failed in ${name}`] : [],
  }));
  const bad = zones.some((z) => z.state !== 'Healthy');
  return {
    at: since,
    zones,
    regions: [
      {
        name: 'us-east-1',
        state: bad ? 'Degraded' : 'Healthy',
        since: 0,
        reasons: [],
        evidence: { dataPlaneDownZones: [], metadataImpairedZones: [], downDatabases: [] },
      },
    ],
  };
}

function harness(
  opts: {
    drill?: StoredDrill;
    policy?: StoredPolicy | undefined;
    leader?: boolean;
    tenancy?: DrillReconcilerDeps['tenancy'];
  } = {},
) {
  const clock = createVirtualClock(T0);
  const state = {
    drill: opts.drill as StoredDrill | undefined,
    policy: 'policy' in opts ? opts.policy : policyObject({ weights: { 'use1-a': 100, 'use1-b': 100 } }),
    health: view() as HealthView | undefined,
    real: view() as HealthView | undefined,
  };
  const calls: string[] = [];
  const patches: Array<Partial<FailoverDrillStatus>> = [];
  const events: Array<{ type: string; reason: string; message: string }> = [];
  const engine = {
    healthOf: vi.fn(() => state.health),
    realHealthOf: vi.fn(() => state.real),
    injectZoneFailure: vi.fn((key: string, zones: string[]) => calls.push(`inject ${key} ${zones.join(',')}`)),
    clearInjectedFailures: vi.fn((key: string) => calls.push(`clear ${key}`)),
    forgetInjectedFailures: vi.fn((key: string) => calls.push(`forget ${key}`)),
    restoreWeights: vi.fn(async (key: string, _p: unknown, weights: Readonly<Record<string, number>>) => {
      calls.push(`restore ${key} ${JSON.stringify(weights)}`);
      return { done: [], skipped: [], alreadyDone: [], deferred: [] };
    }),
  } satisfies DrillEngine;
  const metrics = { recordDrillReport: vi.fn() };
  const simulate = vi.fn(runSimulation);
  const deps = {
    getDrill: (key: string) => (key === DRILL_KEY ? state.drill : undefined),
    listDrills: () => (state.drill ? [state.drill] : []),
    getPolicy: (key: string) => (key === POLICY_KEY ? state.policy : undefined),
    engine,
    simulate,
    statusWriter: {
      async patchStatus(_ref: unknown, patch: { status: Partial<FailoverDrillStatus> }) {
        calls.push(`status ${patch.status.phase ?? '-'}`);
        patches.push(patch.status);
        if (state.drill) state.drill = { ...state.drill, status: { ...state.drill.status, ...patch.status } };
        return { status: patch.status };
      },
    },
    events: {
      async record(_key: string, spec: { type: string; reason: string; message: string }) {
        events.push(spec);
      },
    },
    metrics,
    reconcilePolicy: vi.fn(),
    isLeader: () => opts.leader ?? true,
    finalizers: {
      add: vi.fn(async (_ref: unknown, finalizer: string) => {
        calls.push(`finalizer+ ${finalizer}`);
        if (state.drill) {
          const f = state.drill.metadata?.finalizers ?? [];
          state.drill = { ...state.drill, metadata: { ...state.drill.metadata, finalizers: [...f, finalizer] } };
        }
        return true;
      }),
      remove: vi.fn(async (_ref: unknown, finalizer: string) => {
        calls.push(`finalizer- ${finalizer}`);
        return true;
      }),
    },
    ...(opts.tenancy ? { tenancy: opts.tenancy } : {}),
    clock,
    logger,
  };
  const make = () => createDrillReconciler(deps);
  let reconcile = make();
  return {
    clock,
    state,
    calls,
    patches,
    events,
    engine,
    metrics,
    simulate,
    run: () => reconcile(REQ, new AbortController().signal),
    /** A new reconciler with no memory: an operator restart or a new leader. */
    restart() {
      reconcile = make();
    },
    status: () => state.drill?.status ?? {},
  };
}

describe('createDrillReconciler: validation and the policy reference', () => {
  it('fails a drill whose spec is invalid, naming the field, and touches nothing', async () => {
    const h = harness({ drill: drillObject({ scenario: { type: 'zone-outage' }, mode: 'Live' }) });
    expect(await h.run()).toBeUndefined();
    expect(h.status().phase).toBe('Failed');
    expect(h.status().summary).toContain('spec.scenario.zone');
    expect(h.status().conditions?.find((c) => c.type === 'InvalidSpec')?.status).toBe('True');
    expect(h.engine.injectZoneFailure).not.toHaveBeenCalled();
    expect(h.events[0]?.type).toBe('Warning');
  });

  it('fails a drill whose zone is not one of the policy zones, naming spec.scenario.zone', async () => {
    const h = harness({ drill: drillObject({ ...LIVE, scenario: { type: 'zone-outage', zone: 'us-east-1c' } }) });
    await h.run();
    expect(h.status().phase).toBe('Failed');
    expect(h.status().summary).toMatch(/^spec\.scenario\.zone: zone us-east-1c is not one of policy web's zones/);
    expect(h.engine.injectZoneFailure).not.toHaveBeenCalled();
  });

  it('holds a drill Pending while its policy does not exist, saying which field names it', async () => {
    const h = harness({ drill: drillObject(LIVE), policy: undefined });
    const out = await h.run();
    expect(out?.requeueAfterMs).toBeGreaterThan(0);
    expect(h.status().phase).toBe('Pending');
    expect(h.status().conditions?.[0]?.reason).toBe('PolicyNotFound');
    expect(h.status().summary).toContain('FailoverPolicy team/web (spec.policyRef.name) does not exist');
  });

  it('leaves a finished drill alone', async () => {
    const h = harness({ drill: drillObject(LIVE, { phase: 'Succeeded' }) });
    expect(await h.run()).toBeUndefined();
    expect(h.patches).toEqual([]);
  });

  it('writes nothing when not the leader', async () => {
    const h = harness({ drill: drillObject(LIVE), leader: false });
    await h.run();
    expect(h.patches).toEqual([]);
  });
});

describe('createDrillReconciler: DryRun', () => {
  it('simulates the scenario against the real policy and writes a passing report, never touching the engine', async () => {
    const h = harness({
      drill: drillObject({
        scenario: { type: 'zone-outage', zone: 'us-east-1a', durationSeconds: 120 },
        mode: 'DryRun',
      }),
    });
    expect(await h.run()).toBeUndefined();
    const s = h.status();
    expect(s.phase).toBe('Succeeded');
    expect(s.result).toBe('Passed');
    expect(s.violations).toEqual([]);
    expect(s.detectionSeconds).toBeGreaterThanOrEqual(0);
    expect(s.detectionSeconds).toBeLessThanOrEqual(3);
    expect(s.trafficShiftedSeconds).toBeDefined();
    const drain = s.actions?.find((a) => a.kind === 'SetWeights' && a.rule === 'PB-5');
    expect(drain).toBeDefined();
    expect(s.actions?.some((a) => a.kind === 'SetWeights' && a.rule === 'PB-10')).toBe(true); // failback
    expect(s.timeline?.length).toBeLessThanOrEqual(DRILL_LIMITS.timeline);
    expect(h.patches[0]?.phase).toBe('Running');
    expect(h.metrics.recordDrillReport).toHaveBeenCalledTimes(1);
    expect(h.engine.injectZoneFailure).not.toHaveBeenCalled();
    expect(h.engine.restoreWeights).not.toHaveBeenCalled();
    expect(h.events.map((e) => e.reason)).toEqual(['DrillStarted', 'DrillPassed']);
    // The simulation ran the policy with probe URLs the simulated endpoints can route (they route by host name).
    const simulated = h.simulate.mock.calls[0]?.[0].policy;
    expect(simulated?.spec.probes[0]?.http?.url).toBe('http://{zone}.drill.simulated/healthz');
  });

  it('fails a DryRun drill whose simulation outgrew its worker, with the reason, instead of retrying it', async () => {
    const h = harness({
      drill: drillObject({
        scenario: { type: 'zone-outage', zone: 'us-east-1a', durationSeconds: 120 },
        mode: 'DryRun',
      }),
    });
    h.simulate.mockRejectedValueOnce(
      new DrillSimulationTooLarge("simulation of scenario zone-outage ran out of its worker's memory (128 MiB heap)"),
    );
    expect(await h.run()).toBeUndefined(); // done: no requeue, no retry
    const s = h.status();
    expect(s.phase).toBe('Failed');
    expect(s.conditions?.find((c) => c.type === 'Completed')).toMatchObject({
      status: 'True',
      reason: 'DrillFailed',
      message: expect.stringContaining("ran out of its worker's memory"),
    });
    expect(h.events.map((e) => e.reason)).toEqual(['DrillStarted', 'DrillFailed']);
  });

  it('aborts a DryRun drill without touching the engine (another Live drill may be injecting)', async () => {
    const h = harness({
      drill: drillObject({ scenario: { type: 'zone-outage', zone: 'us-east-1a' }, mode: 'DryRun', abort: true }),
    });
    await h.run();
    expect(h.status()).toMatchObject({ phase: 'Aborted', result: 'Aborted' });
    expect(h.engine.forgetInjectedFailures).not.toHaveBeenCalled();
    expect(h.engine.restoreWeights).not.toHaveBeenCalled();
    expect(h.simulate).not.toHaveBeenCalled();
  });

  it('fails a replay of a timeline that does not exist, naming spec.scenario.timeline', async () => {
    const h = harness({
      drill: drillObject({ scenario: { type: 'replay', timeline: 'no-such-outage' }, mode: 'DryRun' }),
    });
    await h.run();
    expect(h.status().phase).toBe('Failed');
    expect(h.status().summary).toMatch(/^spec\.scenario\.timeline: cannot load timeline no-such-outage/);
    expect(h.simulate).not.toHaveBeenCalled();
  });
});

describe('createDrillReconciler: Live', () => {
  it('refuses to start while the real probes see an incident, naming it', async () => {
    const h = harness({ drill: drillObject(LIVE) });
    h.state.real = view({ 'us-east-1b': 'Degraded' });
    await h.run();
    expect(h.status().phase).toBe('Failed');
    expect(h.status().summary).toContain('refused to start: a real incident is in progress for policy team/web');
    expect(h.status().summary).toContain('zone us-east-1b is Degraded');
    expect(h.engine.injectZoneFailure).not.toHaveBeenCalled();
    expect(h.events[0]).toMatchObject({ type: 'Warning', reason: 'DrillRefused' });
  });

  it('refuses a Live drill on a policy outside its namespace grants: injecting would make it act on AWS', async () => {
    const tenancy = { violations: () => [{ field: 'spec.traffic.route53.hostedZoneId', value: 'Z1', message: 'no' }] };
    const h = harness({ drill: drillObject(LIVE), tenancy });
    await h.run();
    expect(h.status().phase).toBe('Failed');
    expect(h.status().summary).toContain('Live drill refused: policy team/web is NotPermitted');
    expect(h.events[0]).toMatchObject({ type: 'Warning', reason: 'DrillRefused' });
    expect(h.engine.injectZoneFailure).not.toHaveBeenCalled();
    expect(h.engine.restoreWeights).not.toHaveBeenCalled();
  });

  it('refuses Live replays: only zone and region outages can be injected', async () => {
    const h = harness({
      drill: drillObject({ scenario: { type: 'replay', timeline: 'us-east-1-2011' }, mode: 'Live' }),
    });
    await h.run();
    expect(h.status().phase).toBe('Failed');
    expect(h.status().summary).toContain('spec.mode: Live supports scenario types zone-outage and region-outage');
  });

  it('records the pre-drill weights before injecting, measures detection and shift, then fails back', async () => {
    const h = harness({ drill: drillObject(LIVE) });

    // Start: the finalizer, then status (with the pre-drill weights), both before the injection.
    await h.run();
    expect(h.calls.slice(0, 3)).toEqual([
      'finalizer+ failover.io/drill-restore-weights',
      'status Running',
      'inject team/web us-east-1a',
    ]);
    expect(h.status().startedAt).toBe(iso(T0));
    expect(h.status().preDrillWeights).toEqual({ 'use1-a': 100, 'use1-b': 100 });

    // The engine sees the zone Degraded 1.5 s after the injection …
    await h.clock.advance(2_000);
    h.state.health = view({ 'us-east-1a': 'Degraded' }, T0 + 1_500);
    await h.run();
    expect(h.status().detectionSeconds).toBe(1.5);
    expect(h.status().trafficShiftedSeconds).toBeUndefined();

    // … and drains it: the policy status shows weight 0, the journal the SetWeights that did it.
    const drain: JournalEntry = {
      id: 'weights/initial/abc',
      action: 'SetWeights',
      target: 'api.test.',
      rule: 'PB-5',
      state: 'Done',
      startedAt: iso(T0 + 2_000),
      finishedAt: iso(T0 + 3_000),
    };
    h.state.policy = policyObject({ weights: { 'use1-a': 0, 'use1-b': 200 }, journal: [drain] });
    await h.clock.advance(2_000);
    await h.run();
    expect(h.status().trafficShiftedSeconds).toBe(3);
    expect(h.status().rtoSeconds).toBe(3);
    expect(h.events.map((e) => e.reason)).toEqual(['DrillStarted', 'DrillOutageDetected', 'DrillTrafficShifted']);

    // The outage ends after durationSeconds: the injection is cleared, the drill waits for the failback.
    await h.clock.advance(7_000);
    expect(await h.run()).toMatchObject({ requeueAfterMs: 1_000 });
    expect(h.engine.clearInjectedFailures).toHaveBeenCalledWith(POLICY_KEY);
    expect(h.status().phase).toBe('Running');

    // The engine returns the weights: the drill finishes with its report.
    const failback: JournalEntry = { ...drain, id: 'weights/x/def', rule: 'PB-10', startedAt: iso(T0 + 15_000) };
    h.state.policy = policyObject({ weights: { 'use1-a': 100, 'use1-b': 100 }, journal: [drain, failback] });
    h.state.health = view();
    await h.clock.advance(5_000);
    expect(await h.run()).toBeUndefined();
    const s = h.status();
    expect(s).toMatchObject({ phase: 'Succeeded', result: 'Passed', passed: true, violations: [] });
    expect(s.actions?.map((a) => a.rule)).toEqual(['PB-5', 'PB-10']);
    expect(h.engine.restoreWeights).not.toHaveBeenCalled();
    expect(h.metrics.recordDrillReport).toHaveBeenCalledWith(
      expect.objectContaining({ scenario: 'live-zone-outage', policy: POLICY_KEY, detectionSeconds: 1.5 }),
    );
  });

  it('fails the drill when the weights never come back within the failback window', async () => {
    const h = harness({ drill: drillObject(LIVE) });
    await h.run();
    h.state.health = view({ 'us-east-1a': 'Degraded' }, T0 + 1_000);
    h.state.policy = policyObject({ weights: { 'use1-a': 0, 'use1-b': 200 } });
    await h.clock.advance(2_000);
    await h.run();
    await h.clock.advance(10 * 60_000);
    await h.run();
    expect(h.status().phase).toBe('Failed');
    expect(h.status().violations?.map((v) => v.objective)).toEqual(['PB-10']);
  });

  it('aborts on spec.abort: forgets the injection and restores the pre-drill weights at once', async () => {
    const h = harness({ drill: drillObject(LIVE) });
    await h.run();
    h.state.policy = policyObject({ weights: { 'use1-a': 0, 'use1-b': 200 } });
    h.state.drill = { ...h.state.drill!, spec: { ...(h.state.drill!.spec as object), abort: true } };
    await h.clock.advance(3_000);
    expect(await h.run()).toBeUndefined();
    expect(h.calls.slice(-3)).toEqual([
      'forget team/web',
      'restore team/web {"use1-a":100,"use1-b":100}',
      'status Aborted',
    ]);
    expect(h.status()).toMatchObject({ phase: 'Aborted', result: 'Aborted' });
    expect(h.events.map((e) => e.reason)).toContain('DrillWeightsRestored');
  });

  it('resumes after a restart from status alone: re-injects, and an abort restores the recorded weights', async () => {
    const h = harness({ drill: drillObject(LIVE) });
    await h.run();
    h.restart();
    await h.clock.advance(1_000);
    await h.run();
    expect(h.engine.injectZoneFailure).toHaveBeenCalledTimes(2);
    h.restart();
    h.state.policy = policyObject({ weights: { 'use1-a': 0, 'use1-b': 200 } });
    h.state.drill = { ...h.state.drill!, spec: { ...(h.state.drill!.spec as object), abort: true } };
    await h.run();
    expect(h.engine.restoreWeights).toHaveBeenCalledWith(
      POLICY_KEY,
      expect.anything(),
      { 'use1-a': 100, 'use1-b': 100 },
      expect.stringContaining('aborted'),
      expect.anything(),
    );
  });

  it('aborts when a real incident starts mid-drill, leaving traffic to the engine', async () => {
    const h = harness({ drill: drillObject(LIVE) });
    await h.run();
    h.state.real = view({ 'us-east-1b': 'Impaired' }, T0 + 2_000);
    await h.clock.advance(2_000);
    await h.run();
    expect(h.status().phase).toBe('Aborted');
    expect(h.status().summary).toContain('a real incident started during the drill: zone us-east-1b is Impaired');
    expect(h.engine.forgetInjectedFailures).toHaveBeenCalledWith(POLICY_KEY);
    expect(h.engine.restoreWeights).not.toHaveBeenCalled();
  });

  it('stops a running drill whose object was deleted, like an abort', async () => {
    const h = harness({ drill: drillObject(LIVE) });
    await h.run();
    h.state.policy = policyObject({ weights: { 'use1-a': 0, 'use1-b': 200 } });
    h.state.drill = undefined;
    await h.run();
    expect(h.engine.forgetInjectedFailures).toHaveBeenCalledWith(POLICY_KEY);
    expect(h.engine.restoreWeights).toHaveBeenCalledTimes(1);
  });
});

describe('createDrillReconciler: the drill finalizer', () => {
  it('is added before the injection of a Live drill', async () => {
    const h = harness({ drill: drillObject(LIVE) });
    await h.run();
    const i = h.calls.findIndex((c) => c.startsWith('finalizer+ failover.io/drill-restore-weights'));
    const inject = h.calls.findIndex((c) => c.startsWith('inject'));
    expect(i).toBeGreaterThanOrEqual(0);
    expect(i).toBeLessThan(inject);
  });

  it('restores the pre-drill weights of a drill deleted while running, in a process that never ran it', async () => {
    const h = harness({ drill: drillObject(LIVE) });
    await h.run(); // started: weights recorded, zone injected
    expect(h.status().phase).toBe('Running');
    h.restart(); // the operator was down when the drill was deleted
    h.state.drill = {
      ...h.state.drill!,
      metadata: { ...h.state.drill!.metadata, deletionTimestamp: new Date(T0 + 5_000) },
    };
    h.calls.length = 0;
    await h.run();
    expect(h.calls).toEqual([
      `forget ${POLICY_KEY}`,
      `restore ${POLICY_KEY} {"use1-a":100,"use1-b":100}`,
      'finalizer- failover.io/drill-restore-weights',
    ]);
  });

  it('a finished drill releases its finalizer and restores nothing', async () => {
    const h = harness({
      drill: {
        ...drillObject(LIVE, { phase: 'Succeeded', startedAt: iso(T0), preDrillWeights: { 'use1-a': 100 } }),
        metadata: { name: 'drill-a', namespace: 'team', finalizers: ['failover.io/drill-restore-weights'] },
      },
    });
    await h.run();
    expect(h.calls).toEqual(['finalizer- failover.io/drill-restore-weights']);
  });
});

describe('createDrillReconciler: per-namespace drill limit', () => {
  it('two drills of one namespace reconciled at once under a limit of 1: one simulates, the other waits Pending', async () => {
    const clock = createVirtualClock(T0);
    const dryRun = { scenario: { type: 'zone-outage', zone: 'us-east-1a' }, mode: 'DryRun' };
    const drills = new Map<string, StoredDrill>(
      ['drill-a', 'drill-b'].map((name, i) => [
        `team/${name}`,
        { ...drillObject(dryRun), metadata: { name, namespace: 'team', generation: 1, uid: `d-${i + 1}` } },
      ]),
    );
    let release = () => {};
    const simulating: string[] = [];
    const patches: Array<{ name: string; status: Partial<FailoverDrillStatus> }> = [];
    const reconcile = createDrillReconciler({
      getDrill: (key) => drills.get(key),
      listDrills: () => [...drills.values()],
      getPolicy: (key) =>
        key === POLICY_KEY ? policyObject({ weights: { 'use1-a': 100, 'use1-b': 100 } }) : undefined,
      engine: { healthOf: () => view(), realHealthOf: () => view() } as unknown as DrillEngine,
      simulate: async (input) => {
        simulating.push(input.policy.metadata.name ?? '');
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        return runSimulation(input);
      },
      statusWriter: {
        async patchStatus(ref: { name: string }, patch: { status: Partial<FailoverDrillStatus> }) {
          patches.push({ name: ref.name, status: patch.status });
          return { status: patch.status };
        },
      },
      events: { record: async () => {} },
      isLeader: () => true,
      namespaceDrillLimit: 1,
      clock,
      logger,
    });
    const signal = new AbortController().signal;
    const first = reconcile({ namespace: 'team', name: 'drill-a' }, signal);
    const second = await reconcile({ namespace: 'team', name: 'drill-b' }, signal);
    expect(second).toEqual({ requeueAfterMs: 15_000 });
    expect(patches.find((p) => p.name === 'drill-b')?.status).toMatchObject({
      phase: 'Pending',
      conditions: [expect.objectContaining({ type: 'Running', status: 'False', reason: 'DrillNamespaceLimitReached' })],
    });
    await vi.waitFor(() => expect(simulating).toHaveLength(1));
    release();
    await first;
    expect(patches.filter((p) => p.name === 'drill-a').map((p) => p.status.phase)).toEqual(['Running', 'Succeeded']);
  });
});
