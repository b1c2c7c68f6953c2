// One Route 53 read per hosted zone, shared by every policy (PB-8). Route 53 allows 5 requests/second for the whole
// account (AWS-FACTS.md); reading each policy's records on each reconcile costs 1,000 policies × 1–2 groups per
// 60 s resync = 17–33 requests/s, which no token bucket can absorb. So observations read through this cache:
//
// - a miss lists the WHOLE hosted zone (page by page, each page one call through the pipeline: timeout, retries,
//   the shared token bucket, the breaker) and answers every (name, type) group from that one listing;
// - concurrent misses on a zone share one listing in flight (single-flight);
// - a listing serves reads for `maxAgeMs` (default 30 s) from when it STARTED, so steady-state reads per zone are
//   bounded by time — about one listing per maxAge while any policy asks — not by the number of policies;
// - stale-while-revalidate: a listing older than maxAgeMs but younger than `staleMaxAgeMs` (default 4 × maxAge: 120 s) still
//   answers an observation AT ONCE, and starts one listing in the background to replace it. A reconcile never waits
//   for a shared re-listing behind the Route 53 token bucket (that wait was the steady-state p99: seconds), so
//   its duration is CPU work. Past staleMaxAgeMs (the refreshes keep failing, or nobody asked for two minutes) a
//   read waits for a listing as before. Planning from a view up to staleMaxAgeMs old is safe: a write re-reads live
//   before it changes anything (`live` below), and our own accepted writes are applied to the listing at once;
// - our own writes go through the cache (engine-stack wraps Dns.upsertRecords): a write Route 53 accepted is
//   applied to the zone's listing (write-through), so the planner sees its own last write at once and a drain of
//   many policies on one zone does not re-list the zone after every change batch — in an outage the Route 53
//   budget goes to writes, not to reading back what we just wrote. A listing in flight when the write was
//   accepted gets the write applied on top when it arrives (its pages may predate the write), so it stays joinable:
//   the drains of one outage share one live listing across their change batches instead of one per batch. A write
//   that failed or timed out may or may not have been applied: the zone is invalidated (a listing in flight is
//   dropped) and read again. Changes made by someone else are seen within maxAgeMs;
// - a listing started by a live read (the read before a write) belongs to that write: it skips Route 53's read
//   share (`partOfAction`, rate-limit.ts), so a drain never queues behind a backlog of observations' re-listings;
// - failures are not cached: every waiter gets the error, and the next read starts a new listing. The last listing
//   that succeeded stays available apart (`lastKnown`, any age): when Route 53's API is down, an observation can
//   go on from it — the records are still there and still answered — instead of failing the reconcile and with it
//   a drain that needs no Route 53 call (docs/static-stability.md). A write re-reads live before it changes
//   anything, so a stale view never becomes a stale edit.
//
// Trade-off: a listing costs ceil(records in zone / 300) requests. That beats per-group reads as soon as a zone
// holds more than a handful of policies, but a zone with tens of thousands of unrelated records makes every
// listing expensive; maxAgeMs is the knob (longer = fewer listings, staler view of other people's edits).

import type { Logger } from 'pino';
import type { CallPipeline } from '../act/call-pipeline.ts';
import type { Clock } from '../clock.ts';
import { CloudError } from '../cloud/errors.ts';
import { type Dns, type DnsListCursor, type DnsRecord, ROUTE53_CONTROL_PLANE_REGION } from '../cloud/types.ts';

export const DEFAULT_RECORD_CACHE_MAX_AGE_MS = 30_000;
/** Default staleMaxAgeMs as a multiple of maxAgeMs (30 s → 120 s; max age 0 keeps "every read lists"). */
export const STALE_MAX_AGE_FACTOR = 4;

export interface RecordCacheDeps {
  dns: Dns;
  pipeline: CallPipeline;
  clock: Clock;
  logger?: Logger;
  /** How long one listing of a zone serves reads. 0: every read lists (concurrent reads still share). */
  maxAgeMs?: number;
  /**
   * Up to this age (≥ maxAgeMs) a listing still answers observations at once while a background listing replaces
   * it (stale-while-revalidate). Default STALE_MAX_AGE_FACTOR × maxAgeMs; equal to maxAgeMs turns it off.
   */
  staleMaxAgeMs?: number;
  /** Process shutdown: ends listings in flight (a listing outlives the caller that started it). */
  signal?: AbortSignal;
}

