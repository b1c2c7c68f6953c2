// The simulated cloud: an in-memory AWS implementing the same Cloud interface as the real adapters, driven by an
// injected clock, plus a control surface for scenarios (faults, zone states, endpoint health, replica lag) and
// the evidence drill reports need (call log, traffic shares, writable instances).
//
// One file per concern: sim-dns (Route 53 records), sim-health-checks (Route 53 health checks on CloudWatch alarms),
// sim-cloudwatch (verdict metrics and alarms), sim-rds (RDS + CloudWatch ReplicaLag), sim-ec2 (EC2/EBS),
// sim-faults (injected control-plane faults), sim-endpoints (probe targets), sim-call-log (what was called).
// Randomness is seeded: the same seed, topology and calls give the same run.

import type { Clock } from '../../clock.ts';
import type { Cloud, RegionName, ReplicaLagReader, ZoneName } from '../types.ts';
import { type CallLog, type CallLogOptions, createCallLog } from './sim-call-log.ts';
import { createSimCloudWatch, type SimCloudWatch, type SimCloudWatchOptions } from './sim-cloudwatch.ts';
import { createSimDns, type SimDns, type SimDnsOptions } from './sim-dns.ts';
import { createSimEc2, type SimEc2, type SimEc2Options } from './sim-ec2.ts';
import { createSimEndpoints, type ProbeAnswer, type SimEndpoints } from './sim-endpoints.ts';
import { createSimFaults, type SimFaults } from './sim-faults.ts';
import { createSimHealthChecks, type SimHealthChecks, type SimHealthChecksOptions } from './sim-health-checks.ts';
import { createSimPromotionLock, type SimPromotionLock, type SimPromotionLockOptions } from './sim-promotion-lock.ts';
import { createRandomSource } from './sim-random.ts';
import { createSimRds, type SimRds, type SimRdsOptions } from './sim-rds.ts';
import type { SimTopology } from './sim-topology.ts';

export interface SimCloudOptions {
  clock: Clock;
  seed?: number | string;
  topology: SimTopology;
  dns?: SimDnsOptions;
  rds?: SimRdsOptions;
  ec2?: SimEc2Options;
  /** Verdict alarms: evaluation delay after each period. */
  cloudwatch?: SimCloudWatchOptions;
  /** Route 53 health checks: how far behind their alarms they are, list page size, quota. */
  healthChecks?: SimHealthChecksOptions;
  /** How many recent calls and writes the call log keeps (counters are kept whatever the run's length). */
  callLog?: CallLogOptions;
  /** The promotion lock's table (in memory). */
  promotionLock?: SimPromotionLockOptions;
}

export interface SimCloud extends Cloud {
  dns: SimDns;
  databases: SimRds;
  compute: SimEc2;
  replicaLag: ReplicaLagReader;
  /** Route 53 CLOUDWATCH_METRIC health checks; healthStatus() is what resolvers use. */
  healthChecks: SimHealthChecks;
  /** CloudWatch verdict metrics and alarms per region; alarmState() for scenarios and reports. */
  verdicts: SimCloudWatch;
  endpoints: SimEndpoints;
  /** The promotion lock (#14), as the DynamoDB table would answer; the simulation's executor takes it. */
  promotionLock: SimPromotionLock;
  faults: SimFaults;
  calls: CallLog;
  clock: Clock;
  regions(): Array<{ name: RegionName; zones: ZoneName[] }>;
  regionOf(zone: ZoneName): RegionName | undefined;
  /** Effective traffic share per set identifier as resolvers answer now (all-zero weights: equal shares). */
  trafficShare(hostedZoneId: string, name: string, type: string): Record<string, number>;
  /** DB instances accepting writes (PB-7 invariant checks). */
  writableInstances(): ReturnType<SimRds['writableInstances']>;
  probeEndpoint(zone: ZoneName, opts: { timeoutMs: number; signal?: AbortSignal }): Promise<ProbeAnswer>;
  /** One simulated query against a database: unreachable → no answer within the timeout; else IO latency. */
  probeDatabase(
    region: RegionName,
    dbInstanceIdentifier: string,
    opts: { timeoutMs: number; signal?: AbortSignal },
  ): Promise<ProbeAnswer>;
}

