import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../clock.ts';
import { flushMicrotasks } from './testing/flush.ts';
import { type InFlightWork, WorkQueue, type WorkQueueMetrics } from './work-queue.ts';

function makeQueue(overrides: { random?: () => number; jitter?: number; metrics?: WorkQueueMetrics } = {}) {
  const clock = createVirtualClock(1_700_000_000_000);
  const queue = new WorkQueue({ name: 'test', clock, ...overrides });
  return { clock, queue };
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('WorkQueue', () => {
  it('stores a key added several times while it waits once', async () => {
    const { queue } = makeQueue();
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/a');
    expect(queue.len()).toBe(2);
    expect(await queue.get()).toBe('ns/a');
    expect(await queue.get()).toBe('ns/b');
    expect(queue.len()).toBe(0);
  });

  it('does not hand out a key that is being processed, and processes it again after done when re-added', async () => {
    const { queue } = makeQueue();
    queue.add('ns/a');
    const first = await queue.get();
    expect(first).toBe('ns/a');
    queue.add('ns/a');
    queue.add('ns/a');
    expect(queue.len()).toBe(0); // dirty, not queued: no second worker may take it
    queue.done('ns/a');
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe('ns/a');
    queue.done('ns/a');
    expect(queue.len()).toBe(0);
  });

  it('never runs the same key on two workers at once, and reconciles the last add', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ key: fc.constantFrom('a', 'b', 'c'), pause: fc.nat(3), urgent: fc.boolean() }), {
          minLength: 1,
          maxLength: 40,
        }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 3 }),
        async (adds, workers, urgentWorkers) => {
          const { queue } = makeQueue();
          const active = new Set<string>();
          const addedAt = new Map<string, number>();
          const handledAfter = new Map<string, number>();
          let tick = 0;
          let overlap = false;
          const controller = new AbortController();
          const running = queue.run(
            async (key) => {
              if (active.has(key)) overlap = true;
              active.add(key);
              const seen = tick;
              await flushMicrotasks();
              handledAfter.set(key, seen);
              active.delete(key);
            },
            { workers, urgentWorkers, signal: controller.signal },
          );
          for (const { key, pause, urgent } of adds) {
            tick++;
            addedAt.set(key, tick);
            if (urgent) queue.addUrgent(key);
            else queue.add(key);
            for (let i = 0; i < pause; i++) await new Promise<void>((r) => setImmediate(r));
          }
          // Settled: nothing waiting and nothing in flight. `drained()` alone resolves the moment the last key in
          // flight is done, which can leave a re-added key in line behind the one its worker takes next (shutdown
          // then drops it, as designed): wait again until the line is empty too.
          do {
            await queue.drained();
            await flushMicrotasks();
          } while (queue.len() > 0);
          await queue.drained();
          controller.abort();
          await running;
          expect(overlap).toBe(false);
          // Level-based: every key's last add was observed by a reconcile that started after it.
          for (const [key, at] of addedAt) expect(handledAfter.get(key)).toBeGreaterThanOrEqual(at);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('hands out urgent keys before ordinary ones; a waiting key made urgent moves ahead, once', async () => {
    const { queue } = makeQueue();
    queue.add('ns/a');
    queue.add('ns/b');
    queue.add('ns/c');
    queue.addUrgent('ns/z');
    queue.addUrgent('ns/c');
    queue.addUrgent('ns/c');
    expect(queue.len()).toBe(4);
    const order: Array<string | undefined> = [];
    for (let i = 0; i < 4; i++) order.push(await queue.get());
    expect(order).toEqual(['ns/z', 'ns/c', 'ns/a', 'ns/b']);
    expect(queue.len()).toBe(0);
  });

  it('runs urgent keys on the urgent lane while every ordinary worker is busy; ordinary keys wait for theirs', async () => {
    const { queue } = makeQueue();
    const release = deferred();
    const started: string[] = [];
    const controller = new AbortController();
    const running = queue.run(
      async (key) => {
        started.push(key);
        await release.promise;
      },
      { workers: 1, urgentWorkers: 2, signal: controller.signal },
    );
    queue.add('ns/resync-1');
    queue.add('ns/resync-2');
    await flushMicrotasks();
    expect(started).toEqual(['ns/resync-1']); // the one ordinary worker; the urgent lane takes no ordinary key
    queue.addUrgent('ns/drain-1');
    queue.addUrgent('ns/drain-2');
    queue.addUrgent('ns/drain-3');
    await flushMicrotasks();
    expect(started).toEqual(['ns/resync-1', 'ns/drain-1', 'ns/drain-2']); // two urgent workers, at once
    release.resolve();
    await flushMicrotasks();
    // Freed workers take the urgent key before the waiting resync.
    expect(started.slice(3)).toEqual(['ns/drain-3', 'ns/resync-2']);
    controller.abort();
    await running;
  });

  it('a key made urgent while it is processed is handed out again, urgently, when done', async () => {
    const { queue } = makeQueue();
    queue.add('ns/a');
    expect(await queue.get()).toBe('ns/a');
    queue.add('ns/b');
    queue.addUrgent('ns/a');
    expect(queue.len()).toBe(1); // not twice in flight
    queue.done('ns/a');
    expect(await queue.getUrgent()).toBe('ns/a');
    queue.done('ns/a');
    expect(await queue.get()).toBe('ns/b');
  });

  it('backs off exponentially per key from 1 s, capped at 5 min, with downward jitter', () => {
    const { queue } = makeQueue({ random: () => 0 });
    const delays = Array.from({ length: 12 }, () => queue.addRateLimited('ns/a'));
    expect(delays.slice(0, 5)).toEqual([1_000, 2_000, 4_000, 8_000, 16_000]);
    expect(delays.at(-1)).toBe(300_000);
    expect(Math.max(...delays)).toBe(300_000);
    expect(queue.numRequeues('ns/a')).toBe(12);
    expect(queue.numRequeues('ns/b')).toBe(0);

    fc.assert(
      fc.property(fc.nat(40), fc.double({ min: 0, max: 0.999_999, noNaN: true }), (failures, r) => {
        const jittered = makeQueue({ random: () => r }).queue.backoffFor(failures);
        const envelope = Math.min(300_000, 1_000 * 2 ** failures);
        expect(jittered).toBeLessThanOrEqual(envelope);
        expect(jittered).toBeGreaterThanOrEqual(Math.floor(envelope * 0.8));
      }),
    );
  });

  it('spreads retries of keys failing together (jitter)', () => {
    const { queue } = makeQueue();
    const delays = new Set(Array.from({ length: 20 }, (_, i) => queue.addRateLimited(`ns/k${i}`)));
    expect(delays.size).toBeGreaterThan(1);
  });

  it('forget resets the backoff', () => {
    const { queue } = makeQueue({ random: () => 0 });
    queue.addRateLimited('ns/a');
    queue.addRateLimited('ns/a');
    queue.addRateLimited('ns/a');
    queue.forget('ns/a');
    expect(queue.numRequeues('ns/a')).toBe(0);
    expect(queue.addRateLimited('ns/a')).toBe(1_000);
  });

  it('delivers a rate-limited key only after its delay', async () => {
    const { clock, queue } = makeQueue({ random: () => 0 });
    queue.addRateLimited('ns/a');
    queue.addRateLimited('ns/a');
    await clock.advance(999);
    expect(queue.len()).toBe(0);
    await clock.advance(1);
    expect(queue.len()).toBe(1);
  });

  it('addAfter keeps the earliest deadline for a key', async () => {
    const { clock, queue } = makeQueue();
    queue.addAfter('ns/a', 10_000);
    queue.addAfter('ns/a', 1_000);
    queue.addAfter('ns/a', 5_000);
    await clock.advance(1_000);
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBe('ns/a');
    queue.done('ns/a');
    await clock.advance(20_000);
    expect(queue.len()).toBe(0);
  });

  it('reports depth, adds, retries, queue and work duration and work in flight to the metrics sink', async () => {
    const seen = {
      depth: [] as number[],
      added: 0,
      retried: 0,
      waits: [] as number[],
      durations: [] as number[],
      inFlight: undefined as undefined | (() => InFlightWork),
    };
    const metrics: WorkQueueMetrics = {
      depth: (_q, d) => seen.depth.push(d),
      added: () => seen.added++,
      retried: () => seen.retried++,
      queueDuration: (_q, s) => seen.waits.push(s),
      workDuration: (_q, s) => seen.durations.push(s),
      inFlight: (_q, read) => {
        seen.inFlight = read;
      },
    };
    const { clock, queue } = makeQueue({ metrics });
    queue.add('ns/a');
    queue.add('ns/a');
    queue.add('ns/b');
    expect(seen.added).toBe(2);
    expect(seen.depth.at(-1)).toBe(2);
    queue.addRateLimited('ns/c');
    expect(seen.retried).toBe(1);
    const controller = new AbortController();
    const running = queue.run(
      async () => {
        await clock.sleep(250);
      },
      { workers: 1, signal: controller.signal },
    );
    await clock.advance(100);
    expect(seen.inFlight?.()).toEqual({ unfinishedSeconds: 0.1, longestRunningSeconds: 0.1 });
    await clock.advance(150);
    await clock.advance(250);
    controller.abort();
    await running;
    expect(seen.waits).toEqual([0, 0.25]); // ns/b waited for the only worker
    expect(seen.durations).toEqual([0.25, 0.25]);
    expect(seen.depth.at(-1)).toBe(0);
    expect(seen.inFlight?.()).toEqual({ unfinishedSeconds: 0, longestRunningSeconds: 0 });
  });

  it('on shutdown stops handing out keys, drains in-flight work and drops delayed adds', async () => {
    const { clock, queue } = makeQueue();
    const release = deferred();
    const started: string[] = [];
    const finished: string[] = [];
    const controller = new AbortController();
    queue.add('ns/a');
    queue.add('ns/b');
    queue.addAfter('ns/later', 1_000);
    const running = queue.run(
      async (key) => {
        started.push(key);
        await release.promise;
        finished.push(key);
      },
      { workers: 1, signal: controller.signal },
    );
    await flushMicrotasks();
    expect(started).toEqual(['ns/a']);
    let done = false;
    void running.then(() => {
      done = true;
    });
    controller.abort();
    await flushMicrotasks();
    expect(done).toBe(false); // waits for the in-flight key
    release.resolve();
    await running;
    expect(finished).toEqual(['ns/a']);
    expect(started).toEqual(['ns/a']);
    expect(queue.len()).toBe(1); // ns/b was never handed out
    await clock.advance(5_000);
    expect(queue.len()).toBe(1); // the delayed add was dropped
    queue.add('ns/c');
    expect(queue.len()).toBe(1);
    expect(await queue.get()).toBeUndefined();
  });

  it('requeues with backoff when the handler throws, instead of losing the key', async () => {
    const { clock, queue } = makeQueue({ random: () => 0 });
    const errors: unknown[] = [];
    let calls = 0;
    const controller = new AbortController();
    queue.add('ns/a');
    const running = queue.run(
      async () => {
        calls++;
        if (calls === 1) throw new Error('boom');
      },
      { workers: 2, signal: controller.signal, onUnexpectedError: (_k, err) => errors.push(err) },
    );
    await flushMicrotasks();
    expect(calls).toBe(1);
    expect(errors).toHaveLength(1);
    await clock.advance(1_000);
    expect(calls).toBe(2);
    controller.abort();
    await running;
  });
});
