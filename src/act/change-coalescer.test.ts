import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CloudError } from '../cloud/errors.ts';
import type { DnsRecord } from '../cloud/types.ts';
import type { PlannedAction } from '../decide/types.ts';
import { createCallPipeline } from './call-pipeline.ts';
import { createChangeCoalescer, DEFAULT_LINGER_MS } from './change-coalescer.ts';
import { LeadershipExpiredError } from './errors.ts';
import { createExecutor } from './executor.ts';
import { findEntry } from './journal.ts';
import { createInMemoryJournalStore } from './journal-store.ts';
import type { ExecutorPolicy } from './perform-action.ts';
import { createRateLimiter, type RateLimits } from './rate-limit.ts';
import { createFakeCloud } from './testing/fake-cloud.ts';
import { seededRandom } from './testing/seeded-random.ts';
import { createVirtualClock } from './testing/virtual-clock.ts';

const T0 = Date.UTC(2011, 3, 21, 8, 0, 0);
const ZONE = 'ZSHARED';
const N = 20;

const nameOf = (i: number) => `api-${i}.example.com.`;
const group = (i: number): DnsRecord[] =>
  ['a', 'b', 'c'].map((az, k) => ({
    name: nameOf(i),
    type: 'A',
    ttl: 60,
    values: [`10.${i}.${k}.10`],
    setIdentifier: `use1-${az}`,
    weight: 100,
  }));
const policyOf = (i: number, maxWritesPerMinute = 30): ExecutorPolicy => ({
  spec: {
    traffic: { route53: { hostedZoneId: ZONE, recordName: nameOf(i), type: 'A' } },
    guardrails: { maxWritesPerMinute },
  },
});
const drainOf = (i: number): PlannedAction => ({
  id: `weights/api-${i}/e1`,
  action: { kind: 'SetWeights', weights: { 'use1-a': 0 } },
  rule: 'PB-5',
  target: `${nameOf(i)} A`,
  region: 'us-east-1',
  zone: 'us-east-1a',
  reason: 'zone us-east-1a impaired',
});
const keyOf = (i: number) => `shop/checkout-${i}`;
const signal = new AbortController().signal;

function setup(
  options: {
    /** What the shared read before a change answers; the fake's live group by default. */
    currentRecords?: (name: string) => DnsRecord[];
    rateLimits?: Partial<RateLimits>;
    batchLimits?: { maxRecords: number; maxChars: number };
    /** How long saving a policy's intent (its first save) takes, in clock time; 0 by default. */
    intentSaveMs?: (policyKey: string) => number;
    lingerMs?: number;
  } = {},
) {
  const clock = createVirtualClock(T0);
  const cloud = createFakeCloud({ records: Array.from({ length: N }, (_, i) => group(i)).flat() });
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const rateLimiter = createRateLimiter(clock, options.rateLimits);
  const pipeline = createCallPipeline({
    clock,
    logger,
    isZoneImpaired: () => false,
    random: seededRandom(7),
    rateLimiter,
  });
  const coalescer = createChangeCoalescer({
    dns: cloud.dns,
    pipeline,
    rateLimiter,
    clock,
    logger,
    ...(options.batchLimits && { limits: options.batchLimits }),
    ...(options.lingerMs !== undefined && { lingerMs: options.lingerMs }),
  });
  const store = createInMemoryJournalStore(
    {},
    {
      onSave: async (key, journal) => {
        const states = journal.map((e) => e.state).join(',');
        const delay = states === 'Pending' ? (options.intentSaveMs?.(key) ?? 0) : 0;
        if (delay > 0) await clock.sleep(delay);
        cloud.trail.push(`save:${key}:${states}`);
      },
    },
  );
  const executor = createExecutor({
    cloud,
    pipeline,
    clock,
    logger,
    journalStore: store,
    coalescer,
    currentRecords: async (_hostedZoneId, name, type) => {
      if (options.currentRecords) return options.currentRecords(name);
      cloud.trail.push('shared-read');
      return structuredClone(cloud.records.filter((r) => r.name === name && r.type === type));
    },
  });
  /** Spends the shared Route 53 limit so the next request waits for its grant (as in an outage). */
  const drainRoute53Bucket = async (tokens: number) => {
    for (let i = 0; i < tokens; i++) {
      await rateLimiter.acquire(
        { service: 'route53', operation: 'GetChange', region: 'us-east-1', write: false, partOfAction: true },
        signal,
      );
    }
  };
  const drainAll = (count = N) =>
    clock.run(
      Promise.all(
        Array.from({ length: count }, (_, i) =>
          executor.execute(keyOf(i), policyOf(i), { actions: [drainOf(i)] }, { signal, dryRun: false }),
        ),
      ),
    );
  const weightOf = (i: number, setId: string) =>
    cloud.records.find((r) => r.name === nameOf(i) && r.setIdentifier === setId)?.weight;
  /** When each upsertRecords request went out, ms after T0, with how many records it carried. */
  const sends: Array<{ at: number; records: number }> = [];
  const upsert = cloud.dns.upsertRecords;
  cloud.dns.upsertRecords = (...args) => {
    sends.push({ at: clock.now() - T0, records: args[1].length });
    return upsert(...args);
  };
  return { clock, cloud, logs, coalescer, store, rateLimiter, drainRoute53Bucket, drainAll, weightOf, sends };
}

