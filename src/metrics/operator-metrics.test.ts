import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { CallOutcome } from '../act/types.ts';
import type { HealthView, ProbeResult } from '../health/types.ts';
import type { DrillReport } from '../simulate/drill-report.ts';
import { createOperatorMetrics, policyLabels } from './operator-metrics.ts';
import { findSamples, parseExposition, sampleValue } from './parse-exposition.ts';

const POLICY = 'shop/orders';
/** POLICY as the labels of every per-policy family. */
const P = { namespace: 'shop', name: 'orders' };

function setup() {
  const registry = new Registry();
  return { registry, metrics: createOperatorMetrics(registry) };
}

async function samples(registry: Registry) {
  return parseExposition(await registry.metrics());
}

function call(extra: Partial<CallOutcome>): CallOutcome {
  return {
    service: 'route53',
    operation: 'ChangeResourceRecordSets',
    region: 'us-east-1',
    write: true,
    attempt: 1,
    ok: true,
    latencyMs: 120,
    at: 0,
    ...extra,
  };
}

const view = (zoneB: 'Healthy' | 'Degraded' | 'Impaired', region: 'Healthy' | 'Degraded'): HealthView => ({
  at: 0,
  zones: [
    { name: 'us-east-1a', region: 'us-east-1', state: 'Healthy', since: 0, reasons: [] },
    { name: 'us-east-1b', region: 'us-east-1', state: zoneB, since: 0, reasons: [] },
  ],
  regions: [
    {
      name: 'us-east-1',
      state: region,
      since: 0,
      reasons: [],
      evidence: { dataPlaneDownZones: [], metadataImpairedZones: [], downDatabases: [] },
    },
  ],
});

