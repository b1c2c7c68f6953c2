import { describe, expect, it } from 'vitest';
import { clockTimeout } from '../../clock.ts';
import { newSim, settle } from './sim-test-helpers.ts';

describe('simulated endpoints', () => {
  it('answer 200 quickly when ok; a down endpoint costs the whole timeout', async () => {
    const { sim, clock } = newSim();
    const ok = settle(sim.probeEndpoint('us-east-1b', { timeoutMs: 2000 }));
    await clock.advance(100);
    expect(ok.value).toMatchObject({ ok: true, status: 200 });

    sim.endpoints.setHealth('us-east-1a', { kind: 'down' });
    const down = settle(sim.probeEndpoint('us-east-1a', { timeoutMs: 2000 }));
    await clock.advance(1999);
    expect(down.done).toBe(false);
    await clock.advance(1);
    expect(down.value).toMatchObject({ ok: false, status: 0, latencyMs: 2000 });
  });

  it('combine layered conditions: slow beyond the timeout is a timeout; erroring answers 503 at about its rate', async () => {
    const { sim, clock } = newSim();
    sim.endpoints.setCondition('us-east-1a', 'ebs', { latencyMs: 4000 });
    const slow = settle(sim.probeEndpoint('us-east-1a', { timeoutMs: 2000 }));
    await clock.advance(2000);
    expect(slow.value).toMatchObject({ ok: false, status: 0 });
    sim.endpoints.setCondition('us-east-1a', 'ebs', undefined);
    expect(sim.endpoints.health('us-east-1a')).toEqual({ kind: 'ok' });

    sim.endpoints.setHealth('us-east-1b', { kind: 'erroring', rate: 0.5 });
    let failures = 0;
    for (let i = 0; i < 200; i++) {
      const p = settle(sim.probeEndpoint('us-east-1b', { timeoutMs: 2000 }));
      await clock.advance(100);
      if (!p.value?.ok) failures++;
    }
    expect(failures).toBeGreaterThan(70);
    expect(failures).toBeLessThan(130);
  });

  it('latencyJitterMs spreads answers uniformly over 0..jitter ms on top of the latency, from a seeded stream', async () => {
    const latencies = async (seed: number) => {
      const { sim, clock } = newSim({ seed });
      sim.endpoints.setCondition('us-east-1a', 'scenario', { latencyMs: 1970, latencyJitterMs: 10 });
      const out: number[] = [];
      for (let i = 0; i < 300; i++) {
        const p = settle(sim.probeEndpoint('us-east-1a', { timeoutMs: 10_000 }));
        await clock.advance(2100);
        out.push(p.value!.latencyMs);
      }
      return out;
    };
    const seen = await latencies(1);
    // The sim's own 20–29 ms, +1970 ms, +0..10 ms: 1990–2009, every value reached, about half at 2000 or more.
    expect(Math.min(...seen)).toBe(1990);
    expect(Math.max(...seen)).toBe(2009);
    expect(new Set(seen).size).toBe(20);
    const atOrOver = seen.filter((ms) => ms >= 2000).length;
    expect(atOrOver).toBeGreaterThan(110);
    expect(atOrOver).toBeLessThan(190);
    expect(await latencies(1)).toEqual(seen);
    // Against a 2 s timeout, those at the edge time out.
    const { sim, clock } = newSim();
    sim.endpoints.setCondition('us-east-1a', 'scenario', { latencyMs: 1970, latencyJitterMs: 10 });
    const answers = [];
    for (let i = 0; i < 50; i++) {
      const p = settle(sim.probeEndpoint('us-east-1a', { timeoutMs: 2000 }));
      await clock.advance(2000);
      answers.push(p.value!);
    }
    expect(answers.some((a) => a.ok && a.latencyMs >= 1990)).toBe(true);
    expect(answers.some((a) => !a.ok && a.status === 0)).toBe(true);
  });

  it('fetch maps zone URLs to zones and region URLs to a live zone; a dead one hangs until the signal', async () => {
    const { sim, clock } = newSim();
    sim.endpoints.setHealth('us-east-1a', { kind: 'down' });
    sim.endpoints.setHealth('us-east-1b', { kind: 'down' });
    const region = settle(sim.endpoints.fetch('https://api.us-east-1.example.com/healthz', { method: 'GET' }));
    await clock.advance(100);
    expect(region.value?.status).toBe(200);

    const t = clockTimeout(clock, 2000);
    const dead = settle(
      sim.endpoints.fetch('https://api-us-east-1a.example.com/healthz', { method: 'GET', signal: t.signal }),
    );
    await clock.advance(2000);
    expect((dead.error as Error).name).toBe('TimeoutError');
  });

  it('databases: unreachable → no answer within the timeout; IO latency shows', async () => {
    const { sim, clock } = newSim();
    sim.databases.setConnectivity('us-east-1', 'orders', { ioLatencyMs: 300 });
    const slow = settle(sim.probeDatabase('us-east-1', 'orders', { timeoutMs: 2000 }));
    await clock.advance(305);
    expect(slow.value).toMatchObject({ ok: true, latencyMs: 305 });
    sim.databases.setConnectivity('us-east-1', 'orders', { reachable: false });
    const down = settle(sim.probeDatabase('us-east-1', 'orders', { timeoutMs: 2000 }));
    await clock.advance(2000);
    expect(down.value).toMatchObject({ ok: false, status: 0 });
  });

  it('conditionHistory: one entry per change of the combined condition, at the clock time it happened', async () => {
    const { sim, clock } = newSim();
    expect(sim.endpoints.conditionHistory('us-east-1a')).toEqual([]);
    const t0 = clock.now();
    sim.endpoints.setCondition('us-east-1a', 'scenario', { down: true });
    await clock.advance(1_000);
    sim.endpoints.setCondition('us-east-1a', 'ebs', { latencyMs: 300 }); // still down: latency changes the record
    sim.endpoints.setCondition('us-east-1a', 'ebs', { latencyMs: 300 }); // no change: no entry
    await clock.advance(1_000);
    sim.endpoints.setCondition('us-east-1a', 'scenario', undefined);
    sim.endpoints.setCondition('us-east-1a', 'ebs', undefined);
    const history = sim.endpoints.conditionHistory('us-east-1a');
    expect(history.map((h) => [h.at - t0, h.condition.down, h.condition.latencyMs])).toEqual([
      [0, true, 0],
      [1_000, true, 300],
      [2_000, false, 300],
      [2_000, false, 0],
    ]);
  });
});
