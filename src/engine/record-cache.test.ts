import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createCallPipeline } from '../act/call-pipeline.ts';
import { createRateLimiter } from '../act/rate-limit.ts';
import { createVirtualClock } from '../act/testing/virtual-clock.ts';
import { CloudError } from '../cloud/errors.ts';
import { createSimCloud } from '../cloud/sim/sim-cloud.ts';
import type { Dns, DnsListCursor, DnsRecord, DnsRecordPage } from '../cloud/types.ts';
import { createRecordCache, writeThrough } from './record-cache.ts';

const silent = pino({ level: 'silent' });
const ZONE = 'Z1';

/** A weighted group of two records per policy: `p<i>.example.com.` with set identifiers a and b. */
function groups(policies: number): DnsRecord[] {
  return Array.from({ length: policies }, (_, i) =>
    ['a', 'b'].map((id, j) => ({
      name: `p${i}.example.com.`,
      type: 'A',
      ttl: 60,
      values: [`10.0.${i}.${j + 1}`],
      setIdentifier: id,
      weight: 100,
    })),
  ).flat();
}

/**
 * An in-memory Dns whose whole-zone listing is one page (or `pageSize` pages) and can be held open, failed or made to
 * repeat a page; it counts every page request.
 */
function fakeDns(records: DnsRecord[], pageSize = 1000) {
  const state = {
    records,
    pageCalls: 0,
    failNext: undefined as Error | undefined,
    repeatPages: false,
    /** While set, page requests wait for release(). */
    held: undefined as { promise: Promise<void>; release: () => void } | undefined,
  };
  const dns: Dns = {
    listRecords: () => Promise.reject(new Error('the cache lists whole zones')),
    async listRecordsPage(_zone: string, start: DnsListCursor | undefined, opts): Promise<DnsRecordPage> {
      state.pageCalls++;
      if (state.held) await state.held.promise;
      opts?.signal?.throwIfAborted();
      if (state.failNext) {
        const err = state.failNext;
        state.failNext = undefined;
        throw err;
      }
      const from = state.repeatPages || !start ? 0 : Number(start.identifier);
      const page = state.records.slice(from, from + pageSize).map((r) => ({ ...r, values: [...r.values] }));
      const following = state.records[from + pageSize];
      return following
        ? { records: page, next: { name: following.name, type: following.type, identifier: String(from + pageSize) } }
        : { records: page };
    },
    async upsertRecords(_zone, changed) {
      for (const c of changed) {
        const i = state.records.findIndex((r) => r.name === c.name && r.setIdentifier === c.setIdentifier);
        if (i >= 0) state.records[i] = { ...c };
      }
      return 'C1';
    },
    getChangeStatus: async () => 'INSYNC',
  };
  const hold = () => {
    let release = () => {};
    const promise = new Promise<void>((resolve) => {
      release = resolve;
    });
    state.held = { promise, release };
    return () => {
      state.held = undefined;
      release();
    };
  };
  return { dns, state, hold };
}

function setup(records: DnsRecord[], opts: { maxAgeMs?: number; pageSize?: number } = {}) {
  const clock = createVirtualClock(1_000_000);
  // These tests count listings, not pacing: Route 53's one-every-250-ms pacing would park every second page on the
  // virtual clock, which only some tests drive.
  const unpaced = [{ limit: 1_000, windowMs: 1_000 }];
  const rateLimiter = createRateLimiter(clock, { route53: unpaced }, unpaced);
  const pipeline = createCallPipeline({
    clock,
    logger: silent,
    isZoneImpaired: () => false,
    random: () => 0.5,
    rateLimiter,
  });
  const fake = fakeDns(records, opts.pageSize);
  const cache = createRecordCache({
    dns: fake.dns,
    pipeline,
    clock,
    ...(opts.maxAgeMs === undefined ? {} : { maxAgeMs: opts.maxAgeMs }),
  });
  return { clock, cache, ...fake };
}

const readAll = (cache: ReturnType<typeof setup>['cache'], policies: number) =>
  Promise.all(Array.from({ length: policies }, (_, i) => cache.records(ZONE, `p${i}.example.com.`, 'A')));

