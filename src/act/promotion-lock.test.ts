// The executor's promotion path with the promotion lock (#14): the lock is taken right before PromoteReadReplica;
// held for another target, the promotion is Skipped citing PB-6 with the holder named and PromoteReadReplica is never
// called; the lock unreachable, the promotion is Failed as "not sent" (fail closed) and the call is never made.

import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CloudError } from '../cloud/errors.ts';
import type { DbInstance, PromotionLock, PromotionLockClaim, PromotionLockOutcome } from '../cloud/types.ts';
import { PROMOTION_NOT_SENT } from '../decide/database-failover.ts';
import type { PlannedAction } from '../decide/types.ts';
import { createCallPipeline } from './call-pipeline.ts';
import { createExecutor } from './executor.ts';
import { findEntry } from './journal.ts';
import { createInMemoryJournalStore } from './journal-store.ts';
import { promotionLockKey } from './perform-action.ts';
import { createFakeCloud } from './testing/fake-cloud.ts';
import { seededRandom } from './testing/seeded-random.ts';
import { createVirtualClock } from './testing/virtual-clock.ts';

const T0 = Date.UTC(2026, 11, 6, 3, 0, 0);
const KEY = 'shop/orders';
const RESOURCE_ID = 'db-ABCDEFGHIJKLMNOPQRSTUVWXYZ';

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
const primary: DbInstance = {
  region: 'us-east-1',
  id: 'orders',
  arn: 'arn:aws:rds:us-east-1:123456789012:db:orders',
  resourceId: RESOURCE_ID,
  status: 'available',
  zone: 'us-east-1a',
  backupRetentionPeriod: 7,
  multiAz: false,
};

/** `null`: the plan never observed the old writer's DbiResourceId. */
function promote(resourceId: string | null = RESOURCE_ID): PlannedAction {
  return {
    id: 'failover/auto-20261206T025500Z/promote/orders-usw2',
    action: {
      kind: 'PromoteReplica',
      region: 'us-west-2',
      dbInstanceIdentifier: 'orders-usw2',
      backupRetentionPeriod: 7,
      from: {
        region: 'us-east-1',
        dbInstanceIdentifier: 'orders',
        ...(resourceId === null ? {} : { resourceId }),
      },
      epoch: 'auto-20261206T025500Z',
    },
    rule: 'PB-6',
    target: 'orders-usw2',
    region: 'us-west-2',
    reason: 'promote orders-usw2 to replace orders',
  };
}

/** A lock that answers as scripted and records each claim with the region it was written in. */
function fakeLock(answer: (claim: PromotionLockClaim) => PromotionLockOutcome | Promise<PromotionLockOutcome>) {
  const claims: Array<{ region: string; claim: PromotionLockClaim }> = [];
  const lock: PromotionLock = {
    table: 'failover-promotion-lock',
    regionFor: () => 'us-east-2',
    async acquire(region, claim) {
      claims.push({ region, claim });
      return answer(claim);
    },
  };
  return { lock, claims };
}

function setup(lock: PromotionLock | undefined, dbs: DbInstance[] = [replica, primary]) {
  const clock = createVirtualClock(T0);
  const cloud = createFakeCloud({ dbs });
  const store = createInMemoryJournalStore();
  const logger = pino({ level: 'silent' });
  const pipeline = createCallPipeline({
    clock,
    logger,
    isZoneImpaired: () => false,
    random: seededRandom(3),
    retry: { maxAttempts: 1 },
  });
  const executor = createExecutor({
    cloud,
    pipeline,
    clock,
    logger,
    journalStore: store,
    ...(lock ? { promotionLock: { lock, vantage: 'op-use2-1234', holder: 'use2' } } : {}),
  });
  const run = (action: PlannedAction) =>
    clock.run(
      executor.execute(
        KEY,
        { spec: {} },
        { actions: [action] },
        { signal: new AbortController().signal, dryRun: false },
      ),
    );
  return { cloud, store, run };
}

