// The promotion lock (#14) against moto's DynamoDB and RDS, through the fault proxy: two operators' executors — each
// its own AWS clients, call pipeline, journal and identity, running the real promoteReplica path (describe the
// replica, describe the old writer for its DbiResourceId, the conditional PutItem, PromoteReadReplica) — race to
// promote different replicas of the same writer, started within milliseconds of each other. Every repetition has a
// fresh writer (a new DbiResourceId, so a new key): exactly one racer takes the lock and exactly one
// PromoteReadReplica reaches the proxy, for the holder's target. A racer whose DynamoDB hangs or fails never
// promotes (fail closed).

import {
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { CreateDBInstanceCommand, CreateDBInstanceReadReplicaCommand } from '@aws-sdk/client-rds';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createCallPipeline } from '../../../src/act/call-pipeline.ts';
import { createExecutor, type ExecutionResult } from '../../../src/act/executor.ts';
import { createInMemoryJournalStore } from '../../../src/act/journal-store.ts';
import { promotionLockKey } from '../../../src/act/perform-action.ts';
import { systemClock } from '../../../src/clock.ts';
import { type AwsCloud, createAwsCloud } from '../../../src/cloud/aws/index.ts';
import type { PlannedAction } from '../../../src/decide/types.ts';
import { type AwsFixture, awsFixture, PRIMARY_REGION, STANDBY_REGION } from './aws-fixture.ts';

const OTHER_STANDBY = 'eu-west-1';
const LOCK_REGION = 'us-east-2';
const TABLE = 'failover-promotion-lock';
const REPETITIONS = 20;
const REQUEST_TIMEOUT_MS = 1_500;

let fx: AwsFixture;
let dynamo: DynamoDBClient;
let since: string;

beforeAll(async () => {
  await awsFixture().tb.resetMoto();
  fx = awsFixture();
  dynamo = new DynamoDBClient({
    endpoint: fx.tb.aws.motoEndpoint,
    credentials: fx.tb.aws.credentials,
    region: LOCK_REGION,
  });
}, 60_000);
beforeEach(async () => {
  await fx.tb.faults.clear();
  await dynamo.send(new DeleteTableCommand({ TableName: TABLE })).catch(() => undefined);
  await dynamo.send(
    new CreateTableCommand({
      TableName: TABLE,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  since = new Date().toISOString();
});
afterEach(async () => {
  await fx.tb.faults.clear();
});
afterAll(() => {
  dynamo?.destroy();
  fx?.close();
});

/** One operator: its own clients, pipeline, journal and identity, as a separate process would have. */
function operator(vantage: string) {
  const cloud: AwsCloud = createAwsCloud({
    endpoint: fx.tb.aws.endpoint,
    credentials: fx.tb.aws.credentials,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    connectionTimeoutMs: 1_000,
    promotionLock: { table: TABLE, regions: [LOCK_REGION] },
  });
  const clock = systemClock();
  const logger = pino({ level: 'silent' });
  // One attempt per call: a racer whose lock hangs gives up at its timeout instead of retrying for the test's time.
  const pipeline = createCallPipeline({ clock, logger, isZoneImpaired: () => false, retry: { maxAttempts: 1 } });
  const journalStore = createInMemoryJournalStore();
  const executor = createExecutor({
    cloud,
    pipeline,
    clock,
    logger,
    journalStore,
    settle: { promotionRequeueAfterMs: 1_000 },
    ...(cloud.promotionLock ? { promotionLock: { lock: cloud.promotionLock, vantage, holder: vantage } } : {}),
  });
  return {
    vantage,
    cloud,
    journalStore,
    promote: (writer: string, region: string, replica: string): Promise<ExecutionResult> =>
      executor.execute(
        'default/orders',
        { spec: {} },
        { actions: [promotion(writer, region, replica)] },
        { signal: new AbortController().signal, dryRun: false },
      ),
  };
}

function promotion(writer: string, region: string, replica: string): PlannedAction {
  return {
    id: `failover/auto-test/promote/${replica}`,
    action: {
      kind: 'PromoteReplica',
      region,
      dbInstanceIdentifier: replica,
      backupRetentionPeriod: 1,
      // No resourceId: the executor describes the old writer, as after a restart that never observed it.
      from: { region: PRIMARY_REGION, dbInstanceIdentifier: writer },
      epoch: 'auto-test',
    },
    rule: 'PB-6',
    target: replica,
    region,
    reason: `promote ${replica} to replace ${writer}`,
  };
}

/** A writer in us-east-1 with a cross-region replica in us-west-2 and one in eu-west-1; its DbiResourceId. */
async function writerWithTwoReplicas(name: string): Promise<string> {
  const primary = await fx.sdk.rds(PRIMARY_REGION).send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: name,
      Engine: 'postgres',
      DBInstanceClass: 'db.t3.micro',
      AllocatedStorage: 20,
      MasterUsername: 'orders',
      MasterUserPassword: 'not-a-secret-1',
      BackupRetentionPeriod: 1,
    }),
  );
  const arn = primary.DBInstance?.DBInstanceArn ?? '';
  for (const [region, id] of [
    [STANDBY_REGION, `${name}-usw2`],
    [OTHER_STANDBY, `${name}-euw1`],
  ] as const) {
    await fx.sdk.rds(region).send(
      new CreateDBInstanceReadReplicaCommand({
        DBInstanceIdentifier: id,
        SourceDBInstanceIdentifier: arn,
        DBInstanceClass: 'db.t3.micro',
      }),
    );
  }
  return primary.DBInstance?.DbiResourceId ?? '';
}

