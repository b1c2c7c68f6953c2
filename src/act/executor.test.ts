import pino from 'pino';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { FailoverPolicy } from '../api/index.ts';
import { CloudError } from '../cloud/errors.ts';
import type { DbInstance, DnsRecord } from '../cloud/types.ts';
import type { PlannedAction } from '../decide/types.ts';
import { createCallPipeline } from './call-pipeline.ts';
import type { CircuitBreakerOptions } from './circuit-breaker.ts';
import { ActionRejected, CircuitOpenError } from './errors.ts';
import {
  ACTION_BACKOFF_BASE_MS,
  ACTION_BACKOFF_MAX_MS,
  actionBackoffMs,
  createExecutor,
  type ExecuteOptions,
} from './executor.ts';
import { findEntry } from './journal.ts';
import { createInMemoryJournalStore } from './journal-store.ts';
import type { ExecutorPolicy } from './perform-action.ts';
import { createFakeCloud } from './testing/fake-cloud.ts';
import { seededRandom } from './testing/seeded-random.ts';
import { createVirtualClock } from './testing/virtual-clock.ts';
import type { ActionEvent, ActionMetrics } from './trail.ts';

const T0 = Date.UTC(2011, 3, 21, 8, 0, 0);
const KEY = 'shop/checkout';

const policy: ExecutorPolicy = {
  spec: {
    traffic: {
      route53: {
        hostedZoneId: 'Z0123456789',
        recordName: 'api.example.com.',
        type: 'A',
        writerRecord: { recordName: 'db.example.com.', type: 'CNAME', ttl: 30 },
      },
    },
    guardrails: { maxWritesPerMinute: 30 },
  },
};

const records: DnsRecord[] = [
  { name: 'api.example.com.', type: 'A', ttl: 60, values: ['10.0.1.10'], setIdentifier: 'use1-a', weight: 100 },
  { name: 'api.example.com.', type: 'A', ttl: 60, values: ['10.0.2.10'], setIdentifier: 'use1-b', weight: 100 },
  {
    name: 'api.example.com.',
    type: 'A',
    ttl: 60,
    values: ['10.1.1.10', '10.1.1.11'],
    setIdentifier: 'usw2',
    weight: 0,
  },
];

const replica: DbInstance = {
  region: 'us-west-2',
  id: 'orders-usw2',
  arn: 'arn:aws:rds:us-west-2:123456789012:db:orders-usw2',
  status: 'available',
  zone: 'us-west-2a',
  replicaSourceId: 'arn:aws:rds:us-east-1:123456789012:db:orders',
  backupRetentionPeriod: 1,
  multiAz: false,
};
const primary: DbInstance = { ...replica, region: 'us-east-1', id: 'orders', arn: 'arn:…:orders', zone: 'us-east-1a' };
delete primary.replicaSourceId;

const drain: PlannedAction = {
  id: 'weights/api/e1',
  action: { kind: 'SetWeights', weights: { 'use1-a': 0, usw2: 50 } },
  rule: 'PB-5',
  target: 'api.example.com. A',
  region: 'us-east-1',
  zone: 'us-east-1a',
  reason: 'zone us-east-1a impaired',
};
const promote: PlannedAction = {
  id: 'promote/orders-usw2/e1',
  action: {
    kind: 'PromoteReplica',
    region: 'us-west-2',
    dbInstanceIdentifier: 'orders-usw2',
    backupRetentionPeriod: 7,
  },
  rule: 'PB-6',
  target: 'orders-usw2',
  region: 'us-west-2',
  reason: 'region us-east-1 impaired; lag 3 s within 30 s',
};
const pointWriter: PlannedAction = {
  id: 'writer/orders-usw2/e1',
  action: { kind: 'SetWriterRecord', value: 'orders-usw2.abc.us-west-2.rds.amazonaws.com' },
  rule: 'PB-7',
  target: 'db.example.com.',
  reason: 'promoted replica is the writer',
};
const reboot: PlannedAction = {
  id: 'reboot/orders/e1',
  action: { kind: 'RebootDBInstance', region: 'us-east-1', dbInstanceIdentifier: 'orders' },
  rule: 'PB-9',
  target: 'orders',
  region: 'us-east-1',
  zone: 'us-east-1a',
  reason: 'stuck in storage-full',
};
const launch: PlannedAction = {
  id: 'launch/us-east-1b/e1',
  action: {
    kind: 'LaunchReplacements',
    region: 'us-east-1',
    zone: 'us-east-1b',
    count: 2,
    launchTemplateId: 'lt-0abc',
  },
  rule: 'PB-4',
  target: 'us-east-1b',
  region: 'us-east-1',
  zone: 'us-east-1b',
  reason: 'replace capacity lost in us-east-1a',
};