describe('change coalescer', () => {
  it('sends concurrent drains of many policies on one hosted zone as one change batch, each handed back PENDING at once', async () => {
    const t = setup({ rateLimits: { route53: [{ limit: 1, windowMs: 250 }] } });
    t.cloud.pendingPolls = 2; // PENDING twice, then INSYNC
    await t.drainRoute53Bucket(1);
    const results = await t.drainAll();

    const upserts = t.cloud.callsOf('upsertRecords');
    expect(upserts).toHaveLength(1);
    expect(upserts[0]!.args[1] as DnsRecord[]).toHaveLength(N);
    // No worker waits for INSYNC: the change is handed back, and the engine's next reconcile reads it (shared).
    expect(t.cloud.callsOf('getChangeStatus')).toHaveLength(0);
    const changeId = 'C1';
    for (let i = 0; i < N; i++) {
      expect(results[i]!.done).toEqual([drainOf(i)]);
      expect(results[i]!.pendingDnsChange).toBe(changeId);
      const entry = findEntry(t.store.peek(keyOf(i)), drainOf(i).id);
      expect(entry).toMatchObject({ state: 'Done', requestToken: changeId });
      expect([t.weightOf(i, 'use1-a'), t.weightOf(i, 'use1-b'), t.weightOf(i, 'use1-c')]).toEqual([0, 100, 100]);
    }
    // Every policy's intent was saved before the shared write; every completion after it.
    const write = t.cloud.trail.indexOf('call:upsertRecords');
    for (let i = 0; i < N; i++) {
      expect(t.cloud.trail.indexOf(`save:${keyOf(i)}:Pending`)).toBeLessThan(write);
      expect(t.cloud.trail.indexOf(`save:${keyOf(i)}:Done`)).toBeGreaterThan(write);
    }
    // Each policy keeps its own write trail line.
    const writeLines = t.logs.filter((l) => l.msg === 'completed AWS call' && l.write === true && l.policy);
    expect(new Set(writeLines.map((l) => l.policy))).toEqual(new Set(Array.from({ length: N }, (_, i) => keyOf(i))));
  });

  it('sends at once when nothing else is queued, and far fewer requests than policies when they trickle in', async () => {
    const t = setup();
    await t.drainAll();
    const upserts = t.cloud.callsOf('upsertRecords').length;
    expect(upserts).toBeGreaterThanOrEqual(1);
    expect(upserts).toBeLessThanOrEqual(N / 4);
    for (let i = 0; i < N; i++) expect(t.weightOf(i, 'use1-a')).toBe(0);
  });

  it('waits for drains known to be on their way: intents saved over 300 ms still leave in one batch', async () => {
    // An AZ fails: 20 policies decide at once, but their intent saves finish over 300 ms (a busy apiserver).
    const t = setup({ intentSaveMs: (key) => 15 * Number(key.slice(key.lastIndexOf('-') + 1)), lingerMs: 400 });
    const results = await t.drainAll();
    expect(t.sends).toEqual([{ at: 15 * (N - 1), records: N }]); // when the last intent was saved, all of them
    for (let i = 0; i < N; i++) {
      expect(results[i]!.done).toEqual([drainOf(i)]);
      expect(t.weightOf(i, 'use1-a')).toBe(0);
    }
  });

  it('waits for expected drains at most lingerMs after the first write queued', async () => {
    // Half the intents are saved at once; the other half take 2 s (longer than the linger): they ride a later batch.
    const t = setup({ intentSaveMs: (key) => (Number(key.slice(key.lastIndexOf('-') + 1)) % 2 === 0 ? 0 : 2_000) });
    await t.drainAll();
    expect(t.sends).toEqual([
      { at: DEFAULT_LINGER_MS, records: N / 2 },
      { at: 2_000, records: N / 2 },
    ]);
  });

  it('does not wait when nobody else is expected, nor for an expected policy that left without writing', async () => {
    const t = setup({ lingerMs: 5_000 });
    await t.clock.run(
      t.coalescer.submit({ hostedZoneId: ZONE, records: group(0).slice(0, 1), comment: 'c', policy: 'a', signal }),
    );
    expect(t.sends).toEqual([{ at: 0, records: 1 }]); // a lone write goes at once

    // Another hosted zone's expectation holds nobody here.
    const elsewhere = t.coalescer.expect('ZOTHER', 'shop/elsewhere');
    // An expected policy whose action ends without a write (released) stops holding the batch when it leaves.
    const leaving = t.coalescer.expect(ZONE, 'shop/leaving');
    const write = t.coalescer.submit({
      hostedZoneId: ZONE,
      records: group(1).slice(0, 1),
      comment: 'c',
      policy: 'b',
      signal,
    });
    await t.clock.run(t.clock.sleep(700));
    expect(t.sends).toHaveLength(1); // still held for shop/leaving
    leaving();
    leaving(); // idempotent
    await t.clock.run(write);
    expect(t.sends).toEqual([
      { at: 0, records: 1 },
      { at: 700, records: 1 },
    ]);
    elsewhere();
  });

  it('releases the expectation of a drain whose action fails before it writes', async () => {
    // Policy 1's group lacks the record it would drain, and its live read fails too: the action fails before any
    // write. Policy 0 must not wait for it the whole linger.
    const t = setup({
      lingerMs: 5_000,
      intentSaveMs: (key) => (key === keyOf(1) ? 100 : 0),
      currentRecords: (name) => (name === nameOf(1) ? [] : group(0)),
    });
    t.cloud.fail('listRecords', {
      kind: 'error',
      error: new CloudError({
        kind: 'terminal',
        service: 'route53',
        operation: 'ListResourceRecordSets',
        code: 'NoSuchHostedZone',
        message: 'gone',
      }),
    });
    const results = await t.drainAll(2);
    expect(results[1]!.done).toEqual([]);
    expect(results[1]!.failed?.error.message).toMatch(/gone/);
    expect(results[0]!.done).toEqual([drainOf(0)]);
    // Policy 1 failed at 350 ms (its save, then its live read's Route 53 grant): the batch left then, not at 5 s.
    expect(t.sends).toEqual([{ at: 350, records: 1 }]);
  });

  it('sends each policy on its own when a merged batch fails with a non-retryable error; one bad policy fails alone', async () => {
    const t = setup({ rateLimits: { route53: [{ limit: 1, windowMs: 250 }] } });
    const invalid = (message: string) =>
      new CloudError({
        kind: 'terminal',
        service: 'route53',
        operation: 'ChangeResourceRecordSets',
        code: 'InvalidChangeBatch',
        message,
      });
    t.cloud.fail('upsertRecords', { kind: 'error', error: invalid('merged batch refused') });
    t.cloud.fail('upsertRecords', { kind: 'error', error: invalid('policy 0 record refused') });
    await t.drainRoute53Bucket(1);
    const results = await t.drainAll(5);

    const upserts = t.cloud.callsOf('upsertRecords');
    expect(upserts).toHaveLength(1 + 5); // the merged one, then one per policy
    expect(upserts[0]!.args[1] as DnsRecord[]).toHaveLength(5);
    expect(upserts.slice(1).map((c) => (c.args[1] as DnsRecord[]).length)).toEqual([1, 1, 1, 1, 1]);
    expect(results[0]!.failed?.error.message).toBe('policy 0 record refused');
    expect(findEntry(t.store.peek(keyOf(0)), drainOf(0).id)?.state).toBe('Failed');
    for (let i = 1; i < 5; i++) {
      expect(results[i]!.done).toEqual([drainOf(i)]);
      expect(findEntry(t.store.peek(keyOf(i)), drainOf(i).id)?.state).toBe('Done');
      expect(t.weightOf(i, 'use1-a')).toBe(0);
    }
    expect(t.weightOf(0, 'use1-a')).toBe(100);
  });

  it('fails every policy of a batch (no per-policy fallback) when a retryable error outlasts the retries', async () => {
    const t = setup({ rateLimits: { route53: [{ limit: 1, windowMs: 250 }] } });
    const throttled = new CloudError({
      kind: 'throttled',
      service: 'route53',
      operation: 'ChangeResourceRecordSets',
      code: 'Throttling',
      message: 'Rate exceeded',
    });
    t.cloud.fail('upsertRecords', { kind: 'error', error: throttled }, 4);
    await t.drainRoute53Bucket(1);
    const results = await t.drainAll(3);
    expect(t.cloud.callsOf('upsertRecords')).toHaveLength(4); // the retries of ONE request, each with 3 policies
    for (let i = 0; i < 3; i++) expect(results[i]!.failed?.error.message).toBe('Rate exceeded');
  });

  it('never puts two changes of the same record (nor record group) in one batch, and keeps their order', async () => {
    const t = setup({ rateLimits: { route53: [{ limit: 1, windowMs: 250 }] } });
    await t.drainRoute53Bucket(1);
    const record = (weight: number, k = 0): DnsRecord => ({ ...group(0)[k]!, weight });
    const submit = (policy: string, records: DnsRecord[]) =>
      t.coalescer.submit({ hostedZoneId: ZONE, records, comment: policy, policy, signal });
    const ids = await t.clock.run(
      Promise.all([
        submit('shop/first', [record(10)]),
        submit('shop/other', group(1).slice(0, 1)),
        submit('shop/second', [record(20)]),
        submit('shop/third', [record(30), group(2)[0]!]),
        submit('shop/same-group', [record(0, 1)]), // another record of the first group: PB-5 is per group
      ]),
    );
    const batches = t.cloud.callsOf('upsertRecords').map((c) => c.args[1] as DnsRecord[]);
    for (const batch of batches) {
      const groups = batch.map((r) => `${r.name}|${r.type}`);
      expect(new Set(groups).size).toBe(groups.length);
    }
    expect(batches.map((b) => b.map((r) => `${r.name}${r.setIdentifier}:${r.weight}`))).toEqual([
      [`${nameOf(0)}use1-a:10`, `${nameOf(1)}use1-a:100`],
      [`${nameOf(0)}use1-a:20`],
      [`${nameOf(0)}use1-a:30`, `${nameOf(2)}use1-a:100`],
      [`${nameOf(0)}use1-b:0`],
    ]);
    expect(ids).toEqual(['C1', 'C1', 'C2', 'C3', 'C4']);
    expect(t.weightOf(0, 'use1-a')).toBe(30);
  });

  it('reads the group from the shared read before a change, and live when that read lacks a named record', async () => {
    const shared = setup();
    await shared.drainAll(3);
    expect(shared.cloud.callsOf('listRecords')).toHaveLength(0);
    // Twice per policy: started while the intent is saved, then the action's own (in the engine it joins the first).
    expect(shared.cloud.trail.filter((e) => e === 'shared-read')).toHaveLength(6);
    for (let i = 0; i < 3; i++) {
      // Neither read is a write: the intent is still saved before the change is sent.
      expect(shared.cloud.trail.indexOf(`save:${keyOf(i)}:Pending`)).toBeLessThan(
        shared.cloud.trail.indexOf('call:upsertRecords'),
      );
    }

    const stale = setup({ currentRecords: (name) => group(Number(name.slice(4, name.indexOf('.')))).slice(1) });
    const results = await stale.drainAll(2);
    expect(stale.cloud.callsOf('listRecords')).toHaveLength(2); // not refused for what the cache did not know
    expect(results.map((r) => r.done.length)).toEqual([1, 1]);
    expect(stale.weightOf(1, 'use1-a')).toBe(0);
  });

  it('keeps a batch within the change batch limits (an UPSERT counts twice)', async () => {
    const t = setup({
      rateLimits: { route53: [{ limit: 1, windowMs: 250 }] },
      batchLimits: { maxRecords: 4, maxChars: 1_000 },
    });
    await t.drainRoute53Bucket(1);
    await t.drainAll(5);
    expect(t.cloud.callsOf('upsertRecords').map((c) => (c.args[1] as DnsRecord[]).length)).toEqual([2, 2, 1]);
  });

  it("spends each policy's own write budget before it queues", async () => {
    const t = setup();
    const submit = () =>
      t.coalescer.submit({
        hostedZoneId: ZONE,
        records: group(0).slice(0, 1),
        comment: 'c',
        policy: 'shop/slow',
        maxWritesPerMinute: 6, // at most one in any 10 s
        signal,
      });
    await t.clock.run(submit());
    const before = t.clock.now();
    await t.clock.run(submit());
    expect(t.clock.now() - before).toBeGreaterThanOrEqual(9_000);
  });

  it('spends the write budget of every policy in a batch again on each retry of that batch', async () => {
    const t = setup({ rateLimits: { route53: [{ limit: 1, windowMs: 250 }] } });
    const throttled = new CloudError({
      kind: 'throttled',
      service: 'route53',
      operation: 'ChangeResourceRecordSets',
      code: 'Throttling',
      message: 'Rate exceeded',
    });
    t.cloud.fail('upsertRecords', { kind: 'error', error: throttled }, 2);
    const sentAt: number[] = [];
    const upsert = t.cloud.dns.upsertRecords;
    t.cloud.dns.upsertRecords = (...args) => {
      sentAt.push(t.clock.now() - T0);
      return upsert(...args);
    };
    await t.drainRoute53Bucket(1);
    const submit = (i: number) =>
      t.coalescer.submit({
        hostedZoneId: ZONE,
        records: group(i).slice(0, 1),
        comment: 'c',
        policy: keyOf(i),
        maxWritesPerMinute: 6, // at most one in any 10 s
        signal,
      });
    const ids = await t.clock.run(Promise.all([submit(0), submit(1)]));
    expect(ids).toEqual(['C1', 'C1']);
    // One batch carrying both policies; each attempt spent both budgets: the attempts are 10 s apart, not the
    expect(t.cloud.callsOf('upsertRecords').map((c) => (c.args[1] as DnsRecord[]).length)).toEqual([2, 2, 2]);
    // throttled retry's 1–2 s (the first attempt's share was spent at T0, as each policy queued).
    expect(sentAt[0]).toBeLessThan(1_000);
    expect(sentAt[1]).toBeGreaterThanOrEqual(10_000);
    expect(sentAt[2]).toBeGreaterThanOrEqual(20_000);
  });

  it('shares GetChange between concurrent waiters and remembers INSYNC', async () => {
    const t = setup();
    t.cloud.pendingPolls = 1;
    const status = () => t.coalescer.changeStatus('C9', { signal, maxAgeMs: 3_000 });
    expect(await t.clock.run(Promise.all([status(), status(), status()]))).toEqual(['PENDING', 'PENDING', 'PENDING']);
    expect(await t.clock.run(status())).toBe('PENDING'); // fetched less than 3 s ago
    expect(t.cloud.callsOf('getChangeStatus')).toHaveLength(1);
    await t.clock.run(t.clock.sleep(3_000));
    expect(await t.clock.run(status())).toBe('INSYNC');
    expect(await t.clock.run(status())).toBe('INSYNC');
    expect(t.cloud.callsOf('getChangeStatus')).toHaveLength(2);
  });

  it('rejects records that cannot be one batch or name a record twice, naming the policy', async () => {
    const t = setup();
    const big = { ...group(0)[0]!, values: ['x'.repeat(20_000)] };
    await expect(
      t.coalescer.submit({ hostedZoneId: ZONE, records: [big], comment: 'c', policy: 'shop/big', signal }),
    ).rejects.toThrow(/shop\/big do not fit one change batch/);
    await expect(
      t.coalescer.submit({
        hostedZoneId: ZONE,
        records: [group(0)[0]!, group(0)[0]!],
        comment: 'c',
        policy: 'shop/twice',
        signal,
      }),
    ).rejects.toThrow(/shop\/twice name one \(name, type, setIdentifier\) twice/);
  });
});

