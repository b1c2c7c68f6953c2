import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { CloudError } from '../errors.ts';
import type { PromotionLockClaim } from '../types.ts';
import type { AwsClients } from './clients.ts';
import { createDynamoDbPromotionLock, lockRegionFor, putClaimInput } from './promotion-lock.ts';

const AT = Date.UTC(2026, 11, 6, 3, 0, 0);
const claim: PromotionLockClaim = {
  key: 'rds#us-east-1#orders#db-ABCDEFGHIJKLMNOPQRSTUVWXYZ',
  target: 'us-west-2/orders-usw2',
  vantage: 'usw2/failover-operator-7d9f-a1b2c3d4',
  holder: 'usw2',
  epoch: 'auto-20261206T030000Z',
  acquiredAt: AT,
};

/** A DynamoDB client whose answers the test scripts, one per command sent; it records what was sent and where. */
function scripted(answers: Array<(command: unknown) => unknown>) {
  const sent: Array<{ region: string; command: unknown }> = [];
  const clients = {
    regional: (_service: string, region: string) => ({
      send: async (command: unknown) => {
        sent.push({ region, command });
        const answer = answers.shift();
        if (!answer) throw new Error('unexpected call');
        return answer(command);
      },
    }),
  } as unknown as AwsClients;
  return { clients, sent };
}

const refused = () => {
  throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
};

