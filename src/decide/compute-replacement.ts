// Capacity goes where the zones are healthy (PB-4). When a zone is Impaired:
// - with compute.ec2.replaceInHealthyZones, replacements are launched into the HEALTHY zones of that region only,
//   spread so the zones end up as even as possible (water-filling: each instance goes to the healthy zone with the
//   fewest, ties by name), until the healthy zones hold minHealthyInstances. Instances in the impaired zone do not
//   count, even when they report healthy: they cannot be reached reliably or replaced there.
// - with compute.ec2.restoreVolumesFromSnapshots, each protected volume in the impaired zone is recreated from its
//   newest completed snapshot in a healthy zone of the region (snapshots are regional). A region whose volumes
//   could not be read (CloudObservation.volumesUnknown) gets one Skipped RestoreVolume naming why, never silence.
// One replacement wave per impairment: launch ids carry the time the first zone of the region became Impaired, so
// instances still booting are not launched twice (the executor passes the id as the EC2 ClientToken).
// No snapshots are created here or anywhere else (PB-8: no mass "just in case" backups during an incident).

import type { RegionName, ZoneName } from '../cloud/types.ts';
import { launchId, restoreId } from './action-ids.ts';
import type { PlanContext } from './plan-context.ts';
import type { PlannedAction, SkippedAction } from './types.ts';

export interface ComputeDecision {
  actions: PlannedAction[];
  skipped: SkippedAction[];
}

/** Spreads `count` new instances over zones so the totals end as even as possible (ties by zone name). */
export function spreadEvenly(
  count: number,
  existing: ReadonlyArray<{ zone: ZoneName; count: number }>,
): Map<ZoneName, number> {
  const totals = new Map(existing.map((z) => [z.zone, z.count]));
  const added = new Map<ZoneName, number>(existing.map((z) => [z.zone, 0]));
  const zones = [...totals.keys()].sort();
  for (let i = 0; i < count && zones.length > 0; i++) {
    let best = zones[0] as ZoneName;
    for (const z of zones) if ((totals.get(z) ?? 0) < (totals.get(best) ?? 0)) best = z;
    totals.set(best, (totals.get(best) ?? 0) + 1);
    added.set(best, (added.get(best) ?? 0) + 1);
  }
  return added;
}

function healthyCounts(
  ctx: PlanContext,
  region: RegionName,
  zones: ZoneName[],
): Array<{ zone: ZoneName; count: number }> {
  return zones.map((zone) => ({
    zone,
    count: (ctx.cloud.instances ?? [])
      .filter((i) => i.region === region && i.zone === zone)
      .reduce((s, i) => s + i.healthy, 0),
  }));
}

export function planComputeReplacement(ctx: PlanContext): ComputeDecision {
  const compute = ctx.settings.compute;
  const out: ComputeDecision = { actions: [], skipped: [] };
  if (!compute) return out;
  for (const region of ctx.settings.regions) {
    const impaired = region.zones.filter((z) => ctx.zoneState(z) === 'Impaired');
    if (impaired.length === 0) continue;
    const healthy = region.zones.filter((z) => (ctx.zoneState(z) ?? 'Healthy') === 'Healthy');
    const since = Math.min(...impaired.map((z) => ctx.zoneHealth(z)?.since ?? ctx.now));

    const replace = compute.replaceInHealthyZones;
    if (replace) {
      const counts = healthyCounts(ctx, region.name, healthy);
      const deficit = replace.minHealthyInstances - counts.reduce((s, c) => s + c.count, 0);
      const countsKnown = (ctx.cloud.instances ?? []).some((i) => i.region === region.name);
      if (!countsKnown) {
        // Launching blind would add a whole fleet on top of whatever still runs, during an incident (PB-8).
        out.skipped.push({
          kind: 'LaunchReplacements',
          target: region.name,
          region: region.name,
          rule: 'PB-4',
          reason: `PB-4 skipped LaunchReplacements in ${region.name}: instance counts unknown (DescribeInstanceStatus gave no answer)`,
        });
      } else if (deficit > 0 && healthy.length === 0) {
        out.skipped.push({
          kind: 'LaunchReplacements',
          target: region.name,
          region: region.name,
          rule: 'PB-4',
          reason: `PB-4 skipped LaunchReplacements in ${region.name}: no healthy zone to launch ${deficit} into`,
        });
      } else if (deficit > 0) {
        for (const [zone, count] of spreadEvenly(deficit, counts)) {
          if (count === 0) continue;
          out.actions.push({
            id: launchId(region.name, since, zone),
            action: {
              kind: 'LaunchReplacements',
              region: region.name,
              zone,
              count,
              launchTemplateId: replace.launchTemplateId,
            },
            rule: 'PB-4',
            target: replace.launchTemplateId,
            region: region.name,
            zone,
            reason: `launched ${count} replacement${count === 1 ? '' : 's'} in healthy zone ${zone}: ${impaired.join(', ')} impaired, ${replace.minHealthyInstances} healthy instances required`,
          });
        }
      }
    }

    const volumesUnknown = ctx.cloud.volumesUnknown?.find((u) => u.region === region.name);
    if (compute.restoreVolumesFromSnapshots && volumesUnknown) {
      // Not "no volumes": the read failed, so what needs restoring is unknown; restoring blind could duplicate
      // volumes, and a silent nothing would hide the gap (PB-11). The next observation retries the read.
      out.skipped.push({
        kind: 'RestoreVolume',
        target: region.name,
        region: region.name,
        rule: 'PB-4',
        reason: `PB-4 skipped RestoreVolume in ${region.name}: volumes unknown (${volumesUnknown.reason})`,
      });
    } else if (compute.restoreVolumesFromSnapshots) {
      const volumes = (ctx.cloud.volumes ?? []).filter((v) => v.region === region.name && impaired.includes(v.zone));
      volumes.forEach((volume, i) => {
        const snapshot = (ctx.cloud.snapshots ?? [])
          .filter((s) => s.volumeId === volume.id && s.state === 'completed')
          .sort((a, b) => b.startTime - a.startTime || (a.id < b.id ? -1 : 1))[0];
        const zone = healthy[i % Math.max(1, healthy.length)];
        if (!snapshot || zone === undefined) {
          out.skipped.push({
            kind: 'RestoreVolume',
            target: volume.id,
            region: region.name,
            rule: 'PB-4',
            reason: `PB-4 skipped RestoreVolume on ${volume.id}: ${snapshot ? 'no healthy zone in the region' : 'no completed snapshot'}`,
          });
          return;
        }
        out.actions.push({
          id: restoreId(volume.id, snapshot.id),
          action: { kind: 'RestoreVolume', region: region.name, zone, snapshotId: snapshot.id },
          rule: 'PB-4',
          target: volume.id,
          region: region.name,
          zone,
          reason: `recreated ${volume.id} from snapshot ${snapshot.id} in healthy zone ${zone}: ${volume.zone} impaired`,
        });
      });
    }
  }
  return out;
}
