// One vantage point's view of the simulated cloud (#14): several operators share ONE simulated AWS (its Route 53,
// RDS, CloudWatch verdicts and promotion lock), but each reaches it through its own network. A vantage cut off from
// a region (a scenario's `partition`) sees that region's endpoints time out (http probes, database connects) and
// its AWS API calls there fail after a connect timeout — CloudWatch in that region included, so it neither publishes
// nor reads verdicts there, and the promotion lock in that region is out of its reach. Route 53 is a global service
// and is not cut off by region. Calls that never leave the vantage never reach the simulated cloud: its call log
// holds only what arrived.

import type { Clock } from '../clock.ts';
import { CloudError } from '../cloud/errors.ts';
import type { SimCloud } from '../cloud/sim/sim-cloud.ts';
import type { AwsService, CallOptions, Cloud, PromotionLock, RegionName } from '../cloud/types.ts';
import type { FetchLike } from '../health/probe-http.ts';
import type { DatabaseConnector } from '../health/probe-rds-connect.ts';
import type { PartitionScope } from '../scenarios/scenario-schema.ts';

/** How long a connection to an unreachable address takes to fail (the simulated endpoints' connect timeout). */
export const PARTITION_CONNECT_TIMEOUT_MS = 30_000;

export interface VantageView {
  readonly name: string;
  readonly region?: RegionName;
  cloud: Cloud;
  fetch: FetchLike;
  connectDatabase: DatabaseConnector;
  promotionLock: PromotionLock;
  /** Cuts the vantage off from regions; returns the timeline line. */
  partition(regions: readonly RegionName[], scope: PartitionScope): string;
  /** Ends its partitions of those regions (all when absent); returns the timeline line. */
  heal(regions: readonly RegionName[] | undefined): string;
  /** What it cannot reach now, by region. */
  partitions(): ReadonlyMap<RegionName, ReadonlySet<'endpoints' | 'aws'>>;
  /** PromoteReadReplica calls this vantage sent to the cloud (ok: the cloud accepted it). */
  promoteCalls: Array<{ at: number; target: string; ok: boolean }>;
}