describe('promotion lock over DynamoDB', () => {
  it('puts the claim with the condition: a new key, or the same holder again for the same target', () => {
    expect(putClaimInput('failover-promotion-lock', claim)).toEqual({
      TableName: 'failover-promotion-lock',
      Item: {
        pk: { S: claim.key },
        target: { S: 'us-west-2/orders-usw2' },
        vantage: { S: claim.vantage },
        holder: { S: 'usw2' },
        epoch: { S: claim.epoch },
        acquiredAt: { S: '2026-12-06T03:00:00.000Z' },
      },
      ConditionExpression: 'attribute_not_exists(pk) OR (#target = :target AND #holder = :holder)',
      ExpressionAttributeNames: { '#target': 'target', '#holder': 'holder' },
      ExpressionAttributeValues: { ':target': { S: 'us-west-2/orders-usw2' }, ':holder': { S: 'usw2' } },
      ReturnValues: 'ALL_OLD',
    });
  });

  it('writes in the target region when the table is there, else in the first listed region', () => {
    expect(lockRegionFor(['us-east-2', 'us-west-2', 'eu-west-1'], 'us-west-2')).toBe('us-west-2');
    expect(lockRegionFor(['us-east-2', 'us-west-2', 'eu-west-1'], 'ap-south-1')).toBe('us-east-2');
    const lock = createDynamoDbPromotionLock(scripted([]).clients, { table: 't', regions: ['eu-west-1'] });
    expect(lock.regionFor('us-west-2')).toBe('eu-west-1');
  });

  it('acquired: one PutItem, nothing held before', async () => {
    const { clients, sent } = scripted([() => ({})]);
    const lock = createDynamoDbPromotionLock(clients, { table: 'locks', regions: ['us-west-2'] });
    await expect(lock.acquire('us-west-2', claim)).resolves.toEqual({ acquired: true });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.region).toBe('us-west-2');
    expect(sent[0]?.command).toBeInstanceOf(PutItemCommand);
    expect((sent[0]!.command as PutItemCommand).input).toEqual(putClaimInput('locks', claim));
  });

  it('the same holder and target again: acquired, naming who held it before (a retry, a restarted leader)', async () => {
    const { clients } = scripted([
      () => ({
        Attributes: {
          pk: { S: claim.key },
          target: { S: claim.target },
          holder: { S: 'usw2' },
          vantage: { S: 'op-eu' },
          epoch: { S: claim.epoch },
          acquiredAt: { S: '2026-12-06T02:59:58.000Z' },
        },
      }),
    ]);
    const lock = createDynamoDbPromotionLock(clients, { table: 'locks', regions: ['us-west-2'] });
    await expect(lock.acquire('us-west-2', claim)).resolves.toEqual({
      acquired: true,
      heldBefore: {
        target: claim.target,
        holder: 'usw2',
        vantage: 'op-eu',
        epoch: claim.epoch,
        acquiredAt: '2026-12-06T02:59:58.000Z',
      },
    });
  });

  it('another target: refused, the holder read back with a consistent read', async () => {
    const { clients, sent } = scripted([
      refused,
      () => ({
        Item: {
          pk: { S: claim.key },
          target: { S: 'eu-west-1/orders-euw1' },
          vantage: { S: 'op-eu' },
          epoch: { S: 'auto-20261206T025900Z' },
          acquiredAt: { S: '2026-12-06T02:59:58.000Z' },
        },
      }),
    ]);
    const lock = createDynamoDbPromotionLock(clients, { table: 'locks', regions: ['us-west-2'] });
    await expect(lock.acquire('us-west-2', claim)).resolves.toEqual({
      acquired: false,
      holder: {
        target: 'eu-west-1/orders-euw1',
        vantage: 'op-eu',
        epoch: 'auto-20261206T025900Z',
        acquiredAt: '2026-12-06T02:59:58.000Z',
      },
    });
    expect(sent[1]?.command).toBeInstanceOf(GetItemCommand);
    expect((sent[1]!.command as GetItemCommand).input).toEqual({
      TableName: 'locks',
      Key: { pk: { S: claim.key } },
      ConsistentRead: true,
    });
  });

  it("refused, then read back as our own claim (the holder changed in between): acquired; as another holder's claim on the same target: refused", async () => {
    const ours = scripted([
      refused,
      () => ({ Item: { pk: { S: claim.key }, target: { S: claim.target }, holder: { S: claim.holder } } }),
    ]);
    const lock = createDynamoDbPromotionLock(ours.clients, { table: 'locks', regions: ['us-west-2'] });
    await expect(lock.acquire('us-west-2', claim)).resolves.toMatchObject({ acquired: true });
    const theirs = scripted([
      refused,
      () => ({ Item: { pk: { S: claim.key }, target: { S: claim.target }, holder: { S: 'euw1' } } }),
    ]);
    const other = createDynamoDbPromotionLock(theirs.clients, { table: 'locks', regions: ['us-west-2'] });
    await expect(other.acquire('us-west-2', claim)).resolves.toEqual({
      acquired: false,
      holder: { target: claim.target, holder: 'euw1' },
    });
  });

  it('the same target held by another vantage: refused, naming it — never a second promotion of the replica', async () => {
    // Found by test/integration/engine/vantage-race.test.ts: three vantages racing for one replica each got past the
    // lock, the refused two because the read-back named their target, and three PromoteReadReplica were sent.
    const held = {
      pk: { S: claim.key },
      target: { S: claim.target },
      holder: { S: 'use1' },
      vantage: { S: 'use1/op-use1-3ea6e173' },
      epoch: { S: claim.epoch },
      acquiredAt: { S: '2026-12-06T02:59:59.000Z' },
    };
    for (const item of [held, { pk: held.pk, target: held.target }]) {
      const { clients } = scripted([refused, () => ({ Item: item })]);
      const lock = createDynamoDbPromotionLock(clients, { table: 'locks', regions: ['us-west-2'] });
      const outcome = await lock.acquire('us-west-2', claim);
      expect(outcome.acquired).toBe(false);
      expect(outcome).toMatchObject({ holder: { target: claim.target } });
    }
    const { clients } = scripted([refused, () => ({ Item: held })]);
    await expect(
      createDynamoDbPromotionLock(clients, { table: 'locks', regions: ['us-west-2'] }).acquire('us-west-2', claim),
    ).resolves.toEqual({
      acquired: false,
      holder: {
        target: claim.target,
        holder: 'use1',
        vantage: 'use1/op-use1-3ea6e173',
        epoch: claim.epoch,
        acquiredAt: '2026-12-06T02:59:59.000Z',
      },
    });
  });

  it('unreachable, throttled or hanging: a retryable CloudError, never an answer', async () => {
    const throttled = Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400 },
    });
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const timedOut = Object.assign(new Error('Request timed out'), { name: 'TimeoutError' });
    for (const [err, kind] of [
      [throttled, 'throttled'],
      [reset, 'retryable'],
      [timedOut, 'timeout'],
    ] as const) {
      const { clients } = scripted([
        () => {
          throw err;
        },
      ]);
      const lock = createDynamoDbPromotionLock(clients, { table: 'locks', regions: ['us-west-2'] });
      const failure = await lock.acquire('us-west-2', claim).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(failure).toBeInstanceOf(CloudError);
      expect(failure).toMatchObject({ kind, service: 'dynamodb', operation: 'PutItem' });
      expect((failure as CloudError).retryable).toBe(true);
    }
  });

  it('refused, then the read of the holder fails: an error, not an acquisition', async () => {
    const { clients } = scripted([
      refused,
      () => {
        throw Object.assign(new Error('Internal server error'), {
          name: 'InternalServerError',
          $metadata: { httpStatusCode: 500 },
        });
      },
    ]);
    const lock = createDynamoDbPromotionLock(clients, { table: 'locks', regions: ['us-west-2'] });
    await expect(lock.acquire('us-west-2', claim)).rejects.toMatchObject({ kind: 'retryable', operation: 'GetItem' });
  });
});
