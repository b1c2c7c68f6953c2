import type { V1Lease } from '@kubernetes/client-node';
import { ConflictError } from '../errors.ts';
import type { LeaseApi } from '../leader-election.ts';

/** An in-memory Lease with resourceVersion preconditions, like the API server's. */
export function fakeLeaseStore() {
  const store = {
    lease: undefined as V1Lease | undefined,
    version: 0,
    failReads: false,
    failWrites: false,
    hang: false,
    reads: 0,
    writes: 0,
  };
  const clone = (lease: V1Lease): V1Lease => structuredClone(lease);
  const commit = (lease: V1Lease) => {
    store.version++;
    store.writes++;
    store.lease = clone({ ...lease, metadata: { ...lease.metadata, resourceVersion: String(store.version) } });
    return clone(store.lease);
  };
  const gate = () => (store.hang ? new Promise<never>(() => {}) : Promise.resolve());
  const api: LeaseApi = {
    async get() {
      await gate();
      store.reads++;
      if (store.failReads) throw Object.assign(new Error('unavailable'), { code: 503 });
      return store.lease ? clone(store.lease) : undefined;
    },
    async create(lease) {
      await gate();
      if (store.lease) throw new ConflictError('exists');
      return commit(lease);
    },
    async replace(lease) {
      await gate();
      if (store.failWrites) throw Object.assign(new Error('unavailable'), { code: 503 });
      if (lease.metadata?.resourceVersion !== store.lease?.metadata?.resourceVersion) throw new ConflictError('stale');
      return commit(lease);
    },
  };
  /** Another process holding the lease and renewing it. */
  const holdBy = (holder: string) =>
    commit({ metadata: { name: 'op', namespace: 'ns' }, spec: { holderIdentity: holder, leaseDurationSeconds: 15 } });
  return { store, api, holdBy };
}