async function promotionsSince(from: string) {
  return (await fx.tb.faults.log()).filter((e) => e.at >= from && e.action === 'PromoteReadReplica');
}

async function lockItem(key: string) {
  const out = await dynamo.send(
    new GetItemCommand({ TableName: TABLE, Key: { pk: { S: key } }, ConsistentRead: true }),
  );
  return out.Item;
}

const skippedOrDone = (r: ExecutionResult) =>
  r.done.length === 1 ? 'promoted' : r.skipped.length === 1 ? 'refused' : 'failed';

describe('promotion lock against moto', () => {
  it('moto returns DbiResourceId, and the adapter reports it as resourceId', async () => {
    const resourceId = await writerWithTwoReplicas('orders-rid');
    expect(resourceId).toMatch(/^db-/);
    const described = await fx.cloud.databases.describeInstance(PRIMARY_REGION, 'orders-rid');
    expect(described?.resourceId).toBe(resourceId);
  });

  it('moto honours the condition: a new key, the same holder and target again, anyone else refused', async () => {
    const lock = operator('op-a').cloud.promotionLock!;
    const claim = {
      key: 'rds#us-east-1#x#db-CHECK',
      vantage: 'op-a',
      holder: 'a',
      epoch: 'e1',
      acquiredAt: Date.now(),
    };
    await expect(lock.acquire(LOCK_REGION, { ...claim, target: 'us-west-2/x-usw2' })).resolves.toEqual({
      acquired: true,
    });
    // The same holder under another identity (a restarted leader) retakes it.
    await expect(
      lock.acquire(LOCK_REGION, { ...claim, target: 'us-west-2/x-usw2', vantage: 'op-a2' }),
    ).resolves.toMatchObject({
      acquired: true,
      heldBefore: { target: 'us-west-2/x-usw2', holder: 'a', vantage: 'op-a', epoch: 'e1' },
    });
    const holder = { target: 'us-west-2/x-usw2', holder: 'a', vantage: 'op-a2' };
    await expect(
      lock.acquire(LOCK_REGION, { ...claim, target: 'eu-west-1/x-euw1', vantage: 'op-b', holder: 'b' }),
    ).resolves.toMatchObject({ acquired: false, holder });
    // Another holder is refused for the same replica too: one PromoteReadReplica in all.
    await expect(
      lock.acquire(LOCK_REGION, { ...claim, target: 'us-west-2/x-usw2', vantage: 'op-b', holder: 'b' }),
    ).resolves.toMatchObject({ acquired: false, holder });
  });

  it(`two operators racing for different replicas: exactly one promotes, ${REPETITIONS} times`, async () => {
    const a = operator('op-a');
    const b = operator('op-b');
    try {
      for (let rep = 0; rep < REPETITIONS; rep++) {
        const writer = `orders-race${rep}`;
        const resourceId = await writerWithTwoReplicas(writer);
        const started = new Date().toISOString();
        // Started within milliseconds of each other; alternate who goes first.
        const [ra, rb] = await Promise.all(
          rep % 2 === 0
            ? [a.promote(writer, STANDBY_REGION, `${writer}-usw2`), b.promote(writer, OTHER_STANDBY, `${writer}-euw1`)]
            : [
                b.promote(writer, OTHER_STANDBY, `${writer}-euw1`),
                a.promote(writer, STANDBY_REGION, `${writer}-usw2`),
              ].reverse(),
        );
        const outcomes = [skippedOrDone(ra!), skippedOrDone(rb!)].sort();
        const details = async () =>
          JSON.stringify(
            [...(await a.journalStore.load('default/orders')), ...(await b.journalStore.load('default/orders'))].filter(
              (e) => e.id.includes(writer),
            ),
          );
        expect(outcomes, `repetition ${rep}: ${await details()}`).toEqual(['promoted', 'refused']);

        const item = await lockItem(
          promotionLockKey({ region: PRIMARY_REGION, dbInstanceIdentifier: writer }, resourceId),
        );
        const winner = ra!.done.length === 1 ? a : b;
        const loser = winner === a ? rb! : ra!;
        const winnerTarget = winner === a ? `${STANDBY_REGION}/${writer}-usw2` : `${OTHER_STANDBY}/${writer}-euw1`;
        expect(item?.target?.S, `repetition ${rep}`).toBe(winnerTarget);
        expect(item?.vantage?.S).toBe(winner.vantage);
        expect(loser.skipped[0]?.reason).toContain(
          `was already taken by vantage ${winner.vantage} for ${winnerTarget}`,
        );
        expect(loser.skipped[0]).toMatchObject({ rule: 'PB-6' });

        const promotions = await promotionsSince(started);
        expect(promotions, `repetition ${rep}`).toHaveLength(1);
        expect(promotions[0]?.region).toBe(winnerTarget.split('/')[0]);
      }
    } finally {
      a.cloud.destroy();
      b.cloud.destroy();
    }
  }, 120_000);

  it('a racer whose DynamoDB hangs never promotes; the other takes the lock and promotes', async () => {
    const a = operator('op-a');
    const b = operator('op-b');
    try {
      const writer = 'orders-hang';
      await writerWithTwoReplicas(writer);
      // The first PutItem to reach the proxy hangs: b's, started first. a starts after b's claim is in flight.
      await fx.tb.faults.add({ service: 'dynamodb', action: 'PutItem', hang: true, times: 1 });
      const rb = b.promote(writer, OTHER_STANDBY, `${writer}-euw1`);
      await new Promise((r) => setTimeout(r, 300));
      const ra = a.promote(writer, STANDBY_REGION, `${writer}-usw2`);
      const [resultA, resultB] = await Promise.all([ra, rb]);

      expect(resultA.done).toHaveLength(1);
      expect(resultB.done).toHaveLength(0);
      expect(resultB.failed?.error.message).toMatch(/^promotion not sent: the promotion lock .* could not be taken/);
      const journal = await b.journalStore.load('default/orders');
      expect(journal[0]).toMatchObject({ state: 'Failed' });

      const promotions = await promotionsSince(since);
      expect(promotions).toHaveLength(1);
      expect(promotions[0]?.region).toBe(STANDBY_REGION);
    } finally {
      a.cloud.destroy();
      b.cloud.destroy();
    }
  }, 30_000);

  it('a lock region that fails (throttled, then 500) is no promotion: fail closed, nothing written', async () => {
    const b = operator('op-b');
    try {
      const writer = 'orders-down';
      const resourceId = await writerWithTwoReplicas(writer);
      await fx.tb.faults.add({
        service: 'dynamodb',
        region: LOCK_REGION,
        error: {
          status: 400,
          code: 'ThrottlingException',
          message: 'Rate of requests exceeds the allowed throughput.',
        },
        times: 1,
      });
      const first = await b.promote(writer, OTHER_STANDBY, `${writer}-euw1`);
      expect(first.failed?.error.message).toContain('ThrottlingException');

      await fx.tb.faults.add({
        service: 'dynamodb',
        region: LOCK_REGION,
        error: { status: 500, code: 'InternalServerError', message: 'Internal server error' },
      });
      // A second operator instance (no backoff carried over): the same refusal.
      const second = await operator('op-b2').promote(writer, OTHER_STANDBY, `${writer}-euw1`);
      expect(second.failed?.error.message).toMatch(/^promotion not sent: .*InternalServerError/);

      expect(await promotionsSince(since)).toHaveLength(0);
      await fx.tb.faults.clear();
      expect(
        await lockItem(promotionLockKey({ region: PRIMARY_REGION, dbInstanceIdentifier: writer }, resourceId)),
      ).toBeUndefined();
    } finally {
      b.cloud.destroy();
    }
  }, 30_000);

  it('a stale item of an earlier incarnation never blocks the new writer', async () => {
    const a = operator('op-a');
    try {
      const writer = 'orders-reborn';
      const resourceId = await writerWithTwoReplicas(writer);
      // A lock left by a failover away from an earlier incarnation of the same identifier (before a failback).
      await dynamo.send(
        new PutItemCommand({
          TableName: TABLE,
          Item: {
            pk: { S: promotionLockKey({ region: PRIMARY_REGION, dbInstanceIdentifier: writer }, 'db-OLDINCARNATION') },
            target: { S: `${OTHER_STANDBY}/${writer}-euw1` },
          },
        }),
      );
      const result = await a.promote(writer, STANDBY_REGION, `${writer}-usw2`);
      expect(result.done).toHaveLength(1);
      expect(resourceId).not.toBe('db-OLDINCARNATION');
    } finally {
      a.cloud.destroy();
    }
  });
});
