// The promotion lock's settings and where it is written: apart from the DynamoDB adapter (promotion-lock.ts) so
// that the composition root can describe the lock without loading the DynamoDB SDK until a promotion needs it.

import type { RegionName } from '../types.ts';

export interface PromotionLockSettings {
  /** FO_PROMOTION_LOCK_TABLE: a table whose partition key is the string `pk`. */
  table: string;
  /** FO_PROMOTION_LOCK_REGIONS: where the table can be written (its replicas), in order of preference. */
  regions: readonly RegionName[];
}

/** The region the lock is written in: the promotion's target region when the table is there, else the first. */
export function lockRegionFor(regions: readonly RegionName[], targetRegion: RegionName): RegionName {
  const first = regions[0];
  if (first === undefined) throw new Error('promotion lock without a region');
  return regions.includes(targetRegion) ? targetRegion : first;
}
