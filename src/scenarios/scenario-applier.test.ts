import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../clock.ts';
import { createSimCloud } from '../cloud/sim/sim-cloud.ts';
import { defaultTopology } from '../cloud/sim/sim-topology.ts';
import { applyScenario } from './scenario-applier.ts';
import { loadScenario, parseScenario, ScenarioError } from './scenario-loader.ts';

const MIN = 60_000;

function setup(seed = 11) {
  const clock = createVirtualClock(Date.UTC(2011, 3, 21, 7, 55));
  const sim = createSimCloud({ clock, seed, topology: defaultTopology() });
  return { clock, sim };
}

/** Share of `n` zone-targeted EBS reads in `zone` that fail (each advancing past any injected latency). */
async function ebsErrorRate(
  sim: ReturnType<typeof setup>['sim'],
  clock: ReturnType<typeof setup>['clock'],
  zone: string,
  n = 100,
) {
  let errors = 0;
  for (let i = 0; i < n; i++) {
    const call = sim.compute.describeVolumes('us-east-1', { zone }).then(
      () => false,
      () => true,
    );
    await clock.advance(5000);
    if (await call) errors++;
  }
  return errors / n;
}

describe('the 2011 replay', () => {
  it('makes us-east-1a/1b endpoints and EBS APIs bad at minute 0, leaves 1c alone, and brings 1b back at 194', async () => {
    const { clock, sim } = setup();
    const run = applyScenario(sim, loadScenario('us-east-1-2011'), clock);

    // Applied before applyScenario returned: nothing can observe the cloud before the storm.
    expect(run.applied.map((e) => e.atMinutes)).toEqual([0]);
    expect(sim.endpoints.health('us-east-1a').kind).not.toBe('ok');
    expect(sim.endpoints.health('us-east-1b').kind).not.toBe('ok');
    expect(sim.endpoints.health('us-east-1c')).toEqual({ kind: 'ok' });
    expect(await ebsErrorRate(sim, clock, 'us-east-1a')).toBeGreaterThan(0.45);
    expect(await ebsErrorRate(sim, clock, 'us-east-1b')).toBeGreaterThan(0.25);
    expect(await ebsErrorRate(sim, clock, 'us-east-1c')).toBe(0);
    const health = await sim.compute.describeInstanceHealth('us-east-1', { app: 'checkout' });
    expect(
      health
        .filter((i) => i.instanceStatus === 'impaired')
        .map((i) => i.zone)
        .sort(),
    ).toEqual(['us-east-1a', 'us-east-1a', 'us-east-1b', 'us-east-1b']);

    await clock.runUntil(run.timeOf(193));
    expect(sim.endpoints.health('us-east-1b').kind).not.toBe('ok');
    await clock.runUntil(run.timeOf(194));
    expect(sim.endpoints.health('us-east-1b')).toEqual({ kind: 'ok' });
    expect(sim.compute.zoneState('us-east-1b')!.state).toBe('available');
    expect(await ebsErrorRate(sim, clock, 'us-east-1b')).toBe(0);
    expect(sim.endpoints.health('us-east-1a').kind).not.toBe('ok');
    expect(sim.compute.zoneState('us-east-1a')!.state).toBe('impaired');

    // 773: reboot in us-east-1a hangs until aborted.
    await clock.runUntil(run.timeOf(773));
    const id = sim.compute.instances().find((i) => i.zone === 'us-east-1a')!.id;
    const controller = new AbortController();
    const reboot = sim.compute
      .rebootInstances('us-east-1', [id], { signal: controller.signal })
      .catch((e: unknown) => e);
    await clock.advance(10 * MIN);
    controller.abort();
    expect(await reboot).toMatchObject({ kind: 'timeout' });

    await clock.runUntil(run.endsAt);
    await run.done;
    expect(run.applied).toHaveLength(15);
    expect(sim.endpoints.health('us-east-1a')).toEqual({ kind: 'ok' });
  });

  it('replays 30 hours of 5-second probe rounds on the virtual clock in seconds, deterministically', async () => {
    const trace = async () => {
      const { clock, sim } = setup(3);
      const run = applyScenario(sim, loadScenario('us-east-1-2011'), clock);
      const seen: string[] = [];
      // A 5-second probe loop over every zone, for the whole timeline.
      void (async () => {
        while (clock.now() < run.endsAt) {
          const answers = await Promise.all(
            ['us-east-1a', 'us-east-1b', 'us-east-1c'].map((z) => sim.probeEndpoint(z, { timeoutMs: 2000 })),
          );
          seen.push(answers.map((r) => (r.ok ? '1' : '0')).join(''));
          await clock.sleep(5000);
        }
      })();
      await clock.runUntil(run.endsAt);
      return seen.join(',');
    };
    const first = await trace();
    // 1830 minutes of rounds every 5 s plus the probe time (a dead endpoint costs its 2 s timeout).
    expect(first.split(',').length).toBeGreaterThan(15_000);
    expect(first).toContain('001'); // 1a and 1b down, 1c up: the storm was seen
    expect(first.endsWith('111')).toBe(true);
    expect(await trace()).toBe(first);
  });
});

