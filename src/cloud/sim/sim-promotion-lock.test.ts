import { describe, expect, it } from 'vitest';
import { CloudError } from '../errors.ts';
import type { PromotionLockClaim } from '../types.ts';
import { newSim, START } from './sim-test-helpers.ts';

const claim: PromotionLockClaim = {
  key: 'rds#us-east-1#orders#db-SIM',
  target: 'us-west-2/orders-usw2',
  vantage: 'op-a',
  holder: 'a',
  epoch: 'auto-1',
  acquiredAt: START,
};

describe('simulated promotion lock', () => {
  it('answers as the DynamoDB condition does: a new key, the same holder and target again, anyone else refused', async () => {
    const { sim } = newSim();
    const lock = sim.promotionLock;
    await expect(lock.acquire('us-west-2', claim)).resolves.toEqual({ acquired: true });
    // The same holder (a restarted leader of vantage a: another identity) retakes its own claim.
    await expect(lock.acquire('us-west-2', { ...claim, vantage: 'op-a2' })).resolves.toMatchObject({
      acquired: true,
      heldBefore: { target: claim.target, holder: 'a', vantage: 'op-a' },
    });
    const held = {
      target: claim.target,
      holder: 'a',
      vantage: 'op-a2',
      epoch: 'auto-1',
      acquiredAt: new Date(START).toISOString(),
    };
    // Another holder: refused for another target, and for the same one (one PromoteReadReplica in all).
    await expect(
      lock.acquire('us-west-2', { ...claim, holder: 'b', target: 'eu-west-1/orders-euw1' }),
    ).resolves.toEqual({
      acquired: false,
      holder: held,
    });
    await expect(lock.acquire('us-west-2', { ...claim, holder: 'b', vantage: 'op-b' })).resolves.toEqual({
      acquired: false,
      holder: held,
    });
    expect(sim.calls.count({ service: 'dynamodb', operation: 'PutItem' })).toBe(4);
  });

  it('a dynamodb fault in the lock region fails the call, and nothing is written', async () => {
    const { sim } = newSim();
    sim.faults.set('lock-region-down', { service: 'dynamodb', region: 'us-west-2', errorRate: 1 });
    const err = await sim.promotionLock.acquire('us-west-2', claim).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CloudError);
    expect(err).toMatchObject({ kind: 'retryable', code: 'InternalServerError', service: 'dynamodb' });
    expect(sim.promotionLock.items().size).toBe(0);
  });

  it('every simulated RDS instance has a stable DbiResourceId; a re-created one gets a new one', async () => {
    const { sim } = newSim();
    const [first] = sim.databases.instances();
    expect(first?.resourceId).toMatch(/^db-[A-Z0-9]{26}$/);
    const again = newSim().sim.databases.instances()[0];
    expect(again?.resourceId).toBe(first?.resourceId);
    sim.databases.addInstance({ region: first!.region, id: first!.id });
    const recreated = sim.databases.instance(first!.region, first!.id);
    expect(recreated?.resourceId).not.toBe(first?.resourceId);
  });
});
