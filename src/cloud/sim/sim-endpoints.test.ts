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
});