function setup(
  options: {
    impaired?: string[];
    breaker?: Partial<CircuitBreakerOptions>;
    failSaveWhen?: (ids: string) => boolean;
  } = {},
) {
  const clock = createVirtualClock(T0);
  const cloud = createFakeCloud({ records, dbs: [replica, primary] });
  let saves = 0;
  const store = createInMemoryJournalStore(
    {},
    {
      onSave: (_key, journal) => {
        saves++;
        const summary = journal.map((e) => `${e.id}=${e.state}`).join(',');
        cloud.trail.push(`save:${summary}`);
        if (options.failSaveWhen?.(summary)) {
          options.failSaveWhen = undefined;
          throw new Error('process killed');
        }
      },
    },
  );
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const events: ActionEvent[] = [];
  const metrics: Parameters<ActionMetrics['observeAction']>[0][] = [];
  const pipeline = createCallPipeline({
    clock,
    logger,
    isZoneImpaired: (_region, zone) => (options.impaired ?? []).includes(zone),
    random: seededRandom(11),
    ...(options.breaker && { circuitBreaker: options.breaker }),
  });
  const newExecutor = () =>
    createExecutor({
      cloud,
      pipeline,
      clock,
      logger,
      journalStore: store,
      events: { emit: (_key, event) => void events.push(event) },
      metrics: { observeAction: (sample) => void metrics.push(sample) },
    });
  let executor = newExecutor();
  const run = (actions: PlannedAction[], opts: Partial<ExecuteOptions> = {}, p: ExecutorPolicy = policy) =>
    clock.run(executor.execute(KEY, p, { actions }, { signal: new AbortController().signal, dryRun: false, ...opts }));
  const restart = () => {
    executor = newExecutor();
  };
  return { clock, cloud, store, logs, events, metrics, run, restart, saves: () => saves };
}

