// Simulated Route 53 (AWS-FACTS.md, items marked (sim)):
// - hosted zones with (weighted) record sets; UPSERT-only change batches applied atomically;
// - a change is PENDING, then INSYNC after a propagation delay (default 30–60 s, seeded); resolvers — and so
//   trafficShare() — keep answering with the old records until then, while ListResourceRecordSets shows the new
//   ones at once (as the real API does);
// - PriorRequestNotComplete while an earlier change to the same hosted zone is still being processed: for the
//   first `priorRequestWindowMs` (default 15 s) of its propagation. After that window a new change is accepted and
//   queued behind it (never INSYNC before an earlier change), so a retrying caller always makes progress;
// - Throttling above 5 requests per second, account-wide, across every Route 53 call (refused calls do not count);
// - all-zero weights: when every record of a weighted group has weight 0, traffic is spread EQUALLY;
// - health checks (HealthCheckId): an UPSERT without one detaches the record's check (the record is replaced
//   whole); a HealthCheckId that does not exist is refused with NoSuchHealthCheck. Resolvers choose among a
//   weighted group as Route 53 documents ("How Amazon Route 53 chooses records when health checking is
//   configured"): a record without a health check is always healthy; first the healthy records with weight > 0,
//   shared by weight; when every record with weight > 0 is unhealthy, the healthy zero-weight records, equally;
//   when no record is healthy, as if all were healthy (by weight, all-zero weights equally). Health comes from the
//   injected SimRecordHealth (sim-health-checks.ts) at the moment resolvers answer.
// The record-editing control plane is in us-east-1, so calls are logged (and faulted) in that region.

import type { CallOptions, Dns, DnsChangeStatus, DnsRecord, DnsRecordPage } from '../types.ts';
import { ROUTE53_CONTROL_PLANE_REGION } from '../types.ts';
import { type SimCallContext, simCall, simError } from './sim-call.ts';
import type { CallScope } from './sim-call-log.ts';
import type { RandomSource } from './sim-random.ts';

export { ROUTE53_CONTROL_PLANE_REGION };

export interface SimDnsOptions {
  /** Propagation delay range of a change (ms). Default 30–60 s. */
  propagationMs?: { min: number; max: number };
  /** How long after a change is submitted further changes to its hosted zone get PriorRequestNotComplete. */
  priorRequestWindowMs?: number;
  /** Account-wide Route 53 request rate. Default 5 per second. */
  requestsPerSecond?: number;
  /** Records per ListResourceRecordSets page of a whole-zone listing. Default 300 (Route 53's maximum). */
  listPageSize?: number;
}

export interface SimHostedZoneSpec {
  id: string;
  name?: string;
  records?: DnsRecord[];
}

export interface SimDnsChange {
  id: string;
  hostedZoneId: string;
  comment: string;
  records: DnsRecord[];
  submittedAt: number;
  insyncAt: number;
}

/** What resolvers know of health checks (sim-health-checks.ts). Without one, every check exists and is healthy. */
export interface SimRecordHealth {
  exists(healthCheckId: string): boolean;
  /** The check's status now, as Route 53's resolvers use it. */
  healthy(healthCheckId: string): boolean;
}

export interface SimDns extends Dns {
  addHostedZone(spec: SimHostedZoneSpec): void;
  /**
   * Route 53's account-wide front door: throws Throttling above the request rate, else counts the request. Every
   * simulated Route 53 call passes here first (health-check calls too: the limit is per account, not per API).
   */
  admit(scope: CallScope): void;
  /**
   * Effective share of traffic (0..1) per set identifier, as resolvers answer now: health checks first (see the
   * header), then weights; all-zero weights: equal.
   */
  trafficShare(hostedZoneId: string, name: string, type: string): Record<string, number>;
  /** What resolvers answer now (changes applied only once INSYNC). */
  servedRecords(hostedZoneId: string, name: string, type: string): DnsRecord[];
  /** Every change submitted so far, oldest first. */
  changes(): readonly SimDnsChange[];
}

interface HostedZone {
  id: string;
  /** The API's view: changes applied as soon as accepted. */
  records: Map<string, DnsRecord>;
  /** The resolvers' view: changes applied when INSYNC. */
  served: Map<string, DnsRecord>;
  queue: SimDnsChange[];
}

const recordKey = (name: string, type: string, setIdentifier?: string) =>
  `${name.toLowerCase()}|${type.toUpperCase()}|${setIdentifier ?? ''}`;

const copyRecord = (r: DnsRecord): DnsRecord => ({ ...r, values: [...r.values] });

