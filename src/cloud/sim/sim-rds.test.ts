import { describe, expect, it } from 'vitest';
import { LAG_METRIC_WINDOW_MS } from './sim-rds.ts';
import { newSim } from './sim-test-helpers.ts';

describe('PromoteReadReplica', () => {
  it('goes modifying → rebooting → available over about 4 minutes, then is a standalone writable primary', async () => {
    const { sim, clock } = newSim();
    expect(sim.writableInstances().map((db) => db.id)).toEqual(['orders']);
    await sim.databases.promoteReadReplica('us-west-2', 'orders-usw2', 7);

    const status = () => sim.databases.instance('us-west-2', 'orders-usw2')!;
    expect(status().status).toBe('modifying');
    expect(status().replicaSourceId).toBeDefined();
    await clock.advance(60_000);
    expect(status().status).toBe('rebooting');
    expect(status().replicaSourceId).toBeUndefined();
    await clock.advance(179_999);
    expect(status().status).toBe('rebooting');
    await clock.advance(1);
    expect(status()).toMatchObject({ status: 'available', backupRetentionPeriod: 7 });
    expect(status().replicaSourceId).toBeUndefined();

    // Both are writable now: fencing the old primary is the operator's job (PB-7).
    expect(sim.writableInstances().map((db) => db.id)).toEqual(['orders', 'orders-usw2']);
    expect(await sim.replicaLag.replicaLag('us-west-2', 'orders-usw2', new Date(clock.now()))).toBeUndefined();
  });

  it('honours configured promotion timings', async () => {
    const { sim, clock } = newSim({ rds: { promotion: { modifyingMs: 1000, rebootingMs: 2000 } } });
    await sim.databases.promoteReadReplica('us-west-2', 'orders-usw2', 1);
    await clock.advance(2999);
    expect(sim.databases.instance('us-west-2', 'orders-usw2')!.status).toBe('rebooting');
    await clock.advance(1);
    expect(sim.databases.instance('us-west-2', 'orders-usw2')!.status).toBe('available');
  });

  it('is refused (busy, InvalidDBInstanceState) while the replica is backing-up', async () => {
    const { sim } = newSim();
    sim.databases.setStatus('us-west-2', 'orders-usw2', 'backing-up');
    await expect(sim.databases.promoteReadReplica('us-west-2', 'orders-usw2', 7)).rejects.toMatchObject({
      kind: 'busy',
      code: 'InvalidDBInstanceState',
      operation: 'PromoteReadReplica',
    });
    expect(sim.databases.instance('us-west-2', 'orders-usw2')!.replicaSourceId).toBeDefined();
  });

  it('a snapshot puts the instance in backing-up, which blocks a promotion until it ends (PB-8)', async () => {
    const { sim, clock } = newSim({ rds: { snapshotMs: 120_000 } });
    await sim.databases.createSnapshot('us-west-2', 'orders-usw2', 'just-in-case');
    await expect(sim.databases.promoteReadReplica('us-west-2', 'orders-usw2', 7)).rejects.toMatchObject({
      kind: 'busy',
    });
    await clock.advance(120_000);
    await expect(sim.databases.promoteReadReplica('us-west-2', 'orders-usw2', 7)).resolves.toBeUndefined();
  });

  it('refuses to promote an instance that is not a replica (terminal), and an unknown one (not-found)', async () => {
    const { sim } = newSim();
    await expect(sim.databases.promoteReadReplica('us-east-1', 'orders', 7)).rejects.toMatchObject({
      kind: 'terminal',
    });
    await expect(sim.databases.promoteReadReplica('us-east-1', 'nope', 7)).rejects.toMatchObject({
      kind: 'not-found',
      code: 'DBInstanceNotFound',
    });
  });
});