export function createSimCloud(options: SimCloudOptions): SimCloud {
  const { clock, topology } = options;
  const random = createRandomSource(options.seed ?? 1);
  const faults = createSimFaults(random);
  const calls = createCallLog(options.callLog);
  const ctx = { clock, faults, log: calls };
  const verdicts = createSimCloudWatch(ctx, options.cloudwatch);
  // Resolvers ask the health checks, whose calls share Route 53's throttle with the record calls: built in turn.
  let healthChecks: SimHealthChecks | undefined;
  const dns = createSimDns(ctx, random, options.dns, {
    exists: (id) => healthChecks?.exists(id) ?? false,
    healthy: (id) => healthChecks?.isHealthy(id) ?? true,
  });
  healthChecks = createSimHealthChecks(ctx, { cloudwatch: verdicts, admit: dns.admit }, options.healthChecks);
  const rds = createSimRds(ctx, options.rds);
  const ec2 = createSimEc2(ctx, options.ec2);
  const endpoints = createSimEndpoints(clock, random);
  const promotionLock = createSimPromotionLock(ctx, options.promotionLock);

  const zoneRegion = new Map<ZoneName, RegionName>();
  for (const region of topology.regions) {
    for (const zone of region.zones) {
      zoneRegion.set(zone, region.name);
      ec2.addZone(region.name, zone);
      endpoints.addZone(region.name, zone);
    }
  }
  for (const hz of topology.hostedZones ?? []) dns.addHostedZone(hz);
  for (const db of topology.databases ?? []) rds.addInstance(db);
  for (const lt of topology.launchTemplates ?? []) ec2.addLaunchTemplate(lt.id, lt.tags);
  for (const spec of topology.instances ?? []) ec2.addInstances(spec);
  for (const volume of topology.volumes ?? []) ec2.addVolume(volume);
  for (const snap of topology.snapshots ?? []) ec2.addSnapshot(snap);

  return {
    dns,
    databases: rds,
    compute: ec2,
    replicaLag: rds.replicaLag,
    healthChecks,
    verdicts,
    endpoints,
    promotionLock,
    faults,
    calls,
    clock,
    regions: () => topology.regions.map((r) => ({ name: r.name, zones: [...r.zones] })),
    regionOf: (zone) => zoneRegion.get(zone),
    trafficShare: (hostedZoneId, name, type) => dns.trafficShare(hostedZoneId, name, type),
    writableInstances: () => rds.writableInstances(),
    probeEndpoint: (zone, opts) => endpoints.probeEndpoint(zone, opts),

    async probeDatabase(region, id, opts) {
      const connectivity = rds.connectivity(region, id);
      const status = rds.instance(region, id)?.status;
      const where = `${id} (${region})`;
      const noAnswer = async (why: string): Promise<ProbeAnswer> => {
        await clock.sleep(opts.timeoutMs, opts.signal);
        return { ok: false, status: 0, latencyMs: opts.timeoutMs, detail: `${where}: ${why}` };
      };
      if (!connectivity) return { ok: false, status: 0, latencyMs: 0, detail: `${where}: no such instance` };
      if (!connectivity.reachable) return noAnswer(`no answer within ${opts.timeoutMs}ms`);
      // A rebooting instance refuses connections at once (its promotion, a maintenance reboot): the connector can
      // tell that from a dead one by the status it carries.
      if (status === 'rebooting') {
        return {
          ok: false,
          status: 0,
          latencyMs: 0,
          detail: `${where}: refused, instance is rebooting`,
          instanceStatus: status,
        };
      }
      if (status === 'failed' || status === 'creating') {
        return { ...(await noAnswer(`instance is ${status}`)), instanceStatus: status };
      }
      const latencyMs = 5 + connectivity.ioLatencyMs;
      if (latencyMs >= opts.timeoutMs) return noAnswer(`query slower than ${opts.timeoutMs}ms`);
      await clock.sleep(latencyMs, opts.signal);
      const failed = connectivity.errorRate > 0 && random.next(`db-error:${region}/${id}`) < connectivity.errorRate;
      return failed
        ? { ok: false, status: 500, latencyMs, detail: `${where}: query failed` }
        : { ok: true, status: 200, latencyMs, detail: `${where}: query ok in ${latencyMs}ms` };
    },
  };
}