describe('shared Route 53 record cache', () => {
  it('serves 100 policies on one hosted zone with one listing per max-age window', async () => {
    const { clock, cache, state } = setup(groups(100), { maxAgeMs: 5_000 });

    const first = await readAll(cache, 100);
    expect(state.pageCalls).toBe(1);
    expect(first[42]!.map((r) => [r.name, r.setIdentifier, r.values[0]])).toEqual([
      ['p42.example.com.', 'a', '10.0.42.1'],
      ['p42.example.com.', 'b', '10.0.42.2'],
    ]);

    // Every policy reads every second for a minute: 6,000 reads, one listing per 5 s window.
    for (let second = 1; second <= 60; second++) {
      await clock.advance(1_000);
      await readAll(cache, 100);
    }
    await new Promise((resolve) => setImmediate(resolve)); // the t=60 s refresh runs in the background
    expect(state.pageCalls).toBe(13); // t=0 plus one per 5 s over 60 s
  });

  it('serves a listing past max age at once while one background listing replaces it (stale-while-revalidate)', async () => {
    const { clock, cache, state, hold, dns } = setup(groups(3), { maxAgeMs: 30_000 });
    await cache.records(ZONE, 'p1.example.com.', 'A');
    expect(state.pageCalls).toBe(1);

    // Someone else changes the zone; 31 s later the listing is past max age. The Route 53 listing hangs (the token
    // bucket, a slow API): reads still answer at once from the old listing, and only one re-listing is started.
    await dns.upsertRecords(ZONE, [{ ...groups(3)[2]!, values: ['10.9.9.9'] }], 'someone else', {
      signal: new AbortController().signal,
    });
    const release = hold();
    await clock.advance(31_000);
    const stale = await Promise.all([1, 2, 1].map((i) => cache.records(ZONE, `p${i}.example.com.`, 'A')));
    expect(stale[0]!.find((r) => r.setIdentifier === 'a')!.values).toEqual(['10.0.1.1']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(state.pageCalls).toBe(2);

    // The background listing lands: the next read sees the other writer's change, without listing again.
    release();
    await new Promise((resolve) => setImmediate(resolve));
    const fresh = await cache.records(ZONE, 'p1.example.com.', 'A');
    expect(fresh.find((r) => r.setIdentifier === 'a')!.values).toEqual(['10.9.9.9']);
    expect(state.pageCalls).toBe(2);
  });

  it('waits for a listing once the cached one is older than the stale bound', async () => {
    const { clock, cache, state, hold } = setup(groups(2), { maxAgeMs: 30_000 });
    await cache.records(ZONE, 'p0.example.com.', 'A');
    const release = hold();
    await clock.advance(120_000); // 4 × max age: no longer served while revalidating
    let answered = false;
    const read = cache.records(ZONE, 'p0.example.com.', 'A').then((r) => {
      answered = true;
      return r;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(answered).toBe(false);
    release();
    expect((await read).length).toBe(2);
    expect(state.pageCalls).toBe(2);
  });

  it('answers a live read (the read before a write) only from a listing started within its bound, or a new one', async () => {
    const { clock, cache, state, hold } = setup(groups(20), { maxAgeMs: 30_000 });
    const live = { joinWithinMs: 1_000 };
    const a = (records: DnsRecord[]) => records.find((r) => r.setIdentifier === 'a')?.weight;
    await readAll(cache, 20);
    expect(state.pageCalls).toBe(1);
    state.records[2] = { ...state.records[2]!, weight: 7 };
    // A finished listing that started within the bound serves it (its pages were read after that start)…
    await clock.advance(1_000);
    expect(a(await cache.records(ZONE, 'p1.example.com.', 'A', { live }))).toBe(100);
    expect(state.pageCalls).toBe(1);
    // …one older than the bound does not, though observations may still use it: someone else's edit is seen.
    await clock.advance(1);
    expect(a(await cache.records(ZONE, 'p1.example.com.', 'A', { live }))).toBe(7);
    expect(state.pageCalls).toBe(2);
    expect(a(await cache.records(ZONE, 'p1.example.com.', 'A', { live }))).toBe(7); // and this new one serves the next
    expect(state.pageCalls).toBe(2);
    // Drains that start together share the listing in flight.
    await clock.advance(5_000);
    const release = hold();
    const first = cache.records(ZONE, 'p0.example.com.', 'A', { live });
    await new Promise((r) => setImmediate(r));
    await clock.advance(500);
    const joined = Array.from({ length: 19 }, (_, i) => cache.records(ZONE, `p${i + 1}.example.com.`, 'A', { live }));
    await new Promise((r) => setImmediate(r));
    expect(state.pageCalls).toBe(3);
    // One started longer ago than the bound is not joined.
    await clock.advance(1_000);
    const late = cache.records(ZONE, 'p0.example.com.', 'A', { live });
    await new Promise((r) => setImmediate(r));
    expect(state.pageCalls).toBe(4);
    release();
    expect((await Promise.all([first, ...joined, late])).map((g) => g.length)).toEqual(Array(21).fill(2));
    // Observations still use the (newest) finished listing.
    await cache.records(ZONE, 'p3.example.com.', 'A');
    expect(state.pageCalls).toBe(4);
  });

  it('answers a name in any case, with or without the trailing dot, and an absent group as empty', async () => {
    const { cache } = setup(groups(2));
    expect(await cache.records(ZONE, 'P1.Example.COM', 'a')).toHaveLength(2);
    expect(await cache.records(ZONE, 'missing.example.com.', 'A')).toEqual([]);
  });

  it('coalesces concurrent reads into one listing, even with max age 0', async () => {
    const { cache, state, hold } = setup(groups(10), { maxAgeMs: 0 });
    const release = hold();
    const reads = readAll(cache, 10);
    await new Promise((r) => setImmediate(r));
    expect(state.pageCalls).toBe(1);
    release();
    expect((await reads).map((g) => g.length)).toEqual(Array(10).fill(2));
    expect(state.pageCalls).toBe(1);
    // Max age 0: the next read lists again.
    await cache.records(ZONE, 'p0.example.com.', 'A');
    expect(state.pageCalls).toBe(2);
  });

  it('applies our own accepted write to the listing: the written weight at once, no listing again', async () => {
    const { cache, state, dns } = setup(groups(3), { maxAgeMs: 60_000 });
    await readAll(cache, 3);
    expect(state.pageCalls).toBe(1);

    const writing = writeThrough(dns, cache);
    await writing.upsertRecords(
      ZONE,
      [{ name: 'P1.example.com', type: 'A', ttl: 60, values: ['10.0.1.2'], setIdentifier: 'b', weight: 0 }],
      'drain',
    );
    const after = await cache.records(ZONE, 'p1.example.com.', 'A');
    expect(state.pageCalls).toBe(1); // a drain of many policies on one zone does not re-list after each batch
    expect(after.map((r) => [r.setIdentifier, r.weight])).toEqual([
      ['a', 100],
      ['b', 0],
    ]);
    expect(after.every((r) => r.name === 'p1.example.com.')).toBe(true);
    expect((await cache.records(ZONE, 'p2.example.com.', 'A')).map((r) => r.weight)).toEqual([100, 100]);
  });

  it('lists again after a write that failed or timed out (it may have been applied)', async () => {
    const { cache, state, dns } = setup(groups(2), { maxAgeMs: 60_000 });
    await readAll(cache, 2);
    const failing: typeof dns = {
      ...dns,
      upsertRecords: async () => {
        throw new Error('socket hang up');
      },
    };
    await expect(
      writeThrough(failing, cache).upsertRecords(ZONE, [{ ...state.records[0]!, weight: 0 }], 'drain'),
    ).rejects.toThrow('socket hang up');
    await cache.records(ZONE, 'p0.example.com.', 'A');
    expect(state.pageCalls).toBe(2);
  });

  it('applies a write accepted while a listing was in flight to that listing, which stays joinable', async () => {
    const { clock, cache, state, dns, hold } = setup(groups(2), { maxAgeMs: 60_000 });
    const live = { joinWithinMs: 1_000 };
    const release = hold();
    const before = cache.records(ZONE, 'p0.example.com.', 'A', { live });
    await new Promise((r) => setImmediate(r));
    // The write lands while the listing is on the wire; the listing's pages carry the old weight.
    const oldRecords = state.records.map((r) => ({ ...r }));
    await writeThrough(dns, cache).upsertRecords(ZONE, [{ ...oldRecords[0]!, weight: 7 }], 'shift');
    state.records = oldRecords; // what the in-flight page saw
    // The next batch's live read joins the same listing rather than starting one of its own.
    await clock.advance(500);
    const next = cache.records(ZONE, 'p1.example.com.', 'A', { live });
    await new Promise((r) => setImmediate(r));
    expect(state.pageCalls).toBe(1);
    release();
    expect((await before).find((r) => r.setIdentifier === 'a')?.weight).toBe(7);
    expect(await next).toHaveLength(2);
    // Stored with the write applied: an observation sees it, with no listing again.
    const observed = await cache.records(ZONE, 'p0.example.com.', 'A');
    expect(state.pageCalls).toBe(1);
    expect(observed.find((r) => r.setIdentifier === 'a')?.weight).toBe(7);
  });

  it('does not store a listing that was in flight when a write failed (it may have been applied)', async () => {
    const { cache, state, dns, hold } = setup(groups(1), { maxAgeMs: 60_000 });
    const release = hold();
    const before = cache.records(ZONE, 'p0.example.com.', 'A');
    await new Promise((r) => setImmediate(r));
    const failing: typeof dns = {
      ...dns,
      upsertRecords: async () => {
        throw new Error('socket hang up');
      },
    };
    await expect(
      writeThrough(failing, cache).upsertRecords(ZONE, [{ ...state.records[0]!, weight: 7 }], 'shift'),
    ).rejects.toThrow('socket hang up');
    release();
    expect((await before)[0]?.weight).toBe(100);
    await cache.records(ZONE, 'p0.example.com.', 'A');
    expect(state.pageCalls).toBe(2);
  });

  it('does not cache errors: every waiter gets it, the next read lists again', async () => {
    const { cache, state, hold } = setup(groups(2), { maxAgeMs: 60_000 });
    state.failNext = new CloudError({
      kind: 'terminal',
      service: 'route53',
      operation: 'ListResourceRecordSets',
      code: 'AccessDenied',
      message: 'no',
    });
    const release = hold();
    const reads = [0, 1].map((i) => cache.records(ZONE, `p${i}.example.com.`, 'A').catch((e: unknown) => e));
    release();
    const errors = await Promise.all(reads);
    expect(errors.map((e) => (e as CloudError).code)).toEqual(['AccessDenied', 'AccessDenied']);
    expect(state.pageCalls).toBe(1);

    expect(await cache.records(ZONE, 'p1.example.com.', 'A')).toHaveLength(2);
    expect(state.pageCalls).toBe(2);
  });

  it('lets one caller leave on its own abort without failing the others', async () => {
    const { cache, hold } = setup(groups(2));
    const release = hold();
    const leaving = new AbortController();
    const a = cache.records(ZONE, 'p0.example.com.', 'A', { signal: leaving.signal });
    const b = cache.records(ZONE, 'p1.example.com.', 'A');
    leaving.abort(new Error('reconcile cancelled'));
    await expect(a).rejects.toThrow('reconcile cancelled');
    release();
    expect(await b).toHaveLength(2);
  });

  it('pages through the whole zone, one pipeline call per page', async () => {
    const { clock, cache, state } = setup(groups(25), { pageSize: 4 });
    const all = await clock.run(readAll(cache, 25)); // 13 pages wait for route53 tokens (4/s)
    expect(state.pageCalls).toBe(13); // 50 records, 4 per page
    expect(all.every((g) => g.length === 2)).toBe(true);
  });

  it('fails a listing whose pages stop making progress rather than looping', async () => {
    const { cache, state } = setup(groups(5), { pageSize: 2 });
    state.repeatPages = true;
    await expect(cache.records(ZONE, 'p0.example.com.', 'A')).rejects.toMatchObject({
      code: 'PaginationNotProgressing',
    });
    expect(state.pageCalls).toBe(2);
  });

  it('pages through the simulated Route 53, each page a call of its own', async () => {
    const clock = createVirtualClock(1_000_000);
    const sim = createSimCloud({
      clock,
      seed: 1,
      topology: { regions: [], hostedZones: [{ id: ZONE, records: groups(40) }] },
      dns: { listPageSize: 7 },
    });
    const pipeline = createCallPipeline({ clock, logger: silent, isZoneImpaired: () => false, random: () => 0.5 });
    const cache = createRecordCache({ dns: sim.dns, pipeline, clock });
    const all = await clock.run(readAll(cache, 40));
    expect(all.map((g) => g.map((r) => r.setIdentifier))).toEqual(Array(40).fill(['a', 'b']));
    const lists = sim.calls.recent().filter((c) => c.operation === 'ListResourceRecordSets');
    expect(lists.filter((c) => c.outcome === 'ok')).toHaveLength(Math.ceil(80 / 7));
    // The pipeline's bucket (burst 5, then 4/s) can meet the account's 5/s window: those pages are retried.
    expect(lists.filter((c) => c.outcome !== 'ok').every((c) => c.code === 'Throttling')).toBe(true);
  });
});