describe('replica lag', () => {
  it('CloudWatch ReplicaLag reads the simulated lag, which can grow over time', async () => {
    const { sim, clock } = newSim();
    sim.databases.setReplicaLag('us-west-2', 'orders-usw2', 10, 0.5);
    await clock.advance(60_000);
    expect(await sim.replicaLag.replicaLag('us-west-2', 'orders-usw2', new Date(clock.now()))).toEqual({
      seconds: 40,
      at: clock.now(),
    });
    sim.databases.setReplicaLag('us-west-2', 'orders-usw2', 20, -1);
    await clock.advance(60_000);
    expect(sim.databases.lagSeconds('us-west-2', 'orders-usw2')).toBe(0);
    expect(await sim.replicaLag.replicaLag('us-east-1', 'orders', new Date(clock.now()))).toBeUndefined();
  });

  it('CloudWatch reports −1 while replication is stopped, and an old datapoint when the metric lags', async () => {
    const { sim, clock } = newSim();
    sim.databases.setReplicaLag('us-west-2', 'orders-usw2', 4);
    sim.databases.setLagMetric('us-west-2', 'orders-usw2', { replicationStopped: true });
    expect(await sim.replicaLag.replicaLag('us-west-2', 'orders-usw2', new Date(clock.now()))).toEqual({
      seconds: -1,
      at: clock.now(),
    });
    sim.databases.setLagMetric('us-west-2', 'orders-usw2', { replicationStopped: false, delaySeconds: 600 });
    expect(await sim.replicaLag.replicaLag('us-west-2', 'orders-usw2', new Date(clock.now()))).toEqual({
      seconds: 4,
      at: clock.now() - 600_000,
    });
  });
});

describe('ReplicaLag metric faults', () => {
  const read = (sim: ReturnType<typeof newSim>['sim'], at: number) =>
    sim.replicaLag.replicaLag('us-west-2', 'orders-usw2', new Date(at));

  it('a metric that stopped being published keeps its last datapoint, which ages, and is gone after the window', async () => {
    const { sim, clock } = newSim();
    sim.databases.setReplicaLag('us-west-2', 'orders-usw2', 3, 0.1);
    const stoppedAt = clock.now();
    sim.databases.setLagMetric('us-west-2', 'orders-usw2', { published: false });
    await clock.advance(10 * 60_000);
    // The lag grew to 63 s meanwhile; CloudWatch still shows the 3 s datapoint from ten minutes ago.
    expect(sim.databases.lagSeconds('us-west-2', 'orders-usw2')).toBe(63);
    expect(await read(sim, clock.now())).toEqual({ seconds: 3, at: stoppedAt });
    await clock.advance(LAG_METRIC_WINDOW_MS - 10 * 60_000 + 1);
    expect(await read(sim, clock.now())).toBeUndefined();
    sim.databases.setLagMetric('us-west-2', 'orders-usw2', { published: true });
    expect(await read(sim, clock.now())).toMatchObject({ at: clock.now() });
  });

  it('a stopped metric that last showed −1 keeps showing −1; a promotion clears the metric faults', async () => {
    const { sim, clock } = newSim({ rds: { promotion: { modifyingMs: 1000, rebootingMs: 1000 } } });
    sim.databases.setLagMetric('us-west-2', 'orders-usw2', { replicationStopped: true });
    sim.databases.setLagMetric('us-west-2', 'orders-usw2', { published: false });
    sim.databases.setLagMetric('us-west-2', 'orders-usw2', { replicationStopped: false });
    await clock.advance(60_000);
    expect(await read(sim, clock.now())).toMatchObject({ seconds: -1, at: clock.now() - 60_000 });
    await sim.databases.promoteReadReplica('us-west-2', 'orders-usw2', 7);
    await clock.advance(2000);
    expect(await read(sim, clock.now())).toBeUndefined();
  });

  it('a delay longer than the look-back window reads as no datapoint', async () => {
    const { sim, clock } = newSim();
    sim.databases.setLagMetric('us-west-2', 'orders-usw2', { delaySeconds: LAG_METRIC_WINDOW_MS / 1000 + 1 });
    expect(await read(sim, clock.now())).toBeUndefined();
  });
});

describe('reboot', () => {
  it('takes much longer for Multi-AZ instances while failovers are slow in the region (2011)', async () => {
    const { sim, clock } = newSim();
    sim.databases.setMultiAzFailover('us-east-1', 'slow');
    await sim.databases.rebootInstance('us-east-1', 'orders');
    await clock.advance(5 * 60_000);
    expect(sim.databases.instance('us-east-1', 'orders')!.status).toBe('rebooting');
    await clock.advance(5 * 60_000);
    expect(sim.databases.instance('us-east-1', 'orders')!.status).toBe('available');
  });
});
