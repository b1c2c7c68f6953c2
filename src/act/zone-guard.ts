// Middleware 2 of 7 (PB-3): never act inside an impaired zone. In April 2011 reboot, stop, detach, restore and
// snapshot calls against resources in the affected zone hung or queued and added load to a control plane that was
// already inundated. A zone-targeted write against an Impaired zone is refused with a ZoneImpairedRefusal, which
// the executor records as Skipped (never silently dropped). A zone-targeted write that names no zone is refused
// too: the guard cannot prove it safe.
//
// Whose verdict: the acting policy's own health (`meta.policy`), so one tenant's failing probe does not block
// another tenant's remediation in a zone its own probes and EC2's zone state show healthy. A call made on behalf of
// no policy is checked against every policy's health.

import { ZoneImpairedRefusal } from './errors.ts';
import type { Middleware } from './types.ts';

/** Operations that act on a resource in one zone (or create one there). `RestoreDBInstance*` by prefix. */
export const ZONE_TARGETED_OPERATIONS: ReadonlySet<string> = new Set([
  'RebootDBInstance',
  'RebootInstances',
  'StopInstances',
  'DetachVolume',
  'CreateDBSnapshot',
  'CreateSnapshot',
  'CreateVolume',
  'RunInstances',
]);

export function isZoneTargetedOperation(operation: string): boolean {
  return ZONE_TARGETED_OPERATIONS.has(operation) || operation.startsWith('RestoreDBInstance');
}

/** Is the zone Impaired — for this policy when one is named, else for any policy? */
export type ZoneImpairedCheck = (region: string, zone: string, policy?: string) => boolean;

export function zoneGuardMiddleware(isZoneImpaired: ZoneImpairedCheck): Middleware {
  return {
    name: 'zone-guard',
    wrap: (next) => async (ctx) => {
      const { meta } = ctx;
      if (meta.write && isZoneTargetedOperation(meta.operation)) {
        if (meta.zone === undefined || isZoneImpaired(meta.region, meta.zone, meta.policy)) {
          throw new ZoneImpairedRefusal({ operation: meta.operation, region: meta.region, zone: meta.zone });
        }
      }
      return next(ctx);
    },
  };
}
