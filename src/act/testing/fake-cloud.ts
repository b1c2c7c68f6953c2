// An in-memory Cloud for the executor's unit tests: records every call in order (into a log the test may share
// with its journal store, to assert "intent saved before the call"), dedupes EC2 creates by clientToken as AWS
// does, and injects faults per operation (an error, or a hang that only the AbortSignal ends).

import type { CallOptions, Cloud, DbInstance, DnsChangeStatus, DnsRecord } from '../../cloud/types.ts';

export type FakeOperation =
  | 'listRecords'
  | 'listRecordsPage'
  | 'upsertRecords'
  | 'getChangeStatus'
  | 'describeInstance'
  | 'promoteReadReplica'
  | 'rebootInstance'
  | 'createSnapshot'
  | 'runInstances'
  | 'createVolumeFromSnapshot'
  | 'rebootInstances'
  | 'stopInstances'
  | 'detachVolume'
  | 'describeZones'
  | 'describeInstanceHealth'
  | 'listSnapshots'
  | 'replicaLag';

export interface FakeCall {
  op: FakeOperation;
  args: unknown[];
}

type Fault = { kind: 'error'; error: Error } | { kind: 'hang' } | { kind: 'after'; error: Error };

export interface FakeCloud extends Cloud {
  calls: FakeCall[];
  /** Shared, ordered trail: `call:<op>` entries (tests push their own, e.g. journal saves). */
  trail: string[];
  records: DnsRecord[];
  dbs: Map<string, DbInstance>;
  /** How many GetChange polls each change stays PENDING before INSYNC (default 0: INSYNC at once). */
  pendingPolls: number;
  instancesByToken: Map<string, string[]>;
  volumesByToken: Map<string, string>;
  /**
   * Next `times` calls of `op`: `error` throws before acting; `after` acts, then throws (the call took effect but
   * the caller never heard: a crash or lost response); `hang` never settles unless aborted.
   */
  fail(op: FakeOperation, fault: Fault, times?: number): void;
  callsOf(op: FakeOperation): FakeCall[];
}

export function createFakeCloud(init: { records?: DnsRecord[]; dbs?: DbInstance[] } = {}): FakeCloud {
  const faults = new Map<FakeOperation, Array<Fault>>();
  const changePolls = new Map<string, number>();
  let nextId = 1;

  const fake: FakeCloud = {
    calls: [],
    trail: [],
    records: structuredClone(init.records ?? []),
    dbs: new Map((init.dbs ?? []).map((d) => [`${d.region}/${d.id}`, structuredClone(d)])),
    pendingPolls: 0,
    instancesByToken: new Map(),
    volumesByToken: new Map(),
    fail(op, fault, times = 1) {
      const list = faults.get(op) ?? [];
      for (let i = 0; i < times; i++) list.push(fault);
      faults.set(op, list);
    },
    callsOf(op) {
      return fake.calls.filter((c) => c.op === op);
    },
    dns: {
      listRecords: (hostedZoneId, name, type, opts) =>
        op('listRecords', [hostedZoneId, name, type], opts, () =>
          structuredClone(fake.records.filter((r) => r.name === name && r.type === type)),
        ),
      listRecordsPage: (hostedZoneId, start, opts) =>
        op('listRecordsPage', [hostedZoneId, start], opts, () => ({ records: structuredClone(fake.records) })),
      upsertRecords: (hostedZoneId, records, comment, opts) =>
        op('upsertRecords', [hostedZoneId, structuredClone(records), comment], opts, () => {
          for (const record of records) {
            const i = fake.records.findIndex(
              (r) => r.name === record.name && r.type === record.type && r.setIdentifier === record.setIdentifier,
            );
            if (i >= 0) fake.records[i] = structuredClone(record);
            else fake.records.push(structuredClone(record));
          }
          const id = `C${nextId++}`;
          changePolls.set(id, 0);
          return id;
        }),
      getChangeStatus: (changeId, opts) =>
        op('getChangeStatus', [changeId], opts, (): DnsChangeStatus => {
          const polls = (changePolls.get(changeId) ?? 0) + 1;
          changePolls.set(changeId, polls);
          return polls > fake.pendingPolls ? 'INSYNC' : 'PENDING';
        }),
    },
    databases: {
      describeInstance: (region, id, opts) =>
        op('describeInstance', [region, id], opts, () => structuredClone(fake.dbs.get(`${region}/${id}`))),
      promoteReadReplica: (region, id, retention, opts) =>
        op('promoteReadReplica', [region, id, retention], opts, () => {
          const db = fake.dbs.get(`${region}/${id}`);
          if (db === undefined) throw new Error(`no db ${id}`);
          delete db.replicaSourceId;
          db.status = 'modifying';
          db.backupRetentionPeriod = retention;
        }),
      rebootInstance: (region, id, opts) => op('rebootInstance', [region, id], opts, () => undefined),
      createSnapshot: (region, id, snapshotId, opts) =>
        op('createSnapshot', [region, id, snapshotId], opts, () => undefined),
    },
    compute: {
      describeZones: (region, opts) => op('describeZones', [region], opts, () => []),
      describeInstanceHealth: (region, tags, opts) => op('describeInstanceHealth', [region, tags], opts, () => []),
      runInstances: (region, req, opts) =>
        op('runInstances', [region, req], opts, () => {
          const existing = fake.instancesByToken.get(req.clientToken);
          if (existing) return existing;
          const ids = Array.from({ length: req.count }, () => `i-${nextId++}`);
          fake.instancesByToken.set(req.clientToken, ids);
          return ids;
        }),
      listSnapshots: (region, tags, opts) => op('listSnapshots', [region, tags], opts, () => []),
      createVolumeFromSnapshot: (region, req, opts) =>
        op('createVolumeFromSnapshot', [region, req], opts, () => {
          const existing = fake.volumesByToken.get(req.clientToken);
          if (existing) return existing;
          const id = `vol-${nextId++}`;
          fake.volumesByToken.set(req.clientToken, id);
          return id;
        }),
      rebootInstances: (region, ids, opts) => op('rebootInstances', [region, ids], opts, () => undefined),
      stopInstances: (region, ids, opts) => op('stopInstances', [region, ids], opts, () => undefined),
      detachVolume: (region, id, opts) => op('detachVolume', [region, id], opts, () => undefined),
    },
    replicaLag: {
      replicaLag: (region, id, _now, opts) => op('replicaLag', [region, id], opts, () => undefined),
    },
  };

  async function op<T>(name: FakeOperation, args: unknown[], opts: CallOptions | undefined, act: () => T): Promise<T> {
    fake.calls.push({ op: name, args });
    fake.trail.push(`call:${name}`);
    opts?.signal?.throwIfAborted();
    const fault = faults.get(name)?.shift();
    if (fault?.kind === 'error') throw fault.error;
    if (fault?.kind === 'hang') {
      return new Promise<T>((_, reject) => {
        opts?.signal?.addEventListener('abort', () => reject(opts.signal?.reason), { once: true });
      });
    }
    const result = act();
    if (fault?.kind === 'after') throw fault.error;
    return result;
  }

  return fake;
}