describe('executor: promotion lock', () => {
  it('takes the lock keyed by the old writer incarnation, then promotes', async () => {
    const { lock, claims } = fakeLock(() => ({ acquired: true }));
    const { cloud, store, run } = setup(lock);
    const result = await run(promote());
    expect(result.done).toHaveLength(1);
    expect(claims).toEqual([
      {
        region: 'us-east-2',
        claim: {
          key: `rds#us-east-1#orders#${RESOURCE_ID}`,
          target: 'us-west-2/orders-usw2',
          vantage: 'op-use2-1234',
          holder: 'use2',
          epoch: 'auto-20261206T025500Z',
          acquiredAt: T0,
        },
      },
    ]);
    expect(cloud.calls.map((c) => c.op)).toEqual(['describeInstance', 'promoteReadReplica']);
    expect(findEntry(store.peek(KEY), promote().id)?.detail).toContain(
      `took the promotion lock failover-promotion-lock in us-east-2 (rds#us-east-1#orders#${RESOURCE_ID})`,
    );
  });

  it('the same target held already by the same holder (a retry, a restarted leader): promotes', async () => {
    const { lock } = fakeLock(() => ({
      acquired: true,
      heldBefore: { target: 'us-west-2/orders-usw2', vantage: 'op-euw1-9', acquiredAt: '2026-12-06T02:59:59.000Z' },
    }));
    const { cloud, store, run } = setup(lock);
    expect((await run(promote())).done).toHaveLength(1);
    expect(cloud.callsOf('promoteReadReplica')).toHaveLength(1);
    expect(findEntry(store.peek(KEY), promote().id)?.detail).toContain('already held for us-west-2/orders-usw2');
  });

  it('held for another target: refused without calling PromoteReadReplica, Skipped citing PB-6 with the holder named', async () => {
    const { lock } = fakeLock(() => ({
      acquired: false,
      holder: {
        target: 'eu-west-1/orders-euw1',
        vantage: 'op-euw1-9',
        epoch: 'auto-20261206T025400Z',
        acquiredAt: '2026-12-06T02:59:58.000Z',
      },
    }));
    const { cloud, store, run } = setup(lock);
    const result = await run(promote());
    expect(cloud.callsOf('promoteReadReplica')).toHaveLength(0);
    expect(result.done).toHaveLength(0);
    expect(result.failed).toBeUndefined();
    const message = `promotion of us-west-2/orders-usw2 refused: the failover away from us-east-1/orders (${RESOURCE_ID}) was already taken by vantage op-euw1-9 for eu-west-1/orders-euw1 at 2026-12-06T02:59:58.000Z (epoch auto-20261206T025400Z) (promotion lock failover-promotion-lock in us-east-2)`;
    expect(result.skipped).toEqual([
      { kind: 'PromoteReplica', target: 'orders-usw2', region: 'us-west-2', rule: 'PB-6', reason: message },
    ]);
    expect(findEntry(store.peek(KEY), promote().id)).toMatchObject({ state: 'Skipped', rule: 'PB-6', detail: message });
  });

  it('the lock unreachable: PromoteReadReplica is not called, the promotion Failed as not sent (retried later)', async () => {
    const { lock } = fakeLock(() => {
      throw new CloudError({
        kind: 'timeout',
        service: 'dynamodb',
        operation: 'PutItem',
        code: 'TimeoutError',
        message: 'PutItem timed out',
      });
    });
    const { cloud, store, run } = setup(lock);
    const result = await run(promote());
    expect(cloud.callsOf('promoteReadReplica')).toHaveLength(0);
    expect(result.failed?.error.message).toMatch(
      /^promotion not sent: the promotion lock failover-promotion-lock in us-east-2 could not be taken \(.*TimeoutError.*\); no promotion of us-west-2\/orders-usw2 without the promotion lock/,
    );
    const entry = findEntry(store.peek(KEY), promote().id);
    expect(entry?.state).toBe('Failed');
    expect(entry?.error?.startsWith(PROMOTION_NOT_SENT)).toBe(true);
  });

  it("the old writer's incarnation unknown and the writer not describable: no lock, no promotion", async () => {
    const { lock, claims } = fakeLock(() => ({ acquired: true }));
    const { cloud, run } = setup(lock, [replica]);
    const result = await run(promote(null));
    expect(claims).toHaveLength(0);
    expect(cloud.callsOf('promoteReadReplica')).toHaveLength(0);
    expect(result.failed?.error.message.startsWith(PROMOTION_NOT_SENT)).toBe(true);
    expect(result.failed?.error.message).toContain('DBInstanceNotFound');
  });

  it("the old writer's incarnation unknown to the plan: described now, then the lock keyed by it", async () => {
    const { lock, claims } = fakeLock(() => ({ acquired: true }));
    const { cloud, run } = setup(lock);
    expect((await run(promote(null))).done).toHaveLength(1);
    expect(claims[0]?.claim.key).toBe(
      promotionLockKey({ region: 'us-east-1', dbInstanceIdentifier: 'orders' }, RESOURCE_ID),
    );
    expect(cloud.callsOf('promoteReadReplica')).toHaveLength(1);
  });

  it('an already promoted target needs no lock: nothing is sent', async () => {
    const { lock, claims } = fakeLock(() => ({ acquired: true }));
    const { replicaSourceId: _source, ...promoted } = replica;
    const { cloud, run } = setup(lock, [promoted, primary]);
    expect((await run(promote())).done).toHaveLength(1);
    expect(claims).toHaveLength(0);
    expect(cloud.callsOf('promoteReadReplica')).toHaveLength(0);
  });

  it('without a lock configured the promotion goes ahead as before', async () => {
    const { cloud, run } = setup(undefined);
    expect((await run(promote())).done).toHaveLength(1);
    expect(cloud.callsOf('promoteReadReplica')).toHaveLength(1);
  });
});