export interface RecordCache {
  /**
   * The records of one name and type in a hosted zone (all members of a weighted group), at most maxAgeMs old.
   * With `live`, only from a listing that started at most `live.joinWithinMs` ago — in flight or finished — or a
   * new one (the read before a write: its pages were read after that start, as an own read's would be, yet the
   * drains of many policies that start together share one listing instead of one read each). Finished counts too:
   * a drain whose intent save outlasted the listing it started (a busy apiserver) would otherwise list the zone
   * again and put its write a listing (two paced pages) later.
   */
  records(
    hostedZoneId: string,
    name: string,
    type: string,
    opts?: { signal?: AbortSignal; live?: { joinWithinMs: number } },
  ): Promise<DnsRecord[]>;
  /**
   * The group as the last successful listing of its zone showed it (with our own accepted writes applied), whatever
   * its age; undefined when the zone was never listed. For observations when a listing fails.
   */
  lastKnown(hostedZoneId: string, name: string, type: string): { records: DnsRecord[]; listedAt: number } | undefined;
  /** Forgets the zone's listing (and ignores one in flight): the next read lists the zone again. */
  invalidate(hostedZoneId: string): void;
  /** Applies UPSERTs Route 53 accepted to the zone's listing (write-through); ignores one in flight. */
  applyUpserts(hostedZoneId: string, records: readonly DnsRecord[]): void;
}

type Listing = Map<string, DnsRecord[]>;

interface ZoneEntry {
  /** Bumped by every invalidation; a listing started under an older generation is not stored. */
  generation: number;
  listing?: { startedAt: number; groups: Listing };
  /** The last listing stored, kept through invalidations (lastKnown). */
  lastGood?: { startedAt: number; groups: Listing };
  inflight?: Promise<Listing>;
  inflightStartedAt?: number;
  /**
   * For every listing on the wire (the joinable one and any older one still running): our writes accepted since it
   * started, applied to it when it arrives.
   */
  upsertsSince: Set<DnsRecord[][]>;
}

/** Route 53's form of a name: lowercase, fully qualified. The adapters return names this way. */
const groupKey = (name: string, type: string) => {
  const lower = name.toLowerCase();
  return `${lower.endsWith('.') ? lower : `${lower}.`}|${type.toUpperCase()}`;
};

const copy = (records: DnsRecord[] | undefined): DnsRecord[] =>
  (records ?? []).map((r) => ({ ...r, values: [...r.values] }));