describe('change coalescer and leadership', () => {
  it('stops a batch in flight and everything queued behind it when leadership ends: nothing is resent', async () => {
    const clock = createVirtualClock(T0);
    const cloud = createFakeCloud({ records: [...group(0), ...group(1), ...group(2)] });
    const rateLimiter = createRateLimiter(clock);
    const term = new AbortController();
    const pipeline = createCallPipeline({
      clock,
      logger: pino({ level: 'silent' }),
      isZoneImpaired: () => false,
      rateLimiter,
      leadershipSignal: () => term.signal,
    });
    const sent: Array<AbortSignal | undefined> = [];
    const coalescer = createChangeCoalescer({
      dns: {
        upsertRecords: (zone, records, comment, opts) => {
          sent.push(opts?.signal);
          return cloud.dns.upsertRecords(zone, records, comment, opts);
        },
        getChangeStatus: (id, opts) => cloud.dns.getChangeStatus(id, opts),
      },
      pipeline,
      rateLimiter,
      clock,
      logger: pino({ level: 'silent' }),
    });
    cloud.fail('upsertRecords', { kind: 'hang' });
    const submit = (i: number) =>
      coalescer
        .submit({
          hostedZoneId: ZONE,
          records: group(i).map((r) => ({ ...r, weight: 0 })),
          comment: `drain ${i}`,
          policy: keyOf(i),
          signal, // the callers never cancel: only the leadership stops the shared write
        })
        .catch((err: unknown) => err);
    const first = submit(0);
    for (let i = 0; i < 5 && cloud.callsOf('upsertRecords').length === 0; i++) {
      await new Promise((r) => setImmediate(r));
    }
    expect(cloud.callsOf('upsertRecords')).toHaveLength(1); // policy 0's batch is in flight, hanging
    const queued = [submit(1), submit(2)]; // queued behind it (one request per hosted zone at a time)
    await new Promise((r) => setImmediate(r));

    term.abort(new Error('leadership lost'));
    const results = await Promise.all([first, ...queued]);

    for (const err of results) expect(err).toBeInstanceOf(LeadershipExpiredError);
    // The hanging batch was aborted, and neither the queued policies nor a split "each on its own" went out.
    expect(cloud.callsOf('upsertRecords')).toHaveLength(1);
    expect(sent.map((s) => s?.aborted)).toEqual([true]);
  });
});