describe('executor', () => {
  it('accepts a validated FailoverPolicy as its narrow policy input', () => {
    expectTypeOf<FailoverPolicy>().toExtend<ExecutorPolicy>();
  });

  it('writes the writer record in its own hosted zone when the policy names one', async () => {
    const { cloud, run } = setup();
    const route53 = policy.spec.traffic!.route53!;
    const p: ExecutorPolicy = {
      spec: {
        traffic: { route53: { ...route53, writerRecord: { ...route53.writerRecord!, hostedZoneId: 'ZWRITER' } } },
      },
    };
    await run([pointWriter], {}, p);
    expect(cloud.callsOf('upsertRecords')[0]!.args[0]).toBe('ZWRITER');
  });

  it('saves the intent before calling AWS and the outcome after', async () => {
    const { cloud, run } = setup();
    const result = await run([drain]);
    expect(result.done).toEqual([drain]);
    expect(cloud.trail).toEqual([
      'save:weights/api/e1=Pending',
      'call:listRecords',
      'call:upsertRecords',
      'save:weights/api/e1=Done',
    ]);
  });

  it('sets weights with exactly one change batch of UPSERTs, keeping values and TTL, deleting nothing', async () => {
    const { cloud, run, store } = setup();
    await run([drain]);
    const writes = cloud.calls.filter((c) => !['listRecords', 'getChangeStatus'].includes(c.op));
    expect(writes.map((c) => c.op)).toEqual(['upsertRecords']);
    const [zoneId, batch] = writes[0]!.args as [string, DnsRecord[]];
    expect(zoneId).toBe('Z0123456789');
    expect(batch).toEqual([
      { ...records[0], weight: 0 },
      { ...records[2], weight: 50 },
    ]);
    expect(cloud.records).toHaveLength(3);
    expect(cloud.records.map((r) => [r.setIdentifier, r.weight])).toEqual([
      ['use1-a', 0],
      ['use1-b', 100],
      ['usw2', 50],
    ]);
    expect(findEntry(store.peek(KEY), drain.id)).toMatchObject({ state: 'Done', requestToken: 'C1' });
  });

  it('never re-issues an action the journal has Done when the same plan runs again', async () => {
    const { cloud, run } = setup();
    await run([drain, launch]); // the drain, then the rest deferred while its change settles
    await run([drain, launch]); // the launch
    const callsAfterFirst = cloud.calls.length;
    const again = await run([drain, launch]);
    expect(again.alreadyDone).toEqual([drain, launch]);
    expect(again.done).toEqual([]);
    expect(cloud.calls.length).toBe(callsAfterFirst);
  });

  it('refuses a weight change that would leave every record at 0', async () => {
    const { cloud, run } = setup();
    const allZero: PlannedAction = {
      ...drain,
      id: 'w0',
      action: { kind: 'SetWeights', weights: { 'use1-a': 0, 'use1-b': 0 } },
    };
    const result = await run([allZero]);
    expect(result.failed?.error).toBeInstanceOf(ActionRejected);
    expect(cloud.callsOf('upsertRecords')).toHaveLength(0);
  });

  it('hands back to the queue as soon as Route 53 accepted the change, never waiting for INSYNC', async () => {
    const { cloud, clock, run, store } = setup();
    cloud.pendingPolls = 1_000;
    const result = await run([drain, launch]);
    expect(result.done).toEqual([drain]);
    expect(result.deferred).toEqual([launch]);
    expect(result.requeueAfterMs).toBe(3_000);
    expect(result.pendingDnsChange).toBe('C1');
    expect(clock.now() - T0).toBeLessThan(1_000); // the read and the write, paced 250 ms apart: no wait after
    expect(cloud.callsOf('getChangeStatus')).toHaveLength(0);
    expect(cloud.callsOf('runInstances')).toHaveLength(0);
    // Never "INSYNC" in the detail: a fence counts as propagated only from the observed status (PB-7).
    expect(findEntry(store.peek(KEY), drain.id)?.detail).not.toContain('INSYNC');
  });

  it('points the writer record with an UPSERT named from the policy', async () => {
    const { cloud, run } = setup();
    await run([pointWriter]);
    expect(cloud.callsOf('upsertRecords')[0]!.args[1]).toEqual([
      { name: 'db.example.com.', type: 'CNAME', ttl: 30, values: ['orders-usw2.abc.us-west-2.rds.amazonaws.com'] },
    ]);
  });

  it('starts a promotion and requeues instead of waiting minutes, deferring what depends on it', async () => {
    const { cloud, run } = setup();
    const result = await run([promote, pointWriter]);
    expect(result.done).toEqual([promote]);
    expect(result.deferred).toEqual([pointWriter]);
    expect(result.requeueAfterMs).toBe(30_000);
    expect(cloud.callsOf('promoteReadReplica').map((c) => c.args)).toEqual([['us-west-2', 'orders-usw2', 7]]);
  });

  it('skips a reboot in an impaired zone citing PB-3, records it, and goes on', async () => {
    const { cloud, run, store, events, logs, metrics } = setup({ impaired: ['us-east-1a'] });
    const result = await run([reboot, launch]);
    expect(cloud.callsOf('rebootInstance')).toHaveLength(0);
    expect(result.skipped).toEqual([
      {
        kind: 'RebootDBInstance',
        target: 'orders',
        zone: 'us-east-1a',
        region: 'us-east-1',
        rule: 'PB-3',
        reason: 'zone us-east-1a impaired',
      },
    ]);
    expect(result.done).toEqual([launch]);
    expect(findEntry(store.peek(KEY), reboot.id)).toMatchObject({ state: 'Skipped', rule: 'PB-3' });
    expect(events[0]).toMatchObject({
      type: 'Warning',
      reason: 'ActionSkipped',
      rule: 'PB-3',
      message: 'PB-3 skipped RebootDBInstance on orders: zone us-east-1a impaired',
    });
    expect(logs.find((l) => l.msg === events[0]!.message)).toMatchObject({
      policy: KEY,
      action: 'RebootDBInstance',
      target: 'orders',
      zone: 'us-east-1a',
      region: 'us-east-1',
      rule: 'PB-3',
    });
    expect(metrics.map((m) => [m.kind, m.result, m.rule])).toEqual([
      ['RebootDBInstance', 'skipped', 'PB-3'],
      ['LaunchReplacements', 'done', 'PB-4'],
    ]);
  });

  it('launches with the action id as clientToken, recorded with the intent before the call', async () => {
    const { cloud, run, store } = setup();
    await run([launch]);
    expect(cloud.callsOf('runInstances')[0]!.args[1]).toMatchObject({
      clientToken: launch.id,
      zone: 'us-east-1b',
      count: 2,
    });
    expect(findEntry(store.peek(KEY), launch.id)).toMatchObject({ state: 'Done', requestToken: launch.id });
  });

  it('after a crash between the call and the Done record, lets the observation decide: no second promotion', async () => {
    const { cloud, run, restart, store } = setup({ failSaveWhen: (s) => s.includes('promote/orders-usw2/e1=Done') });
    await expect(run([promote])).rejects.toThrow('process killed');
    expect(findEntry(store.peek(KEY), promote.id)?.state).toBe('Pending');
    expect(cloud.callsOf('promoteReadReplica')).toHaveLength(1);

    restart();
    const result = await run([promote]);
    expect(result.done).toEqual([promote]);
    expect(cloud.callsOf('promoteReadReplica')).toHaveLength(1);
    expect(findEntry(store.peek(KEY), promote.id)).toMatchObject({ state: 'Done' });
    expect(findEntry(store.peek(KEY), promote.id)?.detail).toMatch(/already promoted/);
  });

  it('resuming a Pending promotion whose replica is mid-promotion (modifying) does not call it again', async () => {
    const { cloud, run, store } = setup();
    cloud.dbs.get('us-west-2/orders-usw2')!.status = 'modifying';
    await store.save(KEY, [
      {
        id: promote.id,
        action: 'PromoteReplica',
        target: 'orders-usw2',
        rule: 'PB-6',
        state: 'Pending',
        startedAt: 'x',
      },
    ]);
    const result = await run([promote]);
    expect(result.done).toEqual([promote]);
    expect(result.requeueAfterMs).toBe(30_000);
    expect(cloud.callsOf('promoteReadReplica')).toHaveLength(0);
    expect(findEntry(store.peek(KEY), promote.id)?.detail).toMatch(/in progress/);
  });

  it('does not repeat a promotion whose response was lost; the next run observes it was promoted', async () => {
    const { cloud, run, clock } = setup();
    const lost = new CloudError({
      kind: 'retryable',
      service: 'rds',
      operation: 'PromoteReadReplica',
      code: 'InternalFailure',
      message: 'lost',
    });
    cloud.fail('promoteReadReplica', { kind: 'after', error: lost });
    const first = await run([promote]);
    expect(first.failed?.error).toBe(lost);
    expect(cloud.callsOf('promoteReadReplica')).toHaveLength(1);
    await clock.advance(actionBackoffMs(1, promote.id));
    const second = await run([promote]);
    expect(second.done).toEqual([promote]);
    expect(cloud.callsOf('promoteReadReplica')).toHaveLength(1);
  });

  it('re-issues a launch interrupted after the call with the same clientToken, so no extra instances', async () => {
    const { cloud, run, restart } = setup({ failSaveWhen: (s) => s.includes('launch/us-east-1b/e1=Done') });
    await expect(run([launch])).rejects.toThrow('process killed');
    restart();
    const result = await run([launch]);
    expect(result.done).toEqual([launch]);
    const tokens = cloud.callsOf('runInstances').map((c) => (c.args[1] as { clientToken: string }).clientToken);
    expect(tokens).toEqual([launch.id, launch.id]);
    expect(cloud.instancesByToken.size).toBe(1);
  });

  it('stops at the first failure, records it, and defers the rest', async () => {
    const { cloud, run, store, events } = setup();
    const denied = new CloudError({
      kind: 'terminal',
      service: 'route53',
      operation: 'ChangeResourceRecordSets',
      code: 'AccessDenied',
      message: 'denied',
    });
    cloud.fail('upsertRecords', { kind: 'error', error: denied });
    const result = await run([drain, launch]);
    expect(result.failed).toEqual({ action: drain, error: denied });
    expect(result.deferred).toEqual([launch]);
    expect(cloud.callsOf('upsertRecords')).toHaveLength(1);
    expect(cloud.callsOf('runInstances')).toHaveLength(0);
    expect(findEntry(store.peek(KEY), drain.id)).toMatchObject({ state: 'Failed', error: 'AccessDenied: denied' });
    expect(events.at(-1)).toMatchObject({ type: 'Warning', reason: 'ActionFailed', rule: 'PB-5' });
  });

  it('requeues after the cool-off when the breaker is open', async () => {
    const { cloud, run } = setup({ breaker: { failureThreshold: 2 } });
    const down = new CloudError({
      kind: 'retryable',
      service: 'ec2',
      operation: 'RunInstances',
      code: 'InternalError',
      message: 'down',
    });
    cloud.fail('runInstances', { kind: 'error', error: down }, 10);
    const result = await run([launch]);
    expect(result.failed?.error).toBeInstanceOf(CircuitOpenError);
    expect(cloud.callsOf('runInstances')).toHaveLength(2);
    expect(result.requeueAfterMs).toBeGreaterThan(29_000);
    expect(result.requeueAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('in dry run writes nothing (no AWS call, no journal) and reports every action as wouldDo', async () => {
    for (const variant of [
      { opts: { dryRun: true }, p: policy },
      { opts: {}, p: { spec: { ...policy.spec, dryRun: true } } },
    ]) {
      const { cloud, run, saves, events } = setup();
      const result = await run([drain, promote, launch], variant.opts, variant.p);
      expect(result.wouldDo).toEqual([drain, promote, launch]);
      expect(result.done).toEqual([]);
      expect(cloud.calls).toEqual([]);
      expect(saves()).toBe(0);
      expect(events.map((e) => e.reason)).toEqual(['ActionDryRun', 'ActionDryRun', 'ActionDryRun']);
    }
  });

  it('leaves the intent Pending when cancelled mid-action, and rethrows the cancellation', async () => {
    const { cloud, clock, store } = setup();
    cloud.fail('runInstances', { kind: 'hang' });
    const controller = new AbortController();
    const executor = createExecutor({
      cloud,
      pipeline: createCallPipeline({ clock, logger: pino({ level: 'silent' }), isZoneImpaired: () => false }),
      clock,
      logger: pino({ level: 'silent' }),
      journalStore: store,
    });
    const running = executor.execute(KEY, policy, { actions: [launch] }, { signal: controller.signal, dryRun: false });
    running.catch(() => {});
    await clock.advance(1_000);
    controller.abort(new Error('lost leadership'));
    await expect(running).rejects.toThrow('lost leadership');
    expect(findEntry(store.peek(KEY), launch.id)?.state).toBe('Pending');
  });
});

describe('backoff of a failed action across runs (PB-8)', () => {
  it('waits base × 2^(attempts−1) with jitter, capped, before the same action is tried again', () => {
    for (let attempts = 1; attempts <= 12; attempts++) {
      const ceiling = Math.min(ACTION_BACKOFF_MAX_MS, ACTION_BACKOFF_BASE_MS * 2 ** (attempts - 1));
      const wait = actionBackoffMs(attempts, 'weights/x/y');
      expect(wait).toBeGreaterThanOrEqual(ceiling / 2);
      expect(wait).toBeLessThanOrEqual(ceiling);
    }
    expect(actionBackoffMs(3, 'a')).toBe(actionBackoffMs(3, 'a'));
    expect(new Set(['a', 'b', 'c', 'd'].map((id) => actionBackoffMs(6, id))).size).toBeGreaterThan(1);
  });

  it('defers a failed drain until its backoff ends, reports when, and tries it once then', async () => {
    const { cloud, run, clock } = setup();
    const down = new CloudError({
      kind: 'terminal',
      service: 'route53',
      operation: 'ChangeResourceRecordSets',
      code: 'AccessDenied',
      message: 'denied',
    });
    cloud.fail('upsertRecords', { kind: 'error', error: down });
    await run([drain]);
    const calls = cloud.callsOf('upsertRecords').length;
    const waiting = await run([drain, launch]);
    expect(waiting.backoff).toMatchObject({ action: drain, attempts: 1, lastError: expect.stringContaining('denied') });
    expect(waiting.deferred).toEqual([drain, launch]);
    expect(waiting.requeueAfterMs).toBe(waiting.backoff!.nextAttemptAt - clock.now());
    expect(cloud.callsOf('upsertRecords')).toHaveLength(calls);
    await clock.advance(waiting.requeueAfterMs!);
    const again = await run([drain]);
    expect(again.backoff).toBeUndefined();
    expect(cloud.callsOf('upsertRecords').length).toBeGreaterThan(calls);
  });
});

describe('a failing streak on one target (PB-8)', () => {
  const denied = () =>
    new CloudError({
      kind: 'terminal',
      service: 'route53',
      operation: 'ChangeResourceRecordSets',
      code: 'InternalFailure',
      message: 'internal error',
    });
  // The zone went from Degraded to Impaired while Route 53 failed: the plan now asks for other weights (a new id).
  const deeper: PlannedAction = {
    ...drain,
    id: 'weights/api/e2',
    action: { kind: 'SetWeights', weights: { 'use1-a': 0, usw2: 100 } },
  };

  it("a new id for the same record waits out the failed one's backoff and counts on from its attempts", async () => {
    const { cloud, run, clock, store } = setup();
    cloud.fail('upsertRecords', { kind: 'error', error: denied() }, 3);
    await run([drain]);
    await clock.advance(actionBackoffMs(1, drain.id));
    await run([drain]); // attempt 2 fails too
    expect(findEntry(store.peek(KEY), drain.id)).toMatchObject({ state: 'Failed', attempts: 2 });
    const calls = cloud.callsOf('upsertRecords').length;

    const waiting = await run([deeper]);
    expect(waiting.backoff).toMatchObject({ action: deeper, attempts: 2 });
    expect(waiting.backoff!.nextAttemptAt).toBe(
      Date.parse(findEntry(store.peek(KEY), drain.id)!.finishedAt!) + actionBackoffMs(2, deeper.id),
    );
    expect(cloud.callsOf('upsertRecords')).toHaveLength(calls);

    await clock.advance(waiting.requeueAfterMs!);
    await run([deeper]);
    expect(cloud.callsOf('upsertRecords').length).toBeGreaterThan(calls);
    expect(findEntry(store.peek(KEY), deeper.id)).toMatchObject({ state: 'Failed', attempts: 3 });
  });

  it('a success on the record ends the streak; another record or kind never inherits it', async () => {
    const { cloud, run, clock } = setup();
    cloud.fail('upsertRecords', { kind: 'error', error: denied() });
    await run([drain]);
    const otherRecord: PlannedAction = { ...deeper, id: 'weights/www/e1', target: 'www.example.com. A' };
    expect((await run([otherRecord])).backoff).toBeUndefined();

    await clock.advance(actionBackoffMs(1, drain.id));
    expect((await run([drain])).done).toEqual([drain]);
    const after = await run([deeper]);
    expect(after.backoff).toBeUndefined();
    expect(after.done).toEqual([deeper]);
  });
});

describe('a change accepted', () => {
  it('is Done at once, its confirmation left to the next reconcile: a failing GetChange cannot fail it', async () => {
    const { cloud, run, store } = setup();
    const unavailable = new CloudError({
      kind: 'terminal',
      service: 'route53',
      operation: 'GetChange',
      code: 'AccessDenied',
      message: 'GetChange denied',
    });
    cloud.fail('getChangeStatus', { kind: 'error', error: unavailable });
    const result = await run([drain]);
    expect(result.failed).toBeUndefined();
    expect(result.done).toEqual([drain]);
    expect(result.pendingDnsChange).toBe('C1');
    expect(findEntry(store.peek(KEY), drain.id)).toMatchObject({
      state: 'Done',
      detail: expect.stringContaining('change C1 accepted, PENDING'),
    });
  });
});

describe('executor Events: each reason only for the outcome it claims', () => {
  const accessDenied = () =>
    new CloudError({
      kind: 'terminal',
      service: 'ec2',
      operation: 'RunInstances',
      code: 'AccessDenied',
      message: 'denied',
    });
  // Each outcome and the one Event per action it must produce (reason, type); no other reason may appear.
  const TABLE: Array<{
    outcome: string;
    run: () => Promise<ActionEvent[]>;
    expected: Array<[string, ActionEvent['reason'], ActionEvent['type']]>;
  }> = [
    {
      outcome: 'performed',
      run: async () => {
        const { run, events } = setup();
        await run([launch]);
        return events;
      },
      expected: [[launch.id, 'ActionPerformed', 'Normal']],
    },
    {
      outcome: 'failed (then the rest deferred, with no Event)',
      run: async () => {
        const { cloud, run, events } = setup();
        cloud.fail('runInstances', { kind: 'error', error: accessDenied() });
        await run([launch, drain]);
        return events;
      },
      expected: [[launch.id, 'ActionFailed', 'Warning']],
    },
    {
      outcome: 'skipped by PB-3, the next one performed',
      run: async () => {
        const { run, events } = setup({ impaired: ['us-east-1a'] });
        await run([reboot, launch]);
        return events;
      },
      expected: [
        [reboot.id, 'ActionSkipped', 'Warning'],
        [launch.id, 'ActionPerformed', 'Normal'],
      ],
    },
    {
      outcome: 'dry run',
      run: async () => {
        const { run, events } = setup();
        await run([drain, launch], { dryRun: true });
        return events;
      },
      expected: [
        [drain.id, 'ActionDryRun', 'Normal'],
        [launch.id, 'ActionDryRun', 'Normal'],
      ],
    },
  ];

  it.each(TABLE)('$outcome', async ({ run, expected }) => {
    const events = await run();
    expect(events.map((e) => [e.action?.id, e.reason, e.type])).toEqual(expected);
    for (const e of events) expect(e.message.startsWith(`${e.rule} `)).toBe(true);
  });
});
