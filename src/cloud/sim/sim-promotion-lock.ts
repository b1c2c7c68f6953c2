// The simulated promotion lock: the DynamoDB table of src/cloud/aws/promotion-lock.ts in memory, with the same
// condition (a new key, or the same target again) and the same answers. Its calls take the simulated path
// (sim-call.ts), so injected dynamodb faults — a region down, calls hanging — reach it as they would the table.

import type { PromotionLock, PromotionLockHolder, RegionName } from '../types.ts';
import type { SimCallContext } from './sim-call.ts';
import { simCall } from './sim-call.ts';

export interface SimPromotionLock extends PromotionLock {
  /** The items, for reports and tests. */
  items(): ReadonlyMap<string, PromotionLockHolder>;
}

export interface SimPromotionLockOptions {
  table?: string;
  /** Where the (global) table can be written; the first is used unless the target region is listed. */
  regions?: readonly RegionName[];
}

export function createSimPromotionLock(ctx: SimCallContext, options: SimPromotionLockOptions = {}): SimPromotionLock {
  const table = options.table ?? 'failover-promotion-lock';
  const items = new Map<string, PromotionLockHolder>();
  return {
    table,
    regionFor(targetRegion) {
      const regions = options.regions ?? [];
      return regions.includes(targetRegion) || regions[0] === undefined ? targetRegion : regions[0];
    },
    acquire(region, claim, opts) {
      return simCall(ctx, { service: 'dynamodb', operation: 'PutItem', region, target: claim.key }, opts, () => {
        const held = items.get(claim.key);
        if (held !== undefined && (held.target !== claim.target || held.holder !== claim.holder)) {
          return { acquired: false, holder: { ...held } };
        }
        items.set(claim.key, {
          target: claim.target,
          holder: claim.holder,
          vantage: claim.vantage,
          epoch: claim.epoch,
          acquiredAt: new Date(claim.acquiredAt).toISOString(),
        });
        return { acquired: true, ...(held === undefined ? {} : { heldBefore: { ...held } }) };
      });
    },
    items: () => items,
  };
}
