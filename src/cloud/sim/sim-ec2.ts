// Simulated EC2 and EBS: zones with states and messages, instances with tags and status checks, launches into a
// zone, snapshots and volumes created from them — and the 2011 failure modes the playbook rests on:
// - a zone can be impaired for launches (RunInstances there fails with InsufficientInstanceCapacity, or is
//   `delayed`: instances sit in `pending` for a long time);
// - an EBS stall in a zone (set by scenarios from the zone's EBS error rate/latency) impairs instance status
//   checks there and makes EBS-backed launches fail;
// - RebootInstances / StopInstances / DetachVolume on resources in an impaired zone HANG until the caller's
//   AbortSignal fires ("those actions do not work on resources in the affected zone", PB-3).
// Zone-targeted calls are logged with their zone, region-wide reads without one. All calls are logged as service
// `ec2` (the EBS API is part of the EC2 API, as the AWS adapters see it); ebs faults still reach them.

import type { Clock } from '../../clock.ts';
import type {
  CallOptions,
  Compute,
  InstanceHealth,
  RegionName,
  Snapshot,
  Volume,
  ZoneName,
  ZoneStatus,
} from '../types.ts';
import { type SimCallContext, simCall, simError } from './sim-call.ts';
import type { CallScope } from './sim-call-log.ts';

export type LaunchMode = 'ok' | 'delayed' | 'failing';
export type ZoneConnectivity = 'ok' | 'degraded' | 'down';

export interface SimEc2Options {
  /** pending → running after a launch. Default 60 s. */
  launchMs?: number;
  /** pending → running when launches are `delayed`. Default 20 min. */
  delayedLaunchMs?: number;
  /** creating → available for a volume. Default 30 s. */
  volumeCreateMs?: number;
}

export interface SimInstanceSpec {
  region: RegionName;
  zone: ZoneName;
  tags?: Record<string, string>;
  /** How many identical instances. Default 1. */
  count?: number;
}

export interface SimSnapshotSpec {
  id: string;
  region: RegionName;
  volumeId?: string;
  tags?: Record<string, string>;
  startTime?: number;
}

export interface SimVolume {
  id: string;
  region: RegionName;
  zone: ZoneName;
  state: string; // creating | available | in-use
  snapshotId?: string;
  attachedTo?: string;
  /** Set for volumes added with tags (addVolume); instance root volumes and restored volumes carry none. */
  tags?: Record<string, string>;
}

/** A data volume of the service (e.g. tagged like its instances), for compute.ec2.restoreVolumesFromSnapshots. */
export interface SimVolumeSpec {
  id?: string;
  region: RegionName;
  zone: ZoneName;
  tags?: Record<string, string>;
}

/** EBS data-plane stall in a zone: share of IO failing and added IO latency. */
export interface EbsStall {
  errorRate: number;
  latencyMs: number;
}

export interface SimEc2 extends Compute {
  listVolumes(region: RegionName, tagSelector: Record<string, string>, opts?: CallOptions): Promise<Volume[]>;
  listSnapshotsOfVolumes(region: RegionName, volumeIds: string[], opts?: CallOptions): Promise<Snapshot[]>;
  addZone(region: RegionName, zone: ZoneName): void;
  addLaunchTemplate(id: string, tags: Record<string, string>): void;
  addInstances(spec: SimInstanceSpec): string[];
  addSnapshot(spec: SimSnapshotSpec): void;
  /** Adds an available volume; returns its id. */
  addVolume(spec: SimVolumeSpec): string;
  /** What DescribeAvailabilityZones reports for the zone. */
  setZoneState(zone: ZoneName, state: string, messages?: string[]): void;
  setLaunchMode(zone: ZoneName, mode: LaunchMode): void;
  setEbsStall(zone: ZoneName, stall: EbsStall | undefined): void;
  setConnectivity(zone: ZoneName, connectivity: ZoneConnectivity): void;
  zoneState(zone: ZoneName): ZoneStatus | undefined;
  launchMode(zone: ZoneName): LaunchMode;
  ebsStall(zone: ZoneName): EbsStall | undefined;
  connectivity(zone: ZoneName): ZoneConnectivity;
  /** Reboot/stop/detach hang here: zone impaired or unavailable, connectivity down, or EBS stalled. */
  isImpairedForActions(zone: ZoneName): boolean;
  /** Zone-filtered DescribeInstanceStatus: a zone-targeted read (feels that zone's faults). */
  describeInstanceHealthInZone(
    region: RegionName,
    zone: ZoneName,
    tagSelector: Record<string, string>,
    opts?: CallOptions,
  ): Promise<InstanceHealth[]>;
  /** DescribeVolumes, zone-filtered when `zone` is given. */
  describeVolumes(region: RegionName, filter?: { zone?: ZoneName }, opts?: CallOptions): Promise<SimVolume[]>;
  /** Every instance (health as now), for invariant checks. */
  instances(): InstanceHealth[];
  volumes(): SimVolume[];
}