describe('applying scenarios', () => {
  it('zone-outage: us-east-1a down at minute 2 and back at 40, with a time scale', async () => {
    const { clock, sim } = setup();
    const run = applyScenario(sim, loadScenario('zone-outage'), clock, { timeScale: 60 }); // a minute per second
    expect(run.timeOf(2) - run.startedAt).toBe(2000);
    await clock.advance(1999);
    expect(sim.endpoints.health('us-east-1a')).toEqual({ kind: 'ok' });
    await clock.advance(1);
    expect(sim.endpoints.health('us-east-1a')).toEqual({ kind: 'down' });
    expect(sim.compute.zoneState('us-east-1a')!.state).toBe('impaired');
    await clock.runUntil(run.timeOf(40));
    expect(sim.endpoints.health('us-east-1a')).toEqual({ kind: 'ok' });
    expect(sim.compute.zoneState('us-east-1a')!.state).toBe('available');
  });

  it('slow-replica: the replica lag starts over budget and shrinks within it later', async () => {
    const { clock, sim } = setup();
    const run = applyScenario(sim, loadScenario('slow-replica'), clock);
    expect(sim.databases.lagSeconds('us-west-2', 'orders-usw2')).toBe(240);
    await clock.runUntil(run.timeOf(2));
    expect(sim.databases.connectivity('us-east-1', 'orders')!.reachable).toBe(false);
    expect(sim.databases.lagSeconds('us-west-2', 'orders-usw2')).toBe(180);
    await clock.runUntil(run.timeOf(7));
    expect(sim.databases.lagSeconds('us-west-2', 'orders-usw2')).toBe(30);
  });

  it('control-plane-brownout: hangs and errors on EC2/RDS, endpoints untouched; later effects update earlier ones', async () => {
    const { clock, sim } = setup();
    const run = applyScenario(sim, loadScenario('control-plane-brownout'), clock);
    await clock.runUntil(run.timeOf(2));
    for (const zone of ['us-east-1a', 'us-east-1b', 'us-east-1c'])
      expect(sim.endpoints.health(zone)).toEqual({ kind: 'ok' });
    const controller = new AbortController();
    const snap = sim.databases
      .createSnapshot('us-east-1', 'orders', 's1', { signal: controller.signal })
      .catch((e: unknown) => e);
    await clock.advance(MIN);
    controller.abort();
    expect(await snap).toMatchObject({ kind: 'timeout' });
    await clock.runUntil(run.timeOf(32));
    await expect(sim.databases.describeInstance('us-east-1', 'orders')).resolves.toMatchObject({ id: 'orders' });
  });

  it('cancel stops later events', async () => {
    const { clock, sim } = setup();
    const run = applyScenario(sim, loadScenario('zone-outage'), clock);
    run.cancel();
    await clock.runUntil(run.endsAt);
    await run.done;
    expect(run.applied).toHaveLength(0);
    expect(sim.endpoints.health('us-east-1a')).toEqual({ kind: 'ok' });
  });

  it('rds lag metric effects: replication stopped reads −1, then a stopped metric keeps its old datapoint', async () => {
    const { clock, sim } = setup();
    const s = parseScenario(
      [
        'name: t',
        'events:',
        '  - {at: 1, effects: [{region: us-west-2, service: rds, replicationRunning: false}]}',
        '  - {at: 2, effects: [{region: us-west-2, service: rds, replicationRunning: true, lagMetricStopped: true}]}',
        '  - {at: 9, effects: [{region: us-west-2, service: rds, lagMetricStopped: false, lagMetricDelaySeconds: 300}]}',
        '',
      ].join('\n'),
      'inline',
    );
    const run = applyScenario(sim, s, clock);
    const read = () => sim.replicaLag.replicaLag('us-west-2', 'orders-usw2', new Date(clock.now()));
    await clock.runUntil(run.timeOf(1));
    expect(await read()).toMatchObject({ seconds: -1, at: run.timeOf(1) });
    await clock.runUntil(run.timeOf(2));
    const last = await read();
    await clock.runUntil(run.timeOf(8));
    expect(await read()).toEqual(last);
    expect(last!.seconds).toBeGreaterThanOrEqual(0);
    await clock.runUntil(run.timeOf(9));
    expect(await read()).toMatchObject({ at: run.timeOf(9) - 300_000 });
    expect(run.applied.flatMap((a) => a.effects)).toEqual([
      'us-west-2 rds: replication stopped (ReplicaLag -1) (orders-usw2)',
      'us-west-2 rds: replication running, ReplicaLag no longer published (orders-usw2)',
      'us-west-2 rds: ReplicaLag datapoints 300s behind, ReplicaLag published again (orders-usw2)',
    ]);
  });

  it('refuses, before scheduling anything, a scenario naming zones the simulated cloud lacks', () => {
    const { clock, sim } = setup();
    const s = parseScenario(
      'name: t\nevents:\n  - {at: 0, effects: [{zone: eu-west-1a, endpoints: down}]}\n',
      'inline',
    );
    expect(() => applyScenario(sim, s, clock)).toThrow(ScenarioError);
    expect(clock.pendingTimers()).toBe(0);
  });
});
