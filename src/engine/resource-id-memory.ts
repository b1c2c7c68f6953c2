// Each database's DbiResourceId as last described, for the promotion lock's key (#14): the key names the incarnation
// of the writer a failover moves away from, and that writer is the one whose region's RDS API may not answer during
// the failover (its observation is then a stub without the id). One per engine, shared by every policy.

import type { DbInstance } from '../cloud/types.ts';

export interface ResourceIdMemory {
  /** The databases as observed, each without a DbiResourceId given the one last seen for it; remembers new ones. */
  fill<D extends Pick<DbInstance, 'region' | 'id' | 'resourceId'>>(databases: readonly D[]): D[];
}

export function createResourceIdMemory(): ResourceIdMemory {
  const known = new Map<string, string>();
  return {
    fill(databases) {
      return databases.map((db) => {
        const key = `${db.region}/${db.id}`;
        if (db.resourceId !== undefined) {
          // A re-created or re-seeded instance under the same identifier: its new id replaces the old one.
          known.set(key, db.resourceId);
          return db;
        }
        const resourceId = known.get(key);
        return resourceId === undefined ? db : { ...db, resourceId };
      });
    },
  };
}
