// Compute over EC2: zone state, instance health by tag, launches into a named healthy zone (PB-4), volumes from
// snapshots in a healthy zone, and the zone-targeted calls the executor's PB-3 guard keeps away from impaired zones.
// Launch and CreateVolume carry a ClientToken so a retried call after a timeout does not create a second resource.

import {
  CreateVolumeCommand,
  DescribeAvailabilityZonesCommand,
  DescribeInstanceStatusCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  EC2Client,
  type Filter,
  type InstanceStatus,
  RebootInstancesCommand,
  RunInstancesCommand,
  type Snapshot as SdkSnapshot,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
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
import type { AwsClients } from './clients.ts';
import { callAws } from './errors.ts';

const SERVICE = 'ec2';

/** DescribeInstanceStatus accepts at most this many instance ids per request. */
const STATUS_BATCH = 100;

/** Values one EC2 filter accepts per request (volume ids in DescribeSnapshots). */
const FILTER_VALUES_BATCH = 200;

/** Volumes on their way out are no longer protected: nothing to restore. */
const GONE_VOLUME_STATES = ['deleting', 'deleted'];

/** Instances that still count as capacity (terminated ones linger in Describe* for an hour). */
const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];

export function tagFilters(tagSelector: Record<string, string>): Filter[] {
  return Object.entries(tagSelector).map(([key, value]) => ({ Name: `tag:${key}`, Values: [value] }));
}

/** `lt-…` is a launch template id; anything else is taken as its name. */
export function launchTemplateSpec(
  launchTemplate: string,
): { LaunchTemplateId: string } | { LaunchTemplateName: string } {
  return /^lt-[0-9a-f]+$/i.test(launchTemplate)
    ? { LaunchTemplateId: launchTemplate }
    : { LaunchTemplateName: launchTemplate };
}

const tagsOf = (tags: Array<{ Key?: string; Value?: string }> | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).flatMap((t) => (t.Key ? [[t.Key, t.Value ?? '']] : [])));

function toSnapshot(region: RegionName, s: SdkSnapshot): Snapshot {
  return {
    id: s.SnapshotId ?? '',
    region,
    ...(s.VolumeId ? { volumeId: s.VolumeId } : {}),
    startTime: s.StartTime ?? new Date(0),
    state: s.State ?? 'unknown',
    tags: tagsOf(s.Tags),
  };
}