export function createVantageView(opts: {
  name: string;
  region?: RegionName;
  sim: SimCloud;
  clock: Clock;
  fetch: FetchLike;
  connectDatabase: DatabaseConnector;
}): VantageView {
  const { name, sim, clock } = opts;
  const cut = new Map<RegionName, Set<'endpoints' | 'aws'>>();
  const promoteCalls: VantageView['promoteCalls'] = [];
  const cutOff = (region: RegionName | undefined, what: 'endpoints' | 'aws') =>
    region !== undefined && (cut.get(region)?.has(what) ?? false);

  /** A connection that never gets an answer: fails at the connect timeout, or when the caller gives up first. */
  async function unreachable(
    service: AwsService,
    operation: string,
    region: RegionName,
    signal?: AbortSignal,
  ): Promise<never> {
    try {
      await clock.sleep(PARTITION_CONNECT_TIMEOUT_MS, signal);
    } catch {
      // the caller's timeout: the same error, sooner
    }
    throw new CloudError({
      kind: 'timeout',
      service,
      operation,
      code: 'ETIMEDOUT',
      message: `${operation} in ${region}: connect ETIMEDOUT (vantage ${name} cannot reach ${region})`,
    });
  }

  /** Every method whose region is its first argument (or a spec's `region`) goes through the partition. */
  function regional<T extends object>(target: T, service: AwsService): T {
    return new Proxy(target, {
      get(t, prop, receiver) {
        const value = Reflect.get(t, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        const method = value as (...args: unknown[]) => unknown;
        return (...args: unknown[]) => {
          const first = args[0];
          const region =
            typeof first === 'string'
              ? first
              : (first as { region?: unknown } | undefined)?.region === undefined
                ? undefined
                : String((first as { region: unknown }).region);
          const last = args.at(-1) as CallOptions | undefined;
          if (cutOff(region, 'aws')) return unreachable(service, String(prop), region!, last?.signal);
          const result = method.apply(t, args);
          if (prop === 'promoteReadReplica' && result instanceof Promise) {
            const call = { at: clock.now(), target: `${region}/${String(args[1])}`, ok: false };
            promoteCalls.push(call);
            return result.then((r) => {
              call.ok = true;
              return r;
            });
          }
          return result;
        };
      },
    });
  }

  const regionNames = () => sim.regions().map((r) => r.name);
  const zones = () => sim.regions().flatMap((r) => r.zones.map((zone) => ({ zone, region: r.name })));
  /** The region a probe URL reaches: the zone it names (the longest match), else the region it names. */
  function regionOfUrl(url: string): RegionName | undefined {
    let host = url;
    try {
      host = new URL(url).hostname;
    } catch {
      // not a URL: match the text
    }
    const zone = zones()
      .filter((z) => host.includes(z.zone))
      .sort((a, b) => b.zone.length - a.zone.length)[0];
    if (zone) return zone.region;
    return regionNames()
      .filter((r) => host.includes(r))
      .sort((a, b) => b.length - a.length)[0];
  }

  const fetch: FetchLike = async (url, init) => {
    const region = regionOfUrl(url);
    if (cutOff(region, 'endpoints')) {
      await clock.sleep(PARTITION_CONNECT_TIMEOUT_MS, init.signal);
      throw new Error(`connect ETIMEDOUT ${url} (vantage ${name} cannot reach ${region})`);
    }
    return opts.fetch(url, init);
  };

  const connectDatabase: DatabaseConnector = async (region, id, o) => {
    if (cutOff(region, 'endpoints')) {
      await clock.sleep(o.timeoutMs, o.signal);
      return {
        outcome: 'no-answer',
        latencyMs: o.timeoutMs,
        detail: `${id} (${region}): no answer within ${o.timeoutMs}ms (vantage ${name} cannot reach ${region})`,
      };
    }
    return opts.connectDatabase(region, id, o);
  };

  const lock = sim.promotionLock;
  const promotionLock: PromotionLock = {
    table: lock.table,
    regionFor: (targetRegion) => lock.regionFor(targetRegion),
    acquire: (region, claim, o) =>
      cutOff(region, 'aws') ? unreachable('dynamodb', 'PutItem', region, o?.signal) : lock.acquire(region, claim, o),
  };

  const cloud: Cloud = {
    dns: sim.dns,
    databases: regional(sim.databases, 'rds'),
    compute: regional(sim.compute, 'ec2'),
    replicaLag: regional(sim.replicaLag, 'cloudwatch'),
    healthChecks: sim.healthChecks,
    verdicts: regional(sim.verdicts, 'cloudwatch'),
  };

  const list = (regions: readonly RegionName[]) => regions.join(', ');
  return {
    name,
    ...(opts.region === undefined ? {} : { region: opts.region }),
    cloud,
    fetch,
    connectDatabase,
    promotionLock,
    promoteCalls,
    partition(regions, scope) {
      const what: Array<'endpoints' | 'aws'> = scope === 'all' ? ['endpoints', 'aws'] : [scope];
      for (const r of regions) {
        const set = cut.get(r) ?? new Set();
        for (const w of what) set.add(w);
        cut.set(r, set);
      }
      const reach =
        scope === 'endpoints'
          ? 'its probes of'
          : scope === 'aws'
            ? 'its AWS API calls in'
            : 'its probes and AWS calls in';
      return `vantage ${name} partitioned: ${reach} ${list(regions)} get no answer`;
    },
    heal(regions) {
      const healed = regions ?? [...cut.keys()];
      for (const r of healed) cut.delete(r);
      return `vantage ${name} reaches ${regions ? list(regions) : 'every region'} again`;
    },
    partitions: () => cut,
  };
}
