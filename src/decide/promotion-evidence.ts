// The evidence an automatic promotion needs (PB-6, DESIGN "Evidence before irreversible steps"). Draining a zone is
// cheap and reversible; promoting a replica in another region is neither. So a region the health model holds
// Impaired moves the database only when two independent classes of evidence agree:
//   1. the data plane: endpoint probes (HTTP/TCP) hard-down — no answer at all, not merely slow — in as many zones
//      of the region as make it Impaired (spec.health.regionImpairedWhen), or in the writer's zone and one more;
//   2. the database: the writable primary unreachable (its data-plane connect probe gets no answer) or impaired (RDS
//      reports it failed, or it is gone).
// EC2 zone metadata and control-plane error rates are neither: they can drain a zone, never move a database.
// Pure: reads the health view only.

import type { RegionHealth } from '../health/types.ts';

export interface PromotionEvidence {
  sufficient: boolean;
  /** What is missing, in sentences for the gate (empty when sufficient). */
  missing: string[];
  /** What was seen, for the failover's reason. */
  seen: string[];
}

export interface EvidenceNeeds {
  /** The writable primary being replaced. */
  writerId: string;
  /** Its zone, when known (PB-2: the writer's zone plus one more). */
  writerZone?: string;
  /** Zones of the region. */
  zoneCount: number;
  /** spec.health.regionImpairedWhen.impairedZones. */
  impairedZones: number;
}

export function promotionEvidence(region: RegionHealth | undefined, needs: EvidenceNeeds): PromotionEvidence {
  if (!region) return { sufficient: false, missing: ['no health is known for the region'], seen: [] };
  const ev = region.evidence;
  const down = ev?.dataPlaneDownZones ?? [];
  const required = Math.max(1, Math.min(needs.impairedZones, needs.zoneCount));
  const writerRule = needs.writerZone !== undefined && down.includes(needs.writerZone) && down.length >= 2;
  const dataPlane = down.length >= required || writerRule;
  const database = (ev?.downDatabases ?? []).includes(needs.writerId);
  const missing: string[] = [];
  const seen: string[] = [];
  if (dataPlane) seen.push(`endpoints down (no answer) in ${down.join(', ')}`);
  else {
    const metadata = ev?.metadataImpairedZones ?? [];
    missing.push(
      `endpoints answer no probe in only ${down.length} of the ${required} zones required${
        metadata.length > 0
          ? ` (EC2 reports ${metadata.join(', ')} impaired, but AWS metadata alone never moves a database)`
          : ''
      }`,
    );
  }
  if (database) seen.push(`primary database ${needs.writerId} unreachable or impaired`);
  else missing.push(`primary database ${needs.writerId} is not seen unreachable or impaired`);
  return { sufficient: dataPlane && database, missing, seen };
}