describe('createOperatorMetrics', () => {
  it('counts probe results by outcome and observes their latency per zone', async () => {
    const { registry, metrics } = setup();
    const result = (zone: string, ok: boolean, latencyMs?: number): ProbeResult => ({
      probe: 'web',
      kind: 'http',
      region: 'us-east-1',
      zone,
      ok,
      at: 0,
      detail: '',
      source: 'operator',
      ...(latencyMs === undefined ? {} : { latencyMs }),
    });
    metrics.observeHealthRound(
      POLICY,
      [result('us-east-1a', true, 40), result('us-east-1b', false, 2000), result('us-east-1b', false)],
      view('Impaired', 'Degraded'),
    );
    const s = await samples(registry);
    const labels = { ...P, probe: 'web', probe_kind: 'http', region: 'us-east-1' };
    expect(
      sampleValue(s, 'failover_operator_probe_results_total', { ...labels, zone: 'us-east-1a', outcome: 'ok' }),
    ).toBe(1);
    expect(
      sampleValue(s, 'failover_operator_probe_results_total', { ...labels, zone: 'us-east-1b', outcome: 'error' }),
    ).toBe(2);
    expect(
      sampleValue(s, 'failover_operator_probe_results_total', { zone: 'us-east-1a', outcome: 'error' }),
    ).toBeUndefined();
    // Only results carrying a latency are observed; 2 s falls in the 2.5 s bucket, not the 1 s one.
    const durationB = { probe_kind: 'http', region: 'us-east-1', zone: 'us-east-1b' };
    expect(sampleValue(s, 'failover_operator_probe_duration_seconds_count', durationB)).toBe(1);
    expect(sampleValue(s, 'failover_operator_probe_duration_seconds_sum', durationB)).toBe(2);
    expect(sampleValue(s, 'failover_operator_probe_duration_seconds_bucket', { ...durationB, le: '1' })).toBe(0);
    expect(sampleValue(s, 'failover_operator_probe_duration_seconds_bucket', { ...durationB, le: '2.5' })).toBe(1);
  });

  it('sets exactly one state to 1 per zone and region, and follows transitions', async () => {
    const { registry, metrics } = setup();
    metrics.observeHealthRound(POLICY, [], view('Degraded', 'Degraded'));
    metrics.observeHealthRound(POLICY, [], view('Impaired', 'Healthy'));
    const s = await samples(registry);
    const zoneB = { ...P, region: 'us-east-1', zone: 'us-east-1b' };
    expect(sampleValue(s, 'failover_operator_zone_state', { ...zoneB, state: 'Impaired' })).toBe(1);
    expect(sampleValue(s, 'failover_operator_zone_state', { ...zoneB, state: 'Degraded' })).toBe(0);
    expect(sampleValue(s, 'failover_operator_zone_state', { ...zoneB, state: 'Healthy' })).toBe(0);
    expect(sampleValue(s, 'failover_operator_zone_state', { zone: 'us-east-1a', state: 'Healthy' })).toBe(1);
    const region = { ...P, region: 'us-east-1' };
    expect(sampleValue(s, 'failover_operator_region_state', { ...region, state: 'Healthy' })).toBe(1);
    expect(sampleValue(s, 'failover_operator_region_state', { ...region, state: 'Degraded' })).toBe(0);
  });

  it('implements ActionMetrics: counts every result, times only actions that called AWS', async () => {
    const { registry, metrics } = setup();
    metrics.observeAction({ policy: POLICY, kind: 'SetWeights', rule: 'PB-5', result: 'done', durationMs: 1500 });
    metrics.observeAction({ policy: POLICY, kind: 'SetWeights', rule: 'PB-5', result: 'dry-run', durationMs: 0 });
    metrics.observeAction({ policy: POLICY, kind: 'RebootDBInstance', rule: 'PB-3', result: 'skipped', durationMs: 0 });
    const s = await samples(registry);
    const base = { ...P, action: 'SetWeights', rule: 'PB-5' };
    expect(sampleValue(s, 'failover_operator_actions_total', { ...base, outcome: 'done' })).toBe(1);
    expect(sampleValue(s, 'failover_operator_actions_total', { ...base, outcome: 'dry-run' })).toBe(1);
    expect(
      sampleValue(s, 'failover_operator_actions_total', {
        action: 'RebootDBInstance',
        rule: 'PB-3',
        outcome: 'skipped',
      }),
    ).toBe(1);
    expect(sampleValue(s, 'failover_operator_action_duration_seconds_count', { action: 'SetWeights' })).toBe(1);
    expect(sampleValue(s, 'failover_operator_action_duration_seconds_sum', { action: 'SetWeights' })).toBe(1.5);
    expect(sampleValue(s, 'failover_operator_action_duration_seconds_count', { action: 'RebootDBInstance' })).toBe(
      undefined,
    );
  });

  it('counts AWS call attempts, errors by kind and throttles from call outcomes', async () => {
    const { registry, metrics } = setup();
    metrics.observeAwsCall(call({}));
    metrics.observeAwsCall(call({ ok: false, errorKind: 'throttled', errorCode: 'Throttling', latencyMs: 30 }));
    metrics.observeAwsCall(call({ ok: false, errorKind: 'throttled', latencyMs: 30 }));
    metrics.observeAwsCall(call({ ok: false, latencyMs: 5 }));
    metrics.observeAwsCall(
      call({ service: 'rds', operation: 'DescribeDBInstances', region: 'us-west-2', ok: false, errorKind: 'timeout' }),
    );
    const s = await samples(registry);
    const r53 = { service: 'route53', operation: 'ChangeResourceRecordSets', region: 'us-east-1' };
    expect(sampleValue(s, 'failover_operator_aws_calls_total', { ...r53, outcome: 'ok' })).toBe(1);
    expect(sampleValue(s, 'failover_operator_aws_calls_total', { ...r53, outcome: 'error' })).toBe(3);
    expect(sampleValue(s, 'failover_operator_aws_errors_total', { ...r53, error_kind: 'throttled' })).toBe(2);
    expect(sampleValue(s, 'failover_operator_aws_errors_total', { ...r53, error_kind: 'unknown' })).toBe(1);
    expect(sampleValue(s, 'failover_operator_aws_errors_total', { service: 'rds', error_kind: 'timeout' })).toBe(1);
    expect(sampleValue(s, 'failover_operator_aws_throttles_total', { service: 'route53', region: 'us-east-1' })).toBe(
      2,
    );
    expect(sampleValue(s, 'failover_operator_aws_throttles_total', { service: 'rds' })).toBeUndefined();
    const duration = { service: 'route53', operation: 'ChangeResourceRecordSets' };
    expect(sampleValue(s, 'failover_operator_aws_call_duration_seconds_count', duration)).toBe(4);
    expect(sampleValue(s, 'failover_operator_aws_call_duration_seconds_sum', duration)).toBeCloseTo(0.185, 6);
  });

  it('counts planner skips and reports the journal per state, zero states included', async () => {
    const { registry, metrics } = setup();
    metrics.observeSkippedActions(POLICY, [
      { kind: 'PromoteReadReplica', rule: 'PB-6' },
      { kind: 'PromoteReadReplica', rule: 'PB-6' },
    ]);
    metrics.observeJournal(POLICY, [{ state: 'Done' }, { state: 'Done' }, { state: 'Failed' }]);
    metrics.observeJournal(POLICY, [{ state: 'Done' }, { state: 'Pending' }]);
    const s = await samples(registry);
    expect(
      sampleValue(s, 'failover_operator_skipped_actions_total', {
        ...P,
        action: 'PromoteReadReplica',
        rule: 'PB-6',
      }),
    ).toBe(2);
    const journal = (state: string) =>
      sampleValue(s, 'failover_operator_journal_entries', { ...P, journal_state: state });
    expect([journal('Pending'), journal('Done'), journal('Failed'), journal('Skipped')]).toEqual([1, 1, 0, 0]);
  });

  it('reports each record weight of the group, following a drain and a failback', async () => {
    const { registry, metrics } = setup();
    metrics.observeWeights(POLICY, { 'use1-a': 100, 'use1-b': 100 });
    metrics.observeWeights(POLICY, { 'use1-a': 200, 'use1-b': 0 });
    let s = await samples(registry);
    const weight = (id: string) => sampleValue(s, 'failover_operator_record_weight', { ...P, set_identifier: id });
    expect([weight('use1-a'), weight('use1-b')]).toEqual([200, 0]);
    await metrics.forgetPolicy(POLICY);
    s = await samples(registry);
    expect(weight('use1-a')).toBeUndefined();
  });

  it('records a drill report and removes a measure the drill did not reach', async () => {
    const { registry, metrics } = setup();
    const report = {
      scenario: 'az-outage',
      policy: POLICY,
      passed: true,
      faultAt: '2011-04-21T07:55:00Z',
      faultScenarioSeconds: 0,
      measuredFromSeconds: 0,
      detectionSeconds: 20,
      trafficShiftedSeconds: 35,
      rtoSeconds: 95,
      rpoSeconds: 0,
      actions: [],
      skipped: [],
      violations: [],
      expectations: [],
      durationSeconds: 600,
    } satisfies DrillReport;
    metrics.recordDrillReport(report);
    const labels = { ...P, scenario: 'az-outage' };
    let s = await samples(registry);
    expect(sampleValue(s, 'failover_operator_drill_rto_seconds', labels)).toBe(95);
    expect(sampleValue(s, 'failover_operator_drill_rpo_seconds', labels)).toBe(0);
    expect(sampleValue(s, 'failover_operator_drill_detection_seconds', labels)).toBe(20);

    metrics.recordDrillReport({ ...report, rtoSeconds: null, rpoSeconds: 4 });
    s = await samples(registry);
    expect(sampleValue(s, 'failover_operator_drill_rto_seconds', labels)).toBeUndefined();
    expect(sampleValue(s, 'failover_operator_drill_rpo_seconds', labels)).toBe(4);
  });

  it("forgets every series of a policy, leaving other policies' series", async () => {
    const { registry, metrics } = setup();
    metrics.observeHealthRound(POLICY, [], view('Impaired', 'Degraded'));
    metrics.observeHealthRound('shop/other', [], view('Healthy', 'Healthy'));
    metrics.observeJournal(POLICY, [{ state: 'Done' }]);
    metrics.observeAction({ policy: POLICY, kind: 'SetWeights', rule: 'PB-5', result: 'done', durationMs: 10 });
    await metrics.forgetPolicy(POLICY);
    const s = await samples(registry);
    expect(s.filter((x) => x.labels.namespace === 'shop' && x.labels.name === 'orders')).toEqual([]);
    expect(
      sampleValue(s, 'failover_operator_zone_state', { ...P, name: 'other', zone: 'us-east-1b', state: 'Healthy' }),
    ).toBe(1);
  });

  it('drops what a forgotten policy reports late, until it is tracked again', async () => {
    const { registry, metrics } = setup();
    metrics.observeJournal(POLICY, [{ state: 'Done' }]);
    await metrics.forgetPolicy(POLICY);
    // A reconcile, probe round and action that were in flight when the policy was untracked report after it.
    metrics.observeHealthRound(POLICY, [], view('Impaired', 'Degraded'));
    metrics.observeJournal(POLICY, [{ state: 'Done' }]);
    metrics.observeWeights(POLICY, { 'use1-a': 100 });
    metrics.observeReplicaLag(POLICY, [{ region: 'us-west-2', id: 'orders-usw2', lagSeconds: 3 }]);
    metrics.observeSkippedActions(POLICY, [{ kind: 'SetWeights', rule: 'PB-3' }]);
    metrics.observeAction({ policy: POLICY, kind: 'SetWeights', rule: 'PB-5', result: 'done', durationMs: 10 });
    const mine = async () =>
      (await samples(registry)).filter((x) => x.labels.namespace === 'shop' && x.labels.name === 'orders');
    expect(await mine()).toEqual([]);
    // Created again under the same name: recorded again.
    metrics.trackPolicy(POLICY);
    metrics.observeJournal(POLICY, [{ state: 'Done' }]);
    expect(
      sampleValue(await samples(registry), 'failover_operator_journal_entries', { ...P, journal_state: 'Done' }),
    ).toBe(1);
  });

  it('reports each replica lag, and removes a replica whose lag is unknown', async () => {
    const { registry, metrics } = setup();
    metrics.observeReplicaLag(POLICY, [
      { region: 'us-east-1', id: 'orders-use1' },
      { region: 'us-west-2', id: 'orders-usw2', lagSeconds: 7 },
      { region: 'eu-west-1', id: 'orders-euw1', lagSeconds: -1 },
    ]);
    let s = await samples(registry);
    const lag = (region: string, replica: string) =>
      sampleValue(s, 'failover_operator_replica_lag_seconds', { ...P, region, replica });
    expect([lag('us-east-1', 'orders-use1'), lag('us-west-2', 'orders-usw2'), lag('eu-west-1', 'orders-euw1')]).toEqual(
      [undefined, 7, -1],
    );
    metrics.observeReplicaLag(POLICY, [{ region: 'us-west-2', id: 'orders-usw2' }]);
    s = await samples(registry);
    expect(lag('us-west-2', 'orders-usw2')).toBeUndefined();
    metrics.observeReplicaLag(POLICY, [{ region: 'us-west-2', id: 'orders-usw2', lagSeconds: 3 }]);
    await metrics.forgetPolicy(POLICY);
    s = await samples(registry);
    expect(findSamples(s, 'failover_operator_replica_lag_seconds', P)).toEqual([]);
  });

  it('reports each circuit breaker as 0 closed, 1 half-open, 2 open', async () => {
    const { registry, metrics } = setup();
    const breaker = { service: 'route53', region: 'us-east-1', operationClass: 'write' };
    const state = async () =>
      sampleValue(await samples(registry), 'failover_operator_circuit_breaker_state', {
        service: 'route53',
        region: 'us-east-1',
        operation_class: 'write',
      });
    metrics.observeCircuitBreaker(breaker, 'open');
    expect(await state()).toBe(2);
    metrics.observeCircuitBreaker(breaker, 'half-open');
    expect(await state()).toBe(1);
    metrics.observeCircuitBreaker(breaker, 'closed');
    expect(await state()).toBe(0);
  });

  it('exports build_info = 1 with the version, revision and Node version, when given one', async () => {
    const registry = new Registry();
    createOperatorMetrics(registry, { build: { version: '0.2.0', revision: 'abc123', nodeVersion: 'v24.11.0' } });
    const s = await samples(registry);
    expect(findSamples(s, 'failover_operator_build_info', {})).toEqual([
      {
        name: 'failover_operator_build_info',
        labels: { version: '0.2.0', revision: 'abc123', node_version: 'v24.11.0' },
        value: 1,
      },
    ]);
    expect(findSamples(await samples(setup().registry), 'failover_operator_build_info', {})).toEqual([]);
  });

  it('splits a policy key into namespace and name', () => {
    expect(policyLabels('shop/orders')).toEqual(P);
    expect(policyLabels('orders')).toEqual({ namespace: '', name: 'orders' });
  });

  it('registers only on the registry passed in, so two operators in one process do not collide', async () => {
    const a = setup();
    const b = setup();
    a.metrics.observeSkippedActions(POLICY, [{ kind: 'SetWeights', rule: 'PB-4' }]);
    expect(sampleValue(await samples(b.registry), 'failover_operator_skipped_actions_total', {})).toBeUndefined();
    expect(sampleValue(await samples(a.registry), 'failover_operator_skipped_actions_total', {})).toBe(1);
  });
});
