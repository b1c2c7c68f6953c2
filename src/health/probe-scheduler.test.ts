import { afterEach, describe, expect, it } from 'vitest';
import { createVirtualClock, type VirtualClock } from '../clock.ts';
import type { Probe, ProbeObservation } from './probe.ts';
import { createProbeScheduler, type ProbeScheduler } from './probe-scheduler.ts';
import type { ProbeResult } from './types.ts';

interface Harness {
  clock: VirtualClock;
  scheduler: ProbeScheduler;
  shutdown: AbortController;
}

let harnesses: Harness[] = [];
afterEach(async () => {
  for (const h of harnesses) {
    h.shutdown.abort();
    await h.clock.advance(0);
    await h.scheduler.stopped();
  }
  harnesses = [];
});

function harness(opts: { maxInFlight?: number; jitter?: number; random?: () => number } = {}): Harness {
  const clock = createVirtualClock(0);
  const shutdown = new AbortController();
  const scheduler = createProbeScheduler({ clock, signal: shutdown.signal, random: () => 0, ...opts });
  const h = { clock, scheduler, shutdown };
  harnesses.push(h);
  return h;
}

/** A probe whose run takes `durationMs` of virtual time (forever when undefined), recording when it ran. */
function fakeProbe(
  clock: VirtualClock,
  key: string,
  opts: { durationMs?: number; timeoutMs?: number; zone?: string; fail?: string } = {},
) {
  const starts: number[] = [];
  const active = { now: 0, max: 0 };
  const probe: Probe = {
    key,
    kind: 'http',
    region: 'us-east-1',
    zone: opts.zone ?? 'us-east-1a',
    timeoutMs: opts.timeoutMs ?? 2000,
    async run(ctx) {
      starts.push(clock.now());
      active.now++;
      active.max = Math.max(active.max, active.now);
      try {
        if (opts.durationMs === undefined) {
          await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(new Error('aborted'))));
        } else {
          await clock.sleep(opts.durationMs, ctx.signal);
        }
        if (opts.fail) throw new Error(opts.fail);
        const obs: ProbeObservation = {
          kind: 'http',
          region: 'us-east-1',
          zone: opts.zone ?? 'us-east-1a',
          ok: true,
          at: ctx.now(),
          detail: `${key} ok`,
          source: 'operator',
        };
        return [obs];
      } finally {
        active.now--;
      }
    },
  };
  return { probe, starts, active };
}