export function createRecordCache(deps: RecordCacheDeps): RecordCache {
  const { dns, pipeline, clock } = deps;
  const maxAgeMs = Math.max(0, deps.maxAgeMs ?? DEFAULT_RECORD_CACHE_MAX_AGE_MS);
  const staleMaxAgeMs = Math.max(maxAgeMs, deps.staleMaxAgeMs ?? STALE_MAX_AGE_FACTOR * maxAgeMs);
  const zones = new Map<string, ZoneEntry>();

  async function listZone(hostedZoneId: string, forAction: boolean): Promise<Listing> {
    const groups: Listing = new Map();
    const seen = new Set<string>();
    let start: DnsListCursor | undefined;
    let pages = 0;
    do {
      const from = start;
      const page = await pipeline.call(
        {
          service: 'route53',
          operation: 'ListResourceRecordSets',
          region: ROUTE53_CONTROL_PLANE_REGION,
          write: false,
          ...(forAction && { partOfAction: true }),
          // Shared by every policy on the zone: no one policy's call.
          ...(deps.signal ? { signal: deps.signal } : {}),
        },
        (signal) => dns.listRecordsPage(hostedZoneId, from, { signal }),
      );
      pages++;
      let added = 0;
      for (const record of page.records) {
        const key = groupKey(record.name, record.type);
        const id = `${key}|${record.setIdentifier ?? ''}`;
        if (seen.has(id)) continue;
        seen.add(id);
        added++;
        const group = groups.get(key);
        if (group) group.push(record);
        else groups.set(key, [record]);
      }
      if (page.next && added === 0) {
        // The same page again (an emulator ignoring StartRecordIdentifier): stop rather than loop, and say so —
        // a partial zone would mislead the planner.
        throw new CloudError({
          kind: 'terminal',
          service: 'route53',
          operation: 'ListResourceRecordSets',
          code: 'PaginationNotProgressing',
          message: `listing hosted zone ${hostedZoneId} returned a page with no new records (page ${pages})`,
        });
      }
      start = page.next;
    } while (start);
    deps.logger?.debug(
      { hostedZoneId, pages, groups: groups.size, rule: 'PB-8' },
      'listed hosted zone for the shared record cache',
    );
    return groups;
  }

  function startListing(hostedZoneId: string, entry: ZoneEntry, forAction = false): Promise<Listing> {
    const generation = entry.generation;
    const startedAt = clock.now();
    const upserts: DnsRecord[][] = [];
    const flight = listZone(hostedZoneId, forAction).then((listed) => {
      // Our writes accepted while the pages were on the wire: applied on top (write-through, see the header).
      const groups = upserts.reduce(withUpserts, listed);
      // An older listing finishing after a newer one (a fresher read started its own) is not stored over it.
      const stored = entry.listing;
      if (entry.generation === generation && (stored === undefined || stored.startedAt <= startedAt)) {
        entry.listing = { startedAt, groups };
      }
      if (entry.lastGood === undefined || entry.lastGood.startedAt <= startedAt) entry.lastGood = { startedAt, groups };
      return groups;
    });
    entry.inflight = flight;
    entry.inflightStartedAt = startedAt;
    entry.upsertsSince.add(upserts);
    const clear = () => {
      entry.upsertsSince.delete(upserts);
      if (entry.inflight === flight) {
        delete entry.inflight;
        delete entry.inflightStartedAt;
      }
    };
    // Handled here so a listing whose every waiter gave up does not become an unhandled rejection.
    flight.then(clear, clear);
    return flight;
  }

  return {
    async records(hostedZoneId, name, type, opts = {}) {
      let entry = zones.get(hostedZoneId);
      if (!entry) {
        entry = { generation: 0, upsertsSince: new Set() };
        zones.set(hostedZoneId, entry);
      }
      const key = groupKey(name, type);
      const cached = entry.listing;
      if (opts.live && cached && clock.now() - cached.startedAt <= Math.max(0, opts.live.joinWithinMs)) {
        return copy(cached.groups.get(key));
      }
      if (!opts.live && cached) {
        const age = clock.now() - cached.startedAt;
        if (age < maxAgeMs) return copy(cached.groups.get(key));
        if (age < staleMaxAgeMs) {
          if (entry.inflight === undefined) {
            // Nobody waits for it: a failure is logged and the next read past maxAge tries again.
            startListing(hostedZoneId, entry).catch((err: unknown) =>
              deps.logger?.debug(
                { hostedZoneId, err: err instanceof Error ? err.message : String(err), rule: 'PB-8' },
                'background re-listing of a hosted zone failed; serving the previous listing',
              ),
            );
          }
          return copy(cached.groups.get(key));
        }
      }
      // A listing in flight serves observations whatever its age (as it always has); a live read joins it only when
      // it started within the read's bound. (Our own accepted writes are applied to it when it arrives; a failed
      // write drops it.)
      const joinable =
        entry.inflight !== undefined &&
        (!opts.live ||
          (entry.inflightStartedAt !== undefined &&
            clock.now() - entry.inflightStartedAt <= Math.max(0, opts.live.joinWithinMs)));
      const flight =
        (joinable ? entry.inflight : undefined) ?? startListing(hostedZoneId, entry, opts.live !== undefined);
      const groups = opts.signal ? await untilAborted(flight, opts.signal) : await flight;
      return copy(groups.get(key));
    },
    lastKnown(hostedZoneId, name, type) {
      const good = zones.get(hostedZoneId)?.lastGood;
      const records = good?.groups.get(groupKey(name, type));
      return good && records ? { records: copy(records), listedAt: good.startedAt } : undefined;
    },
    invalidate(hostedZoneId) {
      const entry = zones.get(hostedZoneId);
      if (!entry) return;
      entry.generation++;
      delete entry.listing;
      delete entry.inflight;
      delete entry.inflightStartedAt;
    },
    applyUpserts(hostedZoneId, records) {
      const entry = zones.get(hostedZoneId);
      if (!entry) return;
      // A listing in flight may predate the write: the write is applied to it when it arrives.
      const accepted = records.map((r) => ({ ...r, values: [...r.values] }));
      for (const upserts of entry.upsertsSince) upserts.push(accepted);
      // Each keeps its start time: the write does not make the rest of the listing any fresher.
      if (entry.lastGood) entry.lastGood = { ...entry.lastGood, groups: withUpserts(entry.lastGood.groups, records) };
      if (entry.listing) entry.listing = { ...entry.listing, groups: withUpserts(entry.listing.groups, records) };
    },
  };
}

/** A listing with UPSERTs Route 53 accepted applied (a new map: listings handed out are never changed). */
function withUpserts(listing: Listing, records: readonly DnsRecord[]): Listing {
  const groups: Listing = new Map(listing);
  for (const record of records) {
    const key = groupKey(record.name, record.type);
    const stored = { ...record, name: key.slice(0, key.indexOf('|')), values: [...record.values] };
    const others = (groups.get(key) ?? []).filter((r) => (r.setIdentifier ?? '') !== (record.setIdentifier ?? ''));
    groups.set(key, [...others, stored]);
  }
  return groups;
}

/** Waits for a shared promise, but lets this one caller leave when its own signal aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/**
 * Wraps a Dns so that every write to a hosted zone keeps the cache true: an accepted change is applied to the
 * listing (write-through); a failed or timed-out one — which may have been applied anyway — invalidates the zone.
 */
export function writeThrough(dns: Dns, cache: Pick<RecordCache, 'invalidate' | 'applyUpserts'>): Dns {
  return {
    listRecords: (...args) => dns.listRecords(...args),
    listRecordsPage: (...args) => dns.listRecordsPage(...args),
    getChangeStatus: (...args) => dns.getChangeStatus(...args),
    async upsertRecords(hostedZoneId, records, comment, opts) {
      let changeId: string;
      try {
        changeId = await dns.upsertRecords(hostedZoneId, records, comment, opts);
      } catch (err) {
        cache.invalidate(hostedZoneId);
        throw err;
      }
      cache.applyUpserts(hostedZoneId, records);
      return changeId;
    },
  };
}
