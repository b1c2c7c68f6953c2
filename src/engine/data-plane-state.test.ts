import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createCallPipeline } from '../act/call-pipeline.ts';
import { createVirtualClock } from '../act/testing/virtual-clock.ts';
import { CloudError } from '../cloud/errors.ts';
import type { AlarmState, HealthChecks, ObservedHealthCheck, Verdicts } from '../cloud/types.ts';
import { verdictResources } from '../decide/data-plane.ts';
import { dataPlanePolicy } from '../decide/test-fixtures.ts';
import { createDataPlaneState } from './data-plane-state.ts';

const KEY = 'shop/checkout';

const DP = { signalRegion: 'us-west-2', namespace: 'FailoverOperator', periodSeconds: 60 };

/** In-memory health checks and alarms that count their reads and can be made to fail. */
function fakes() {
  const calls = { list: 0, describe: 0 };
  const state = { failList: false, checks: [] as ObservedHealthCheck[], alarms: new Map<string, AlarmState>() };
  const healthChecks: HealthChecks = {
    async createAlarmHealthCheck(spec) {
      const id = `hc-${state.checks.length}`;
      state.checks.push({ id, callerReference: spec.callerReference, type: 'CLOUDWATCH_METRIC', tags: spec.tags });
      return id;
    },
    async listHealthChecks() {
      calls.list++;
      if (state.failList) {
        throw new CloudError({
          kind: 'retryable',
          service: 'route53',
          operation: 'ListHealthChecks',
          code: 'InternalFailure',
          message: 'down',
        });
      }
      return state.checks.map((c) => ({ ...c }));
    },
  };
  const verdicts: Verdicts = {
    async readMaxima(_region, _namespace, metrics) {
      return metrics.map(() => undefined);
    },
    async putVerdictAlarm(spec) {
      state.alarms.set(spec.name, state.alarms.get(spec.name) ?? 'INSUFFICIENT_DATA');
    },
    async describeAlarms(region, names) {
      calls.describe++;
      return names.flatMap((name) => {
        const s = state.alarms.get(name);
        return s === undefined ? [] : [{ region, name, state: s }];
      });
    },
    async publishVerdicts() {},
  };
  return { calls, state, healthChecks, verdicts };
}

function setup() {
  const clock = createVirtualClock(1_000_000);
  const pipeline = createCallPipeline({
    clock,
    logger: pino({ level: 'silent' }),
    isZoneImpaired: () => false,
    random: () => 0.5,
    retry: { maxAttempts: 1 },
  });
  const f = fakes();
  const state = createDataPlaneState({
    cloud: { healthChecks: f.healthChecks, verdicts: f.verdicts },
    pipeline,
    now: () => clock.now(),
  });
  const signal = new AbortController().signal;
  const observe = (key = KEY, steady = true) => clock.run(state.observe(key, dataPlanePolicy(), signal, { steady }));
  return { clock, f, state, observe };
}

async function prepareAll(state: ReturnType<typeof setup>['state'], key = KEY) {
  for (const id of ['use1-a', 'use1-b', 'use1-c', 'usw2']) {
    const res = verdictResources(key, id, DP);
    await state.verdicts!.putVerdictAlarm({
      region: 'us-west-2',
      name: res.alarmName,
      namespace: 'FailoverOperator',
      metricName: res.metricName,
      dimensions: res.dimensions,
      periodSeconds: 60,
      description: '',
    });
    await state.healthChecks!.createAlarmHealthCheck({
      callerReference: res.callerReference,
      alarm: { region: 'us-west-2', name: res.alarmName },
      insufficientDataHealthStatus: 'LastKnownStatus',
      tags: res.tags,
    });
  }
}

describe('data-plane state', () => {
  it('finds the checks it created without listing again (write-through), and one listing serves every policy', async () => {
    const { f, state, observe } = setup();
    await prepareAll(state);
    await prepareAll(state, 'shop/other');
    const first = await observe();
    expect(Object.keys(first!.checks).sort()).toEqual(['use1-a', 'use1-b', 'use1-c', 'usw2']);
    const other = await observe('shop/other');
    expect(Object.keys(other!.checks)).toHaveLength(4);
    expect(f.calls.list).toBeLessThanOrEqual(1);
  });

  it('keeps the last listing when Route 53 fails, and during an event does not list at all', async () => {
    const { clock, f, state, observe } = setup();
    await prepareAll(state);
    await observe();
    await clock.advance(10 * 60_000);
    f.state.failList = true;
    const during = await observe();
    expect(Object.keys(during!.checks)).toHaveLength(4); // the checks are still attached; the listing just failed
    expect(during!.unknown).toEqual(['ListHealthChecks: down']); // and the status says the read failed
    const listedBefore = f.calls.list;
    await clock.advance(10 * 60_000);
    await observe(KEY, false); // a zone is not Healthy: no Route 53 read at all
    expect(f.calls.list).toBe(listedBefore);
  });

  it('takes the verdict it published over the alarm, and reads the alarm again until it shows that verdict', async () => {
    const { f, state, observe } = setup();
    await prepareAll(state);
    const a = verdictResources(KEY, 'use1-a', DP);
    for (const id of ['use1-a', 'use1-b', 'use1-c', 'usw2'])
      f.state.alarms.set(verdictResources(KEY, id, DP).alarmName, 'OK');
    await observe();
    await state.verdicts!.publishVerdicts('us-west-2', 'FailoverOperator', [
      { metricName: a.metricName, dimensions: a.dimensions, value: 1, at: 0 },
    ]);
    const describesBefore = f.calls.describe;
    const published = await observe();
    expect(published!.verdicts['use1-a']).toBe('drain'); // what we published, though the alarm is still OK
    expect(published!.alarms['use1-a']).toBe('OK');
    expect(f.calls.describe).toBeGreaterThan(describesBefore); // re-read: the alarm does not show it yet
    f.state.alarms.set(a.alarmName, 'ALARM');
    const shown = await observe();
    expect(shown!.alarms['use1-a']).toBe('ALARM');
    const settled = f.calls.describe;
    await observe();
    expect(f.calls.describe).toBe(settled); // shows the verdict: cached again
  });

  it('after a restart (no ledger), the alarms say which verdict is in force', async () => {
    const { f, state } = setup();
    await prepareAll(state);
    // A new process: nothing published, nothing cached.
    const { clock } = setup();
    const pipeline = createCallPipeline({ clock, logger: pino({ level: 'silent' }), isZoneImpaired: () => false });
    const restarted = createDataPlaneState({
      cloud: { healthChecks: f.healthChecks, verdicts: f.verdicts },
      pipeline,
      now: () => clock.now(),
    });
    const observe = () => clock.run(restarted.observe(KEY, dataPlanePolicy(), new AbortController().signal));
    f.state.alarms.set(verdictResources(KEY, 'use1-b', DP).alarmName, 'ALARM');
    f.state.alarms.set(verdictResources(KEY, 'use1-a', DP).alarmName, 'OK');
    const o = await observe();
    expect(o!.verdicts).toMatchObject({ 'use1-a': 'serve', 'use1-b': 'drain' });
  });
});
