// The promotion lock over DynamoDB (#14): one conditional PutItem right before PromoteReadReplica, so that every
// operator running the same policy promotes the same replica, or none. docs/failover.md, "Promotion lock".
//
// - The item: `{ pk, target, holder, vantage, epoch, acquiredAt }`, pk = `rds#<region>#<id>#<DbiResourceId>` of the
//   writer failed away from. The condition `attribute_not_exists(pk) OR (#target = :target AND #holder = :holder)`
//   lets the same holder through again for the same target (a retry, a restart, a new leader of the same vantage:
//   `holder` is stable) and refuses everyone else — another operator is refused even for the same replica, so one
//   PromoteReadReplica is sent in all; it adopts the promoted writer once it shows (database-failover.ts).
// - Refused (ConditionalCheckFailedException): the holder is read back with a consistent read and returned, so the
//   refusal names who took the failover, for which target and when — also when it is the same target: only an item
//   naming our target and our holder is ours (an item written without `holder`, by an older version, is not).
// - Anything else (timeout, throttling, the table's region down, access denied) leaves as a CloudError: the caller
//   does not promote (fail closed). With a multi-Region strongly consistent global table a region cut off from the
//   majority cannot write, so a partitioned operator cannot take the lock there either.

import {
  type AttributeValue,
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { CloudError } from '../errors.ts';
import { createRequestPacer } from '../request-pacer.ts';
import type {
  CallOptions,
  PromotionLock,
  PromotionLockClaim,
  PromotionLockHolder,
  PromotionLockOutcome,
  RegionName,
} from '../types.ts';
import type { AwsClients } from './clients.ts';
import { callAws } from './errors.ts';
import { lockRegionFor, type PromotionLockSettings } from './promotion-lock-settings.ts';

export { lockRegionFor, type PromotionLockSettings } from './promotion-lock-settings.ts';

const SERVICE = 'dynamodb';

/** The PutItem request of a claim (exported for the request-shape test). */
export function putClaimInput(table: string, claim: PromotionLockClaim) {
  return {
    TableName: table,
    Item: {
      pk: { S: claim.key },
      target: { S: claim.target },
      vantage: { S: claim.vantage },
      holder: { S: claim.holder },
      epoch: { S: claim.epoch },
      acquiredAt: { S: new Date(claim.acquiredAt).toISOString() },
    },
    ConditionExpression: 'attribute_not_exists(pk) OR (#target = :target AND #holder = :holder)',
    ExpressionAttributeNames: { '#target': 'target', '#holder': 'holder' },
    ExpressionAttributeValues: { ':target': { S: claim.target }, ':holder': { S: claim.holder } },
    ReturnValues: 'ALL_OLD' as const,
  };
}

function holderOf(item: Record<string, AttributeValue> | undefined): PromotionLockHolder | undefined {
  const target = item?.target?.S;
  if (item === undefined || target === undefined) return undefined;
  return {
    target,
    ...(item.holder?.S === undefined ? {} : { holder: item.holder.S }),
    ...(item.vantage?.S === undefined ? {} : { vantage: item.vantage.S }),
    ...(item.epoch?.S === undefined ? {} : { epoch: item.epoch.S }),
    ...(item.acquiredAt?.S === undefined ? {} : { acquiredAt: item.acquiredAt.S }),
  };
}

export function createDynamoDbPromotionLock(clients: AwsClients, settings: PromotionLockSettings): PromotionLock {
  const { table } = settings;
  return {
    table,
    regionFor: (targetRegion) => lockRegionFor(settings.regions, targetRegion),

    async acquire(
      region: RegionName,
      claim: PromotionLockClaim,
      opts: CallOptions = {},
    ): Promise<PromotionLockOutcome> {
      const pace = createRequestPacer(opts);
      let refused = false;
      await pace();
      const out = await callAws(SERVICE, 'PutItem', async () => {
        try {
          return await clients
            .regional('dynamodb', region, DynamoDBClient)
            .send(new PutItemCommand(putClaimInput(table, claim)), { abortSignal: opts.signal });
        } catch (err) {
          // Not a failure of the call: the answer is "held for another target". Who holds it is read below.
          if (err instanceof ConditionalCheckFailedException) {
            refused = true;
            return undefined;
          }
          throw err;
        }
      });
      if (!refused) {
        const before = holderOf(out?.Attributes);
        return { acquired: true, ...(before === undefined ? {} : { heldBefore: before }) };
      }
      await pace();
      const got = await callAws(SERVICE, 'GetItem', () =>
        clients
          .regional('dynamodb', region, DynamoDBClient)
          .send(new GetItemCommand({ TableName: table, Key: { pk: { S: claim.key } }, ConsistentRead: true }), {
            abortSignal: opts.signal,
          }),
      );
      const holder = holderOf(got.Item);
      if (holder === undefined) {
        // Refused, then gone (someone deleted the item by hand between the two calls): not ours. Try again later.
        throw new CloudError({
          kind: 'busy',
          service: SERVICE,
          operation: 'GetItem',
          code: 'PromotionLockChanged',
          message: `promotion lock ${claim.key} in ${table} was refused, then read back empty: retry`,
        });
      }
      // Ours only if the item now names our target AND us (it changed to our own claim in between): the same target
      // under another holder is that holder's promotion, and letting us through would send a second one.
      if (holder.target === claim.target && holder.holder === claim.holder)
        return { acquired: true, heldBefore: holder };
      return { acquired: false, holder };
    },
  };
}