function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function createEc2Compute(clients: AwsClients): Compute {
  const send = <T>(operation: string, call: () => Promise<T>) => callAws(SERVICE, operation, call);

  return {
    async describeZones(region: RegionName, opts: CallOptions = {}): Promise<ZoneStatus[]> {
      const out = await send('DescribeAvailabilityZones', () =>
        clients
          .regional('ec2', region, EC2Client)
          .send(
            new DescribeAvailabilityZonesCommand({ Filters: [{ Name: 'zone-type', Values: ['availability-zone'] }] }),
            { abortSignal: opts.signal },
          ),
      );
      return (out.AvailabilityZones ?? []).map((z) => ({
        region,
        name: z.ZoneName ?? '',
        state: z.State ?? 'unknown',
        messages: (z.Messages ?? []).flatMap((m) => (m.Message ? [m.Message] : [])),
      }));
    },

    /**
     * Instances matching every tag, with EC2's status checks. Two calls because DescribeInstanceStatus cannot filter
     * by tag: DescribeInstances finds the instances, DescribeInstanceStatus (IncludeAllInstances, so stopped and
     * pending ones are reported too) gives their checks.
     */
    async describeInstanceHealth(region: RegionName, tagSelector: Record<string, string>, opts: CallOptions = {}) {
      const ec2 = clients.regional('ec2', region, EC2Client);
      const found = new Map<string, InstanceHealth>();
      const instancePages = pages((token) =>
        send('DescribeInstances', () =>
          ec2.send(
            new DescribeInstancesCommand({
              Filters: [...tagFilters(tagSelector), { Name: 'instance-state-name', Values: LIVE_STATES }],
              ...(token !== undefined ? { NextToken: token } : {}),
            }),
            { abortSignal: opts.signal },
          ),
        ),
      );
      for await (const page of instancePages) {
        for (const instance of (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
          if (!instance.InstanceId) continue;
          found.set(instance.InstanceId, {
            id: instance.InstanceId,
            region,
            zone: instance.Placement?.AvailabilityZone ?? '',
            state: instance.State?.Name ?? 'unknown',
            systemStatus: 'insufficient-data',
            instanceStatus: 'insufficient-data',
          });
        }
      }

      for (const ids of chunk([...found.keys()], STATUS_BATCH)) {
        const statuses: InstanceStatus[] = [];
        const statusPages = pages((token) =>
          send('DescribeInstanceStatus', () =>
            ec2.send(
              new DescribeInstanceStatusCommand({
                InstanceIds: ids,
                IncludeAllInstances: true,
                ...(token !== undefined ? { NextToken: token } : {}),
              }),
              { abortSignal: opts.signal },
            ),
          ),
        );
        for await (const page of statusPages) statuses.push(...(page.InstanceStatuses ?? []));
        for (const s of statuses) {
          const known = s.InstanceId ? found.get(s.InstanceId) : undefined;
          if (!known) continue;
          known.systemStatus = s.SystemStatus?.Status ?? known.systemStatus;
          known.instanceStatus = s.InstanceStatus?.Status ?? known.instanceStatus;
          if (s.InstanceState?.Name) known.state = s.InstanceState.Name;
        }
      }
      return [...found.values()];
    },

    async runInstances(
      region: RegionName,
      req: { launchTemplateId: string; zone: ZoneName; count: number; clientToken: string },
      opts: CallOptions = {},
    ) {
      const out = await send('RunInstances', () =>
        clients.regional('ec2', region, EC2Client).send(
          new RunInstancesCommand({
            LaunchTemplate: launchTemplateSpec(req.launchTemplateId),
            MinCount: req.count,
            MaxCount: req.count,
            ClientToken: req.clientToken,
            Placement: { AvailabilityZone: req.zone },
          }),
          { abortSignal: opts.signal },
        ),
      );
      return (out.Instances ?? []).flatMap((i) => (i.InstanceId ? [i.InstanceId] : []));
    },

    async listSnapshots(region: RegionName, tagSelector: Record<string, string>, opts: CallOptions = {}) {
      const ec2 = clients.regional('ec2', region, EC2Client);
      const snapshots: Snapshot[] = [];
      const snapshotPages = pages((token) =>
        send('DescribeSnapshots', () =>
          ec2.send(
            new DescribeSnapshotsCommand({
              OwnerIds: ['self'],
              Filters: tagFilters(tagSelector),
              ...(token !== undefined ? { NextToken: token } : {}),
            }),
            { abortSignal: opts.signal },
          ),
        ),
      );
      for await (const page of snapshotPages) {
        for (const s of page.Snapshots ?? []) if (s.SnapshotId) snapshots.push(toSnapshot(region, s));
      }
      return snapshots;
    },

    async listVolumes(region: RegionName, tagSelector: Record<string, string>, opts: CallOptions = {}) {
      const ec2 = clients.regional('ec2', region, EC2Client);
      const volumes: Volume[] = [];
      const volumePages = pages((token) =>
        send('DescribeVolumes', () =>
          ec2.send(
            new DescribeVolumesCommand({
              Filters: tagFilters(tagSelector),
              ...(token !== undefined ? { NextToken: token } : {}),
            }),
            { abortSignal: opts.signal },
          ),
        ),
      );
      for await (const page of volumePages) {
        for (const v of page.Volumes ?? []) {
          if (!v.VolumeId || GONE_VOLUME_STATES.includes(v.State ?? '')) continue;
          volumes.push({
            id: v.VolumeId,
            region,
            zone: v.AvailabilityZone ?? '',
            state: v.State ?? 'unknown',
            ...(v.SnapshotId ? { snapshotId: v.SnapshotId } : {}),
            tags: tagsOf(v.Tags),
          });
        }
      }
      return volumes;
    },

    async listSnapshotsOfVolumes(region: RegionName, volumeIds: string[], opts: CallOptions = {}) {
      const ec2 = clients.regional('ec2', region, EC2Client);
      const snapshots: Snapshot[] = [];
      for (const ids of chunk([...new Set(volumeIds)], FILTER_VALUES_BATCH)) {
        const snapshotPages = pages((token) =>
          send('DescribeSnapshots', () =>
            ec2.send(
              new DescribeSnapshotsCommand({
                OwnerIds: ['self'],
                Filters: [{ Name: 'volume-id', Values: ids }],
                ...(token !== undefined ? { NextToken: token } : {}),
              }),
              { abortSignal: opts.signal },
            ),
          ),
        );
        for await (const page of snapshotPages) {
          for (const s of page.Snapshots ?? []) if (s.SnapshotId) snapshots.push(toSnapshot(region, s));
        }
      }
      return snapshots;
    },

    async createVolumeFromSnapshot(
      region: RegionName,
      req: { snapshotId: string; zone: ZoneName; clientToken: string },
      opts: CallOptions = {},
    ) {
      const out = await send('CreateVolume', () =>
        clients.regional('ec2', region, EC2Client).send(
          new CreateVolumeCommand({
            SnapshotId: req.snapshotId,
            AvailabilityZone: req.zone,
            ClientToken: req.clientToken,
          }),
          { abortSignal: opts.signal },
        ),
      );
      return out.VolumeId ?? '';
    },

    async rebootInstances(region: RegionName, ids: string[], opts: CallOptions = {}) {
      await send('RebootInstances', () =>
        clients
          .regional('ec2', region, EC2Client)
          .send(new RebootInstancesCommand({ InstanceIds: ids }), { abortSignal: opts.signal }),
      );
    },

    async stopInstances(region: RegionName, ids: string[], opts: CallOptions = {}) {
      await send('StopInstances', () =>
        clients
          .regional('ec2', region, EC2Client)
          .send(new StopInstancesCommand({ InstanceIds: ids }), { abortSignal: opts.signal }),
      );
    },

    async detachVolume(region: RegionName, volumeId: string, opts: CallOptions = {}) {
      await send('DetachVolume', () =>
        clients
          .regional('ec2', region, EC2Client)
          .send(new DetachVolumeCommand({ VolumeId: volumeId }), { abortSignal: opts.signal }),
      );
    },
  };
}

/**
 * Every page of a NextToken-paginated EC2 call, fetched one at a time. Not the SDK's paginate* helpers: each page
 * must go through `send`, which records the call (the PB-1 control-plane signal) and maps its errors.
 */
async function* pages<P extends { NextToken?: string | undefined }>(
  fetchPage: (token: string | undefined) => Promise<P>,
): AsyncGenerator<P> {
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    yield page;
    token = page.NextToken;
  } while (token);
}