describe('probe scheduler', () => {
  it('probes a target named by several policies once per interval and fans the result out', async () => {
    const { clock, scheduler } = harness();
    const a = fakeProbe(clock, 'http:shared', { durationMs: 100 });
    const b = fakeProbe(clock, 'http:shared', { durationMs: 100 });
    const received: Record<string, ProbeResult[]> = { p1: [], p2: [], p3: [] };
    scheduler.subscribe({ name: 'p1', probe: a.probe, intervalMs: 5000, onResults: (r) => received.p1!.push(...r) });
    scheduler.subscribe({ name: 'p2', probe: b.probe, intervalMs: 5000, onResults: (r) => received.p2!.push(...r) });
    scheduler.subscribe({ name: 'p3', probe: b.probe, intervalMs: 10_000, onResults: (r) => received.p3!.push(...r) });
    expect(scheduler.stats()).toMatchObject({ targets: 1, subscriptions: 3 });

    await clock.advance(19_999);
    // Started at 0, 5000, 10000, 15000 by the first probe object only (the shortest interval wins).
    expect(a.starts).toEqual([0, 5000, 10_000, 15_000]);
    expect(b.starts).toEqual([]);
    for (const name of ['p1', 'p2', 'p3']) {
      expect(received[name]!.map((r) => r.at)).toEqual([100, 5100, 10_100, 15_100]);
      expect(received[name]!.every((r) => r.probe === name)).toBe(true);
    }
  });

  it('stops probing a target when its last subscriber leaves', async () => {
    const { clock, scheduler } = harness();
    const a = fakeProbe(clock, 'http:x', { durationMs: 10 });
    const un1 = scheduler.subscribe({ name: 'p1', probe: a.probe, intervalMs: 1000, onResults: () => {} });
    const un2 = scheduler.subscribe({ name: 'p2', probe: a.probe, intervalMs: 1000, onResults: () => {} });
    await clock.advance(2500);
    un1();
    await clock.advance(1000);
    expect(a.starts).toEqual([0, 1000, 2000, 3000]);
    un2();
    await clock.advance(5000);
    expect(a.starts).toHaveLength(4);
    expect(scheduler.stats().targets).toBe(0);
  });

  it('bounds the number of probes in flight across targets', async () => {
    const { clock, scheduler } = harness({ maxInFlight: 4 });
    const shared = { now: 0, max: 0 };
    const probes = Array.from({ length: 20 }, (_, i) => fakeProbe(clock, `http:t${i}`, { durationMs: 300 }));
    for (const p of probes) {
      const run = p.probe.run.bind(p.probe);
      const counted: Probe = {
        ...p.probe,
        async run(ctx) {
          shared.now++;
          shared.max = Math.max(shared.max, shared.now);
          try {
            return await run(ctx);
          } finally {
            shared.now--;
          }
        },
      };
      scheduler.subscribe({ name: 'p', probe: counted, intervalMs: 5000, onResults: () => {} });
    }
    await clock.advance(1000);
    expect(shared.max).toBe(4);
    expect(scheduler.stats().maxInFlightObserved).toBe(4);
    // 20 runs of 300 ms, 4 at a time: 5 waves, all done by 1500 ms.
    await clock.advance(600);
    expect(scheduler.stats().completed).toBe(20);
  });

  it('a hanging probe times out on its own and never delays the others', async () => {
    const { clock, scheduler } = harness();
    const hanging = fakeProbe(clock, 'http:hang', { timeoutMs: 2500 });
    const fast = fakeProbe(clock, 'http:fast', { durationMs: 50, zone: 'us-east-1b' });
    const results: ProbeResult[] = [];
    scheduler.subscribe({ name: 'slow', probe: hanging.probe, intervalMs: 1000, onResults: (r) => results.push(...r) });
    scheduler.subscribe({ name: 'fast', probe: fast.probe, intervalMs: 1000, onResults: (r) => results.push(...r) });
    await clock.advance(6000);
    const fastAt = results.filter((r) => r.probe === 'fast').map((r) => r.at);
    expect(fastAt).toEqual([50, 1050, 2050, 3050, 4050, 5050]);
    const slow = results.filter((r) => r.probe === 'slow');
    expect(slow.map((r) => r.at)).toEqual([2500, 5500]);
    expect(slow[0]).toMatchObject({ ok: false, severity: 'down', detail: 'timeout after 2500ms', zone: 'us-east-1a' });
    // Marked as a timeout, so the model can tell a gray timeout (after slow answers) from a blackout (rule 2).
    expect(slow[0]).toMatchObject({ timedOut: true, timeoutMs: 2500, latencyMs: 2500 });
    expect(slow[0]!.callFailed).toBeUndefined();
    // It never ran twice at once: ticks at 1000 and 2000 (and 4000, 5000) were skipped, not queued.
    expect(hanging.active.max).toBe(1);
    expect(hanging.starts).toEqual([0, 3000, 6000]);
    expect(scheduler.stats()).toMatchObject({ timedOut: 2, skippedOverlaps: 4 });
  });

  it('turns a thrown error into a down result', async () => {
    const { clock, scheduler } = harness();
    const broken = fakeProbe(clock, 'http:broken', { durationMs: 5, fail: 'ECONNREFUSED 127.0.0.1:1' });
    const results: ProbeResult[] = [];
    scheduler.subscribe({ name: 'api', probe: broken.probe, intervalMs: 1000, onResults: (r) => results.push(...r) });
    await clock.advance(10);
    expect(results).toEqual([
      expect.objectContaining({ probe: 'api', ok: false, severity: 'down', detail: 'ECONNREFUSED 127.0.0.1:1', at: 5 }),
    ]);
    // The probe's own call failed: for the AWS API probes a control-plane error, never evidence (rule 7).
    expect(results[0]).toMatchObject({ callFailed: true });
    expect(results[0]!.timedOut).toBeUndefined();
  });

  it('spreads first runs with jitter inside [0, jitter × interval)', async () => {
    const { clock, scheduler } = harness({ random: Math.random, jitter: 0.5 });
    const probes = Array.from({ length: 50 }, (_, i) => fakeProbe(clock, `http:j${i}`, { durationMs: 1 }));
    for (const p of probes) scheduler.subscribe({ name: 'p', probe: p.probe, intervalMs: 10_000, onResults: () => {} });
    await clock.advance(10_000);
    const firsts = probes.map((p) => p.starts[0]!);
    expect(Math.min(...firsts)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...firsts)).toBeLessThan(5000);
    expect(new Set(firsts).size).toBeGreaterThan(10);
    // After the first run each target keeps its own phase: second run exactly one interval later.
    await clock.advance(5000);
    for (const p of probes) expect(p.starts[1]! - p.starts[0]!).toBe(10_000);
  });

  it('uses the injected randomness for the offset', async () => {
    const { clock, scheduler } = harness({ random: () => 0.25 });
    const p = fakeProbe(clock, 'http:r', { durationMs: 1 });
    scheduler.subscribe({ name: 'p', probe: p.probe, intervalMs: 4000, onResults: () => {} });
    await clock.advance(6000);
    expect(p.starts).toEqual([1000, 5000]);
  });

  it('stops every loop and aborts in-flight runs on shutdown', async () => {
    const { clock, scheduler, shutdown } = harness();
    const hanging = fakeProbe(clock, 'http:hang2', { timeoutMs: 60_000 });
    let delivered = 0;
    scheduler.subscribe({ name: 'p', probe: hanging.probe, intervalMs: 1000, onResults: () => delivered++ });
    await clock.advance(100);
    expect(hanging.active.now).toBe(1);
    shutdown.abort();
    await clock.advance(0);
    await scheduler.stopped();
    expect(hanging.active.now).toBe(0);
    expect(delivered).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    expect(
      scheduler.subscribe({ name: 'late', probe: hanging.probe, intervalMs: 1000, onResults: () => {} }),
    ).toBeTypeOf('function');
    expect(scheduler.stats().targets).toBe(0);
  });
});