interface InstanceState {
  id: string;
  region: RegionName;
  zone: ZoneName;
  tags: Record<string, string>;
  runningAt: number;
  stopped: boolean;
  rootVolumeId: string;
}

/** An EBS stall this bad fails instance status checks and EBS-backed launches in the zone. */
const STALL_ERROR_RATE = 0.3;
const STALL_LATENCY_MS = 1000;

const isStalled = (stall: EbsStall | undefined) =>
  stall !== undefined && (stall.errorRate >= STALL_ERROR_RATE || stall.latencyMs >= STALL_LATENCY_MS);

const matchesTags = (tags: Record<string, string>, selector: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => tags[k] === v);

export function createSimEc2(ctx: SimCallContext, options: SimEc2Options = {}): SimEc2 {
  const clock: Clock = ctx.clock;
  const launchMs = options.launchMs ?? 60_000;
  const delayedLaunchMs = options.delayedLaunchMs ?? 20 * 60_000;
  const volumeCreateMs = options.volumeCreateMs ?? 30_000;

  const zones = new Map<ZoneName, ZoneStatus>();
  const launchModes = new Map<ZoneName, LaunchMode>();
  const stalls = new Map<ZoneName, EbsStall>();
  const connectivities = new Map<ZoneName, ZoneConnectivity>();
  const templates = new Map<string, Record<string, string>>();
  const instances = new Map<string, InstanceState>();
  const volumes = new Map<string, SimVolume & { readyAt: number }>();
  const snapshots = new Map<string, Snapshot>();
  const launchTokens = new Map<string, string[]>();
  const volumeTokens = new Map<string, string>();
  let nextId = 1;

  const hex = (n: number, width: number) => n.toString(16).padStart(width, '0');
  const newId = (prefix: string) => `${prefix}-${hex(nextId++, 17)}`;

  function requireZone(zone: ZoneName): ZoneStatus {
    const status = zones.get(zone);
    if (!status) throw new Error(`simulated EC2 has no zone ${zone}`);
    return status;
  }

  function impairedForActions(zone: ZoneName): boolean {
    const state = zones.get(zone)?.state;
    return (
      state === 'impaired' ||
      state === 'unavailable' ||
      connectivities.get(zone) === 'down' ||
      isStalled(stalls.get(zone))
    );
  }

  function healthOf(i: InstanceState): InstanceHealth {
    const now = clock.now();
    const running = !i.stopped && now >= i.runningAt;
    const state = i.stopped ? 'stopped' : running ? 'running' : 'pending';
    let systemStatus = 'ok';
    let instanceStatus = 'ok';
    if (!running) {
      systemStatus = i.stopped ? 'not-applicable' : 'initializing';
      instanceStatus = systemStatus;
    } else {
      const zoneState = zones.get(i.zone)?.state;
      const connectivity = connectivities.get(i.zone) ?? 'ok';
      if (zoneState === 'impaired' || zoneState === 'unavailable' || connectivity === 'down') systemStatus = 'impaired';
      if (connectivity !== 'ok' || isStalled(stalls.get(i.zone)) || systemStatus === 'impaired') {
        instanceStatus = 'impaired';
      }
    }
    return { id: i.id, region: i.region, zone: i.zone, state, systemStatus, instanceStatus };
  }

  function volumeView(v: SimVolume & { readyAt: number }): SimVolume {
    const { readyAt, ...rest } = v;
    if (rest.state === 'creating' && clock.now() >= readyAt && !isStalled(stalls.get(v.zone))) rest.state = 'available';
    if (rest.state !== v.state) v.state = rest.state;
    return rest;
  }

  /** The zone a multi-resource call is logged under: the impaired one if any (so PB-3 violations show), else the first. */
  function zoneOfResources(resourceZones: ZoneName[]): ZoneName | undefined {
    return resourceZones.find((z) => impairedForActions(z)) ?? resourceZones[0];
  }

  function instanceScope(operation: string, region: RegionName, ids: string[]): CallScope {
    const zone = zoneOfResources(ids.map((id) => instances.get(id)?.zone).filter((z): z is ZoneName => !!z));
    return { service: 'ec2', operation, region, target: ids.join(','), ...(zone ? { zone } : {}) };
  }

  function requireInstances(s: CallScope, region: RegionName, ids: string[]): InstanceState[] {
    return ids.map((id) => {
      const i = instances.get(id);
      if (!i || i.region !== region) {
        throw simError(s, 'not-found', 'InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
      }
      return i;
    });
  }

  function createInstance(region: RegionName, zone: ZoneName, tags: Record<string, string>, runningAt: number): string {
    const id = newId('i');
    const rootVolumeId = newId('vol');
    instances.set(id, { id, region, zone, tags: { ...tags }, runningAt, stopped: false, rootVolumeId });
    volumes.set(rootVolumeId, { id: rootVolumeId, region, zone, state: 'in-use', attachedTo: id, readyAt: runningAt });
    return id;
  }

  const listHealth = (region: RegionName, selector: Record<string, string>, zone?: ZoneName) =>
    [...instances.values()]
      .filter((i) => i.region === region && (zone === undefined || i.zone === zone) && matchesTags(i.tags, selector))
      .map(healthOf);

  const ec2: SimEc2 = {
    addZone(region, zone) {
      zones.set(zone, { region, name: zone, state: 'available', messages: [] });
    },
    addLaunchTemplate(id, tags) {
      templates.set(id, { ...tags });
    },
    addInstances(spec) {
      requireZone(spec.zone);
      const ids: string[] = [];
      for (let n = 0; n < (spec.count ?? 1); n++) {
        ids.push(createInstance(spec.region, spec.zone, spec.tags ?? {}, clock.now()));
      }
      return ids;
    },
    addSnapshot(spec) {
      snapshots.set(spec.id, {
        id: spec.id,
        region: spec.region,
        startTime: new Date(spec.startTime ?? clock.now()),
        state: 'completed',
        tags: { ...(spec.tags ?? {}) },
        ...(spec.volumeId ? { volumeId: spec.volumeId } : {}),
      });
    },
    addVolume(spec) {
      requireZone(spec.zone);
      const id = spec.id ?? newId('vol');
      volumes.set(id, {
        id,
        region: spec.region,
        zone: spec.zone,
        state: 'available',
        readyAt: clock.now(),
        ...(spec.tags ? { tags: { ...spec.tags } } : {}),
      });
      return id;
    },
    setZoneState(zone, state, messages = []) {
      const status = requireZone(zone);
      status.state = state;
      status.messages = [...messages];
    },
    setLaunchMode(zone, mode) {
      requireZone(zone);
      launchModes.set(zone, mode);
    },
    setEbsStall(zone, stall) {
      requireZone(zone);
      if (stall) stalls.set(zone, { ...stall });
      else stalls.delete(zone);
    },
    setConnectivity(zone, connectivity) {
      requireZone(zone);
      connectivities.set(zone, connectivity);
    },
    zoneState: (zone) => {
      const status = zones.get(zone);
      return status ? { ...status, messages: [...status.messages] } : undefined;
    },
    launchMode: (zone) => launchModes.get(zone) ?? 'ok',
    ebsStall: (zone) => stalls.get(zone),
    connectivity: (zone) => connectivities.get(zone) ?? 'ok',
    isImpairedForActions: impairedForActions,
    instances: () => [...instances.values()].map(healthOf),
    volumes: () => [...volumes.values()].map(volumeView),

    describeZones(region, opts) {
      return simCall(ctx, { service: 'ec2', operation: 'DescribeAvailabilityZones', region }, opts, () =>
        [...zones.values()].filter((z) => z.region === region).map((z) => ({ ...z, messages: [...z.messages] })),
      );
    },

    describeInstanceHealth(region, tagSelector, opts) {
      return simCall(ctx, { service: 'ec2', operation: 'DescribeInstanceStatus', region }, opts, () =>
        listHealth(region, tagSelector),
      );
    },

    describeInstanceHealthInZone(region, zone, tagSelector, opts) {
      return simCall(ctx, { service: 'ec2', operation: 'DescribeInstanceStatus', region, zone }, opts, () =>
        listHealth(region, tagSelector, zone),
      );
    },

    describeVolumes(region, filter = {}, opts) {
      const s: CallScope = {
        service: 'ec2',
        operation: 'DescribeVolumes',
        region,
        ...(filter.zone ? { zone: filter.zone } : {}),
      };
      return simCall(ctx, s, opts, () =>
        [...volumes.values()]
          .filter((v) => v.region === region && (filter.zone === undefined || v.zone === filter.zone))
          .map(volumeView),
      );
    },

    listVolumes(region, tagSelector, opts) {
      // A regional read: not "in" any zone, so zone-scoped faults do not reach it (as DescribeVolumes without a
      // zone filter answers for an impaired zone's volumes too).
      return simCall(ctx, { service: 'ec2', operation: 'DescribeVolumes', region }, opts, () =>
        [...volumes.values()]
          .filter((v) => v.region === region && matchesTags(v.tags ?? {}, tagSelector))
          .map((v): Volume => {
            const view = volumeView(v);
            return {
              id: view.id,
              region: view.region,
              zone: view.zone,
              state: view.state,
              ...(view.snapshotId ? { snapshotId: view.snapshotId } : {}),
              tags: { ...(view.tags ?? {}) },
            };
          }),
      );
    },

    listSnapshotsOfVolumes(region, volumeIds, opts) {
      const wanted = new Set(volumeIds);
      return simCall(ctx, { service: 'ec2', operation: 'DescribeSnapshots', region }, opts, () =>
        [...snapshots.values()]
          .filter((snap) => snap.region === region && snap.volumeId !== undefined && wanted.has(snap.volumeId))
          .map((snap) => ({ ...snap, tags: { ...snap.tags } })),
      );
    },

    runInstances(region, req, opts) {
      const s: CallScope = {
        service: 'ec2',
        operation: 'RunInstances',
        region,
        zone: req.zone,
        target: req.launchTemplateId,
      };
      return simCall(ctx, s, opts, () => {
        const earlier = launchTokens.get(req.clientToken);
        if (earlier) return [...earlier];
        const zone = zones.get(req.zone);
        if (!zone || zone.region !== region) {
          throw simError(s, 'terminal', 'InvalidParameterValue', `Invalid availability zone: [${req.zone}]`);
        }
        const tags = templates.get(req.launchTemplateId);
        if (!tags) {
          throw simError(
            s,
            'not-found',
            'InvalidLaunchTemplateId.NotFound',
            `The specified launch template, with template ID ${req.launchTemplateId}, does not exist.`,
          );
        }
        const mode = launchModes.get(req.zone) ?? 'ok';
        if (
          mode === 'failing' ||
          zone.state === 'impaired' ||
          zone.state === 'unavailable' ||
          isStalled(stalls.get(req.zone))
        ) {
          throw simError(
            s,
            'terminal',
            'InsufficientInstanceCapacity',
            `We currently do not have sufficient capacity in the Availability Zone you requested (${req.zone}). Launch without specifying an Availability Zone or choose another one.`,
          );
        }
        const runningAt = clock.now() + (mode === 'delayed' ? delayedLaunchMs : launchMs);
        const ids = Array.from({ length: req.count }, () => createInstance(region, req.zone, tags, runningAt));
        launchTokens.set(req.clientToken, ids);
        return [...ids];
      });
    },

    listSnapshots(region, tagSelector, opts) {
      return simCall(ctx, { service: 'ec2', operation: 'DescribeSnapshots', region }, opts, () =>
        [...snapshots.values()]
          .filter((snap) => snap.region === region && matchesTags(snap.tags, tagSelector))
          .map((snap) => ({ ...snap, tags: { ...snap.tags } })),
      );
    },

    createVolumeFromSnapshot(region, req, opts) {
      const s: CallScope = {
        service: 'ec2',
        operation: 'CreateVolume',
        region,
        zone: req.zone,
        target: req.snapshotId,
      };
      return simCall(ctx, s, opts, () => {
        const earlier = volumeTokens.get(req.clientToken);
        if (earlier) return earlier;
        const zone = zones.get(req.zone);
        if (!zone || zone.region !== region) {
          throw simError(s, 'terminal', 'InvalidParameterValue', `Invalid availability zone: [${req.zone}]`);
        }
        const snapshot = snapshots.get(req.snapshotId);
        if (!snapshot || snapshot.region !== region) {
          throw simError(
            s,
            'not-found',
            'InvalidSnapshot.NotFound',
            `The snapshot '${req.snapshotId}' does not exist.`,
          );
        }
        const id = newId('vol');
        volumes.set(id, {
          id,
          region,
          zone: req.zone,
          state: 'creating',
          snapshotId: req.snapshotId,
          readyAt: clock.now() + volumeCreateMs,
        });
        volumeTokens.set(req.clientToken, id);
        return id;
      });
    },

    rebootInstances(region, ids, opts) {
      const s = instanceScope('RebootInstances', region, ids);
      return simCall(
        ctx,
        s,
        opts,
        () => {
          requireInstances(s, region, ids);
        },
        { hangs: () => ids.some((id) => impairedAt(id)) },
      );
    },

    stopInstances(region, ids, opts) {
      const s = instanceScope('StopInstances', region, ids);
      return simCall(
        ctx,
        s,
        opts,
        () => {
          for (const i of requireInstances(s, region, ids)) i.stopped = true;
        },
        { hangs: () => ids.some((id) => impairedAt(id)) },
      );
    },

    detachVolume(region, volumeId, opts) {
      const volume = volumes.get(volumeId);
      const s: CallScope = {
        service: 'ec2',
        operation: 'DetachVolume',
        region,
        target: volumeId,
        ...(volume ? { zone: volume.zone } : {}),
      };
      return simCall(
        ctx,
        s,
        opts,
        () => {
          if (!volume || volume.region !== region) {
            throw simError(s, 'not-found', 'InvalidVolume.NotFound', `The volume '${volumeId}' does not exist.`);
          }
          if (volume.attachedTo === undefined) {
            throw simError(s, 'busy', 'IncorrectState', `Volume '${volumeId}' is in the 'available' state.`);
          }
          delete volume.attachedTo;
          volume.state = 'available';
        },
        { hangs: () => volume !== undefined && impairedForActions(volume.zone) },
      );
    },
  };

  function impairedAt(instanceId: string): boolean {
    const zone = instances.get(instanceId)?.zone;
    return zone !== undefined && impairedForActions(zone);
  }

  return ec2;
}