export function createSimDns(
  ctx: SimCallContext,
  random: RandomSource,
  options: SimDnsOptions = {},
  health: SimRecordHealth = { exists: () => true, healthy: () => true },
): SimDns {
  const propagation = options.propagationMs ?? { min: 30_000, max: 60_000 };
  const priorWindow = options.priorRequestWindowMs ?? 15_000;
  const perSecond = options.requestsPerSecond ?? 5;
  const pageSize = Math.max(1, options.listPageSize ?? 300);
  const zones = new Map<string, HostedZone>();
  const changes: SimDnsChange[] = [];
  const changeById = new Map<string, SimDnsChange>();
  let recentRequests: number[] = [];

  const scope = (operation: string, target?: string): CallScope => ({
    service: 'route53',
    operation,
    region: ROUTE53_CONTROL_PLANE_REGION,
    ...(target ? { target } : {}),
  });

  /** Account-wide rate limit; runs before faults, like the real front door. */
  const admit = (s: CallScope): void => {
    const now = ctx.clock.now();
    recentRequests = recentRequests.filter((t) => t > now - 1000);
    if (recentRequests.length >= perSecond) {
      throw simError(
        s,
        'throttled',
        'Throttling',
        `Rate exceeded: more than ${perSecond} Route 53 requests per second`,
      );
    }
    recentRequests.push(now);
  };
  const throttle = (s: CallScope) => () => admit(s);

  /** Moves changes that reached INSYNC into the resolvers' view. */
  function sync(zone: HostedZone): void {
    const now = ctx.clock.now();
    while (zone.queue.length > 0 && zone.queue[0]!.insyncAt <= now) {
      const change = zone.queue.shift()!;
      for (const r of change.records) zone.served.set(recordKey(r.name, r.type, r.setIdentifier), copyRecord(r));
    }
  }

  function zoneOf(s: CallScope, hostedZoneId: string): HostedZone {
    const zone = zones.get(hostedZoneId);
    if (!zone) throw simError(s, 'not-found', 'NoSuchHostedZone', `No hosted zone found with ID: ${hostedZoneId}`);
    sync(zone);
    return zone;
  }

  function matching(map: Map<string, DnsRecord>, name: string, type: string): DnsRecord[] {
    const prefix = recordKey(name, type);
    return [...map]
      .filter(([key]) => key.startsWith(prefix))
      .map(([, r]) => copyRecord(r))
      .sort((a, b) => (a.setIdentifier ?? '').localeCompare(b.setIdentifier ?? ''));
  }

  function validate(s: CallScope, records: DnsRecord[]): void {
    const invalid = (message: string) => simError(s, 'terminal', 'InvalidChangeBatch', message);
    if (records.length === 0) throw invalid('A change batch must contain at least one change');
    if (records.length > 1000) throw invalid(`Too many changes in one batch: ${records.length} (max 1000)`);
    for (const r of records) {
      if (!r.name.endsWith('.')) throw invalid(`Record name ${r.name} must be fully qualified (trailing dot)`);
      if (r.values.length === 0) throw invalid(`Record ${r.name} ${r.type} has no values`);
      if (r.setIdentifier !== undefined) {
        if (r.weight === undefined) throw invalid(`Weighted record ${r.setIdentifier} needs a weight`);
        if (!Number.isInteger(r.weight) || r.weight < 0 || r.weight > 255) {
          throw invalid(`Weight of ${r.setIdentifier} must be an integer within 0..255, got ${r.weight}`);
        }
      }
      if (r.healthCheckId !== undefined && !health.exists(r.healthCheckId)) {
        // Route 53's own code; the AWS adapters classify it terminal (src/cloud/aws/errors.ts).
        throw simError(s, 'terminal', 'NoSuchHealthCheck', `No health check exists with the ID ${r.healthCheckId}`);
      }
    }
  }

  const dns: SimDns = {
    addHostedZone(spec) {
      const zone: HostedZone = { id: spec.id, records: new Map(), served: new Map(), queue: [] };
      for (const r of spec.records ?? []) {
        const key = recordKey(r.name, r.type, r.setIdentifier);
        zone.records.set(key, copyRecord(r));
        zone.served.set(key, copyRecord(r));
      }
      zones.set(spec.id, zone);
    },

    admit,

    listRecords(hostedZoneId, name, type, opts?: CallOptions) {
      const s = scope('ListResourceRecordSets', hostedZoneId);
      return simCall(ctx, s, opts, () => matching(zoneOf(s, hostedZoneId).records, name, type), {
        preflight: throttle(s),
      });
    },

    listRecordsPage(hostedZoneId, start, opts?: CallOptions) {
      const s = scope('ListResourceRecordSets', hostedZoneId);
      return simCall(
        ctx,
        s,
        opts,
        (): DnsRecordPage => {
          // Keys sort as Route 53 lists: by name, then type, then set identifier.
          const sorted = [...zoneOf(s, hostedZoneId).records].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
          const from = start ? recordKey(start.name, start.type, start.identifier) : '';
          const rest = sorted.filter(([key]) => key >= from);
          const page = rest.slice(0, pageSize).map(([, r]) => copyRecord(r));
          const following = rest[pageSize]?.[1];
          return following
            ? {
                records: page,
                next: {
                  name: following.name,
                  type: following.type,
                  ...(following.setIdentifier !== undefined ? { identifier: following.setIdentifier } : {}),
                },
              }
            : { records: page };
        },
        { preflight: throttle(s) },
      );
    },

    upsertRecords(hostedZoneId, records, comment, opts?: CallOptions) {
      const s = scope('ChangeResourceRecordSets', hostedZoneId);
      return simCall(
        ctx,
        s,
        opts,
        () => {
          const zone = zoneOf(s, hostedZoneId);
          validate(s, records);
          const now = ctx.clock.now();
          const busy = zone.queue.find((c) => c.submittedAt > now - priorWindow);
          if (busy) {
            throw simError(
              s,
              'busy',
              'PriorRequestNotComplete',
              `The request was rejected because Route 53 was still processing a prior request (${busy.id})`,
            );
          }
          const delay = Math.round(
            propagation.min + random.next('route53:propagation') * (propagation.max - propagation.min),
          );
          const last = zone.queue.at(-1);
          const change: SimDnsChange = {
            id: `/change/C${String(changes.length + 1).padStart(6, '0')}SIM`,
            hostedZoneId,
            comment,
            records: records.map(copyRecord),
            submittedAt: now,
            insyncAt: Math.max(now + delay, last?.insyncAt ?? 0),
          };
          for (const r of records) zone.records.set(recordKey(r.name, r.type, r.setIdentifier), copyRecord(r));
          zone.queue.push(change);
          changes.push(change);
          changeById.set(change.id, change);
          return change.id;
        },
        { preflight: throttle(s) },
      );
    },

    getChangeStatus(changeId, opts?: CallOptions) {
      const s = scope('GetChange', changeId);
      return simCall(
        ctx,
        s,
        opts,
        (): DnsChangeStatus => {
          const change = changeById.get(changeId);
          if (!change)
            throw simError(
              s,
              'not-found',
              'NoSuchChange',
              `A change with the specified change ID does not exist: ${changeId}`,
            );
          return ctx.clock.now() >= change.insyncAt ? 'INSYNC' : 'PENDING';
        },
        { preflight: throttle(s) },
      );
    },

    servedRecords(hostedZoneId, name, type) {
      const zone = zones.get(hostedZoneId);
      if (!zone) throw new Error(`simulated Route 53 has no hosted zone ${hostedZoneId}`);
      sync(zone);
      return matching(zone.served, name, type);
    },

    trafficShare(hostedZoneId, name, type) {
      return trafficShareOf(dns.servedRecords(hostedZoneId, name, type), (id) => health.healthy(id));
    },

    changes: () => changes,
  };
  return dns;
}

