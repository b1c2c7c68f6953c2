// decideDrillStep as a pure function: drill + status + policy + health + time in, the next step out. No engine,
// no status writer, no clock: every case below is one call.

import { describe, expect, it } from 'vitest';
import type { FailoverDrillStatus, FailoverPolicyStatus } from '../api/index.ts';
import type { HealthView, ZoneState } from '../health/types.ts';
import {
  DRILL_FINALIZER,
  type DrillStepInput,
  decideDrillStep,
  failbackWindowMs,
  type StoredDrill,
} from './drill-step.ts';
import { drillPolicyObject } from './drill-test-fixtures.ts';
import type { StoredPolicy } from './policy-reconciler.ts';

const T0 = Date.parse('2026-11-23T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const REF = { namespace: 'team', name: 'drill-a' };
const WEIGHTS = { 'use1-a': 100, 'use1-b': 100 };

function policyObject(status: Partial<FailoverPolicyStatus> = { weights: WEIGHTS }): StoredPolicy {
  return drillPolicyObject(status);
}

function drillObject(spec: Record<string, unknown> = {}, metadata: StoredDrill['metadata'] = {}): StoredDrill {
  return {
    ...({ apiVersion: 'failover.io/v1alpha1', kind: 'FailoverDrill' } as object),
    metadata: { name: 'drill-a', namespace: 'team', generation: 1, uid: 'd-1', ...metadata },
    spec: {
      policyRef: { name: 'web' },
      scenario: { type: 'zone-outage', zone: 'us-east-1a', durationSeconds: 10 },
      mode: 'Live',
      ...spec,
    },
  };
}

function view(states: Record<string, ZoneState> = {}, since = T0): HealthView {
  return {
    at: since,
    zones: ['us-east-1a', 'us-east-1b'].map((name) => ({
      name,
      region: 'us-east-1',
      state: states[name] ?? 'Healthy',
      since: states[name] ? since : 0,
      reasons: [],
    })),
    regions: [
      {
        name: 'us-east-1',
        state: Object.keys(states).length > 0 ? 'Degraded' : 'Healthy',
        since: 0,
        reasons: [],
        evidence: { dataPlaneDownZones: [], metadataImpairedZones: [], downDatabases: [] },
      },
    ],
  };
}

const RUNNING: Partial<FailoverDrillStatus> = { phase: 'Running', startedAt: iso(T0), preDrillWeights: WEIGHTS };

function step(o: Partial<DrillStepInput> = {}) {
  return decideDrillStep({
    ref: REF,
    drill: drillObject(),
    status: {},
    policy: policyObject(),
    others: [],
    health: view(),
    realHealth: view(),
    now: T0,
    ...o,
  });
}

describe('decideDrillStep', () => {
  it('starts a Live drill with the finalizer, the pre-drill weights and the drill it injects for', () => {
    expect(step()).toMatchObject({
      kind: 'start-live',
      policyKey: 'team/web',
      zones: ['us-east-1a'],
      preDrill: WEIGHTS,
      addFinalizer: true,
      drill: { name: 'team/drill-a', allowPromotion: false },
    });
    expect(step({ drill: drillObject({ allowPromotion: true }) })).toMatchObject({
      drill: { allowPromotion: true },
    });
  });

  it('holds a start until the policy reports its weights, and refuses one during a real incident', () => {
    expect(step({ policy: policyObject({}) })).toMatchObject({ kind: 'pending' });
    expect(step({ realHealth: view({ 'us-east-1b': 'Degraded' }) })).toMatchObject({
      kind: 'fail',
      message: expect.stringContaining('real incident'),
    });
  });

  it('measures detection and the traffic shift from the inputs, with their Events', () => {
    const s = step({
      status: RUNNING,
      now: T0 + 3_000,
      health: view({ 'us-east-1a': 'Degraded' }, T0 + 1_500),
      policy: policyObject({ weights: { 'use1-a': 0, 'use1-b': 100 } }),
    });
    expect(s).toMatchObject({
      kind: 'progress-live',
      injection: 'keep',
      patch: { detectionSeconds: 1.5, rpoSeconds: 0 },
      events: [
        expect.objectContaining({ reason: 'DrillOutageDetected' }),
        expect.objectContaining({ reason: 'DrillTrafficShifted' }),
      ],
    });
    expect(s.kind === 'progress-live' && s.finish).toBeFalsy();
  });

  it('an allowed promotion during the drill sets the RPO to the lag recorded when it was sent', () => {
    const failover = {
      epoch: 'auto-20261123T100001Z',
      trigger: 'auto' as const,
      from: { region: 'us-east-1', dbInstanceIdentifier: 'orders' },
      to: { region: 'us-west-2', dbInstanceIdentifier: 'orders-usw2' },
      phase: 'Promoting' as const,
      startedAt: iso(T0 + 1_000),
      phaseSince: iso(T0 + 2_000),
      reason: 'drill',
      promotion: { attempts: 1, lastAttemptAt: iso(T0 + 2_000), lagSeconds: 7 },
    };
    const s = step({
      status: { ...RUNNING, rpoSeconds: 0, trafficShiftedSeconds: 1 },
      now: T0 + 3_000,
      policy: policyObject({ weights: WEIGHTS, failover }),
    });
    expect(s).toMatchObject({ kind: 'progress-live', patch: { rpoSeconds: 7 } });
  });

  it('after the outage: clears the injection, waits for the failback, then fails the report when it never comes', () => {
    const shifted = { ...RUNNING, detectionSeconds: 1, trafficShiftedSeconds: 2, rtoSeconds: 2, rpoSeconds: 0 };
    const drained = policyObject({ weights: { 'use1-a': 0, 'use1-b': 100 } });
    const waiting = step({ status: shifted, policy: drained, now: T0 + 10_000 });
    expect(waiting).toMatchObject({ kind: 'progress-live', injection: 'clear', reconcilePolicy: true });
    expect(waiting.kind === 'progress-live' && waiting.finish).toBeFalsy();
    const deadline = T0 + 10_000 + failbackWindowMs(decided(drained)) + 60_000;
    const late = step({ status: shifted, policy: drained, now: deadline });
    expect(late).toMatchObject({
      kind: 'progress-live',
      finish: { passed: false, failback: 'timed-out', violations: [expect.objectContaining({ objective: 'PB-10' })] },
    });
    const back = step({ status: shifted, now: T0 + 20_000 });
    expect(back).toMatchObject({ kind: 'progress-live', finish: { passed: true, failback: 'returned' } });
  });

  it('a real incident while running aborts without restoring (the engine acts on reality)', () => {
    const s = step({ status: RUNNING, now: T0 + 2_000, realHealth: view({ 'us-east-1b': 'Impaired' }) });
    expect(s).toMatchObject({ kind: 'abort', live: true, why: expect.stringContaining('real incident') });
    expect(s.kind === 'abort' && s.restore).toBeFalsy();
  });

  it('spec.abort restores the recorded weights of a running drill', () => {
    const s = step({ drill: drillObject({ abort: true }), status: RUNNING });
    expect(s).toMatchObject({ kind: 'abort', live: true, restore: { weights: WEIGHTS } });
  });

  it('a deleted drill that ran restores its weights from status before the finalizer goes; others just release', () => {
    const deleting = { finalizers: [DRILL_FINALIZER], deletionTimestamp: new Date(T0) };
    expect(step({ drill: drillObject({}, deleting), status: RUNNING })).toMatchObject({
      kind: 'delete',
      live: { policyKey: 'team/web', restore: { weights: WEIGHTS } },
    });
    expect(step({ drill: drillObject({}, deleting), status: { ...RUNNING, phase: 'Succeeded' } })).toEqual({
      kind: 'delete',
    });
    expect(step({ drill: drillObject({}, { deletionTimestamp: new Date(T0) }), status: RUNNING })).toEqual({
      kind: 'nothing',
    });
    expect(step({ drill: drillObject({}, { finalizers: [DRILL_FINALIZER] }), status: { phase: 'Failed' } })).toEqual({
      kind: 'release-finalizer',
    });
  });

  it('an invalid drill fails naming the field; a missing policy holds it pending', () => {
    expect(step({ drill: drillObject({ scenario: { type: 'zone-outage' } }) })).toMatchObject({
      kind: 'fail',
      invalidSpec: true,
      message: expect.stringContaining('spec.scenario.zone'),
    });
    expect(step({ policy: undefined })).toMatchObject({ kind: 'pending', reason: 'PolicyNotFound' });
  });
});

/** The policy with its defaults, as the step sees it (for the failback window). */
function decided(p: StoredPolicy) {
  const s = decideDrillStep({
    ref: REF,
    drill: drillObject({ mode: 'DryRun' }),
    status: {},
    policy: p,
    others: [],
    health: undefined,
    realHealth: undefined,
    now: T0,
  });
  if (s.kind !== 'dry-run') throw new Error(`expected a dry-run step, got ${s.kind}`);
  return s.policy;
}

describe('Live drill Events: each reason only for the step it claims', () => {
  const reasons = (o: Partial<DrillStepInput>) => {
    const s = step(o);
    return s.kind === 'progress-live' ? s.events.map((e) => e.reason) : [];
  };
  const degraded = view({ 'us-east-1a': 'Degraded' }, T0 + 1_500);
  const drained = policyObject({ weights: { 'use1-a': 0, 'use1-b': 100 } });
  const ended = { message: 'ended the injected outage after 10s', at: iso(T0 + 10_000) };
  // The drill's outage lasts 10 s from T0 (drillObject); each row: inputs, and whether each reason must be emitted.
  const TABLE: Array<{ what: string; input: Partial<DrillStepInput>; emits: string[] }> = [
    { what: 'nothing seen yet', input: { status: RUNNING, now: T0 + 1_000 }, emits: [] },
    {
      what: 'the drilled zone leaves Healthy',
      input: { status: RUNNING, now: T0 + 2_000, health: degraded },
      emits: ['DrillOutageDetected'],
    },
    {
      what: 'another zone leaves Healthy, not the drilled one',
      input: { status: RUNNING, now: T0 + 2_000, health: view({ 'us-east-1b': 'Degraded' }, T0 + 1_500) },
      emits: [],
    },
    {
      what: 'detection already measured',
      input: { status: { ...RUNNING, detectionSeconds: 1.5 }, now: T0 + 3_000, health: degraded },
      emits: [],
    },
    {
      what: 'the drilled records drained',
      input: { status: { ...RUNNING, detectionSeconds: 1.5 }, now: T0 + 3_000, health: degraded, policy: drained },
      emits: ['DrillTrafficShifted'],
    },
    {
      what: 'the shift already measured',
      input: {
        status: { ...RUNNING, detectionSeconds: 1.5, trafficShiftedSeconds: 2 },
        now: T0 + 4_000,
        health: degraded,
        policy: drained,
      },
      emits: [],
    },
    {
      what: 'the outage ends',
      input: {
        status: { ...RUNNING, detectionSeconds: 1.5, trafficShiftedSeconds: 2 },
        now: T0 + 10_000,
        policy: drained,
      },
      emits: ['DrillOutageEnded'],
    },
    {
      what: 'the end already announced',
      input: {
        status: { ...RUNNING, detectionSeconds: 1.5, trafficShiftedSeconds: 2, timeline: [ended] },
        now: T0 + 11_000,
        policy: drained,
      },
      emits: [],
    },
  ];
  const ALL = ['DrillOutageDetected', 'DrillTrafficShifted', 'DrillOutageEnded'];

  it.each(TABLE)('$what: emits $emits', ({ input, emits }) => {
    const got = reasons(input);
    for (const reason of ALL) expect(got.includes(reason), reason).toBe(emits.includes(reason));
  });
});

describe('per-namespace drill limit', () => {
  const other = (name: string, namespace: string, phase: FailoverDrillStatus['phase'], mode = 'DryRun') => ({
    drill: drillObject({ mode }, { name, namespace, uid: `uid-${namespace}-${name}` }),
    status: { phase },
  });
  const dryRun = drillObject({ mode: 'DryRun' });

  it('holds a drill Pending, naming the limit and the drills that hold it, while its namespace is at the limit', () => {
    const result = step({
      drill: dryRun,
      namespaceDrillLimit: 2,
      others: [other('b', 'team', 'Running'), other('c', 'team', 'Running', 'Live'), other('d', 'team', 'Pending')],
    });
    expect(result).toEqual({
      kind: 'pending',
      reason: 'DrillNamespaceLimitReached',
      message:
        'waiting: namespace team already runs 2 drill(s) (b, c), its limit is 2 (FO_DRILL_NAMESPACE_LIMIT, chart value drills.perNamespaceLimit); starts when one finishes',
      requeueAfterMs: 15_000,
    });
    // Live drills wait the same way.
    expect(step({ namespaceDrillLimit: 1, others: [other('b', 'team', 'Running')] })).toMatchObject({
      kind: 'pending',
      reason: 'DrillNamespaceLimitReached',
    });
  });

  it("counts only the drill's own namespace and only Running drills: other tenants never hold it back", () => {
    const busyElsewhere = [
      other('x', 'other-team', 'Running'),
      other('y', 'other-team', 'Running'),
      other('z', 'team', 'Succeeded'),
      other('w', 'team', 'Pending'),
    ];
    expect(step({ drill: dryRun, namespaceDrillLimit: 1, others: busyElsewhere })).toMatchObject({
      kind: 'dry-run',
      announce: expect.stringContaining('simulating'),
    });
  });

  it('never holds a drill that is already Running, nor counts the drill itself', () => {
    const self = { drill: dryRun, status: { phase: 'Running' as const } };
    expect(
      step({
        drill: dryRun,
        status: { phase: 'Running', startedAt: iso(T0) },
        namespaceDrillLimit: 1,
        others: [self, other('b', 'team', 'Running')],
      }),
    ).toMatchObject({ kind: 'dry-run' });
    expect(step({ drill: dryRun, namespaceDrillLimit: 1, others: [self] })).toMatchObject({ kind: 'dry-run' });
  });

  it('without a limit, any number runs', () => {
    const many = ['b', 'c', 'd', 'e'].map((n) => other(n, 'team', 'Running'));
    expect(step({ drill: dryRun, others: many })).toMatchObject({ kind: 'dry-run' });
  });
});
