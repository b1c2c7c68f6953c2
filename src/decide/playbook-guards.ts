// PB-3: never act inside the impaired zone. In 2011, reboot, stop, detach, restore and snapshot calls against
// resources in the affected zone hung or queued and added load to a control plane already drowning; AWS's advice
// was not to try. So:
// - `inPlaceRecoveryCandidates` lists the in-place recovery a runbook would reach for first (reboot the writer DB,
//   reboot the failed instances) for resources in impaired zones — they exist to be refused and recorded, so
//   Events and drill reports show the decision (PB-11: skipped actions are recorded, not silently dropped).
// - `guardImpairedZones` is the planner's last step: any zone-targeted action whose zone is impaired becomes a
//   SkippedAction citing PB-3. The executor repeats the same guard at call time (defence in depth).

import type { ZoneName } from '../cloud/types.ts';
import { isWritablePrimary } from './database-failover.ts';
import type { PlanContext } from './plan-context.ts';
import type { ActionSpec, PlannedAction, SkippedAction } from './types.ts';

/** The zone an action targets, if it targets one. */
export function zoneOf(action: PlannedAction): ZoneName | undefined {
  const spec: ActionSpec = action.action;
  if ('zone' in spec) return spec.zone;
  return action.zone;
}

export function skipInImpairedZone(action: PlannedAction, zone: ZoneName): SkippedAction {
  return {
    kind: action.action.kind,
    target: action.target,
    zone,
    ...(action.region === undefined ? {} : { region: action.region }),
    rule: 'PB-3',
    reason: `PB-3 skipped ${action.action.kind} on ${action.target}: zone ${zone} impaired`,
  };
}

export function guardImpairedZones(
  actions: readonly PlannedAction[],
  impairedZones: ReadonlySet<ZoneName>,
): { actions: PlannedAction[]; skipped: SkippedAction[] } {
  const kept: PlannedAction[] = [];
  const skipped: SkippedAction[] = [];
  for (const a of actions) {
    const zone = zoneOf(a);
    if (zone !== undefined && impairedZones.has(zone)) skipped.push(skipInImpairedZone(a, zone));
    else kept.push(a);
  }
  return { actions: kept, skipped };
}

/** In-place recovery a naive runbook would try on resources in impaired zones (always refused by PB-3). */
export function inPlaceRecoveryCandidates(ctx: PlanContext): PlannedAction[] {
  const out: PlannedAction[] = [];
  for (const db of ctx.policyDbs) {
    if (db.zone === undefined || !ctx.impairedZones.has(db.zone) || !isWritablePrimary(db)) continue;
    out.push({
      id: `reboot-db/${db.id}`,
      action: { kind: 'RebootDBInstance', region: db.region, dbInstanceIdentifier: db.id },
      rule: 'PB-3',
      target: db.id,
      region: db.region,
      zone: db.zone,
      reason: `writable primary ${db.id} is in impaired zone ${db.zone}`,
    });
  }
  for (const group of ctx.cloud.instances ?? []) {
    const ids = [...(group.unhealthyIds ?? [])].sort();
    if (ids.length === 0 || !ctx.impairedZones.has(group.zone)) continue;
    out.push({
      id: `reboot-instances/${group.zone}`,
      action: { kind: 'RebootInstances', region: group.region, instanceIds: ids },
      rule: 'PB-3',
      target: `${ids.length} instance${ids.length === 1 ? '' : 's'} in ${group.zone}`,
      region: group.region,
      zone: group.zone,
      reason: `${ids.length} instances failed status checks in impaired zone ${group.zone}`,
    });
  }
  return out;
}