/**
 * Route 53's weighted routing: each record gets weight / sum of weights; when every weight is 0, traffic is
 * spread equally across all of them (AWS-FACTS.md). A record without a set identifier is keyed ''.
 * With `healthy` (health checks attached), Route 53's choice among healthy records comes first:
 * answeredRecords().
 */
export function trafficShareOf(
  records: DnsRecord[],
  healthy?: (healthCheckId: string) => boolean,
): Record<string, number> {
  const share: Record<string, number> = {};
  for (const r of records) share[r.setIdentifier ?? ''] = 0;
  const answered = healthy ? answeredRecords(records, healthy) : records;
  const total = answered.reduce((sum, r) => sum + (r.weight ?? 0), 0);
  for (const r of answered) {
    share[r.setIdentifier ?? ''] = total === 0 ? 1 / answered.length : (r.weight ?? 0) / total;
  }
  return share;
}

/**
 * The records of a weighted group Route 53 answers from when health checks are attached ("How Amazon Route 53
 * chooses records when health checking is configured"): a record without a health check is healthy; the healthy
 * records with weight > 0 if any; else the healthy zero-weight records; else — no record healthy — all of them, as if
 * all were healthy. The caller shares traffic among them by weight (all-zero: equally).
 */
export function answeredRecords(records: DnsRecord[], healthy: (healthCheckId: string) => boolean): DnsRecord[] {
  const isHealthy = (r: DnsRecord) => r.healthCheckId === undefined || healthy(r.healthCheckId);
  const positive = records.filter((r) => (r.weight ?? 0) > 0 && isHealthy(r));
  if (positive.length > 0) return positive;
  const zero = records.filter((r) => (r.weight ?? 0) === 0 && isHealthy(r));
  return zero.length > 0 ? zero : records;
}
