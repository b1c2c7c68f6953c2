import pino from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { loadExample } from '../api/testdata/invalid-cases.ts';
import type { StoredPolicy } from './policy-reconciler.ts';
import { createPolicyTracker, probedPolicy } from './policy-tracker.ts';
import { unrestrictedTenancy } from './tenancy-grants.ts';

const logger = pino({ level: 'silent' });

function stored(name: string, mutate: (spec: Record<string, unknown>) => void = () => {}): StoredPolicy {
  const manifest = loadExample('single-region-web');
  manifest.metadata = { name, namespace: 'team', generation: 1 };
  mutate(manifest.spec);
  return manifest as StoredPolicy;
}
const suspend = (spec: Record<string, unknown>) => {
  spec.suspend = true;
};
const noRegions = (spec: Record<string, unknown>) => {
  spec.regions = [];
};

/** An informer stand-in: a cache the test edits, and `emit` as a watch event, relist or resync would. */
function fakeInformer(initial: Record<string, StoredPolicy>) {
  const cache = new Map(Object.entries(initial));
  const handlers = new Set<(key: string) => void>();
  return {
    cache,
    get: (key: string) => cache.get(key),
    keys: () => [...cache.keys()],
    onKey(handler: (key: string) => void) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    emit(key: string) {
      for (const h of handlers) h(key);
    },
    listeners: () => handlers.size,
  };
}

function harness(initial: Record<string, StoredPolicy>) {
  const informer = fakeInformer(initial);
  const engine = { track: vi.fn(), untrack: vi.fn() };
  const tracker = createPolicyTracker({ informer, engine, tenancy: unrestrictedTenancy, logger });
  const stop = new AbortController();
  const running = tracker.run(stop.signal);
  const trackedKeys = () => engine.track.mock.calls.map((c) => c[0] as string);
  const untrackedKeys = () => engine.untrack.mock.calls.map((c) => c[0] as string);
  return { informer, engine, tracker, stop, running, trackedKeys, untrackedKeys };
}

describe('createPolicyTracker', () => {
  it('runs on every replica (no leadership needed)', () => {
    const h = harness({});
    expect(h.tracker.needLeaderElection).toBe(false);
    h.stop.abort();
  });

  it('starts probing every valid, active policy in the cache, and none that is suspended, invalid or deleting', async () => {
    const h = harness({
      'team/web': stored('web'),
      'team/paused': stored('paused', suspend),
      'team/broken': stored('broken', noRegions),
      'team/leaving': { ...stored('leaving'), metadata: { name: 'leaving', deletionTimestamp: new Date() } },
    });
    expect(h.trackedKeys()).toEqual(['team/web']);
    const [, policy] = h.engine.track.mock.calls[0] as [string, { spec: { dryRun: boolean } }];
    expect(policy.spec.dryRun).toBe(false); // the validated, defaulted policy, as the reconciler passes it
    expect(h.untrackedKeys().sort()).toEqual(['team/broken', 'team/leaving', 'team/paused']);
    h.stop.abort();
    await h.running;
  });

  it('follows the informer: tracks on add/update, untracks on suspend, invalid edit, deletion and removal', async () => {
    const h = harness({});
    h.informer.cache.set('team/web', stored('web'));
    h.informer.emit('team/web');
    expect(h.trackedKeys()).toEqual(['team/web']);

    h.informer.cache.set('team/web', stored('web', suspend));
    h.informer.emit('team/web');
    expect(h.untrackedKeys()).toEqual(['team/web']);

    h.informer.cache.set('team/web', stored('web'));
    h.informer.emit('team/web');
    h.informer.cache.set('team/web', stored('web', noRegions));
    h.informer.emit('team/web');
    h.informer.cache.set('team/web', {
      ...stored('web'),
      metadata: { name: 'web', namespace: 'team', deletionTimestamp: new Date() },
    });
    h.informer.emit('team/web');
    h.informer.cache.delete('team/web');
    h.informer.emit('team/web');
    expect(h.trackedKeys()).toEqual(['team/web', 'team/web']);
    expect(h.untrackedKeys()).toEqual(['team/web', 'team/web', 'team/web', 'team/web']);
    h.stop.abort();
    await h.running;
  });

  it("decides again only when what it reads changed: the leader's finalizer and status writes cost no validation", async () => {
    const h = harness({});
    const web = stored('web');
    h.informer.cache.set('team/web', web);
    h.informer.emit('team/web');
    expect(h.trackedKeys()).toEqual(['team/web']);

    // The finalizer, then the first status: new resourceVersions, same spec and metadata otherwise.
    h.informer.cache.set('team/web', {
      ...web,
      metadata: { ...web.metadata, resourceVersion: '2', finalizers: ['failover.io/leave-aws-state'] },
    });
    h.informer.emit('team/web');
    h.informer.cache.set('team/web', {
      ...web,
      metadata: { ...web.metadata, resourceVersion: '3', finalizers: ['failover.io/leave-aws-state'] },
      status: { observedGeneration: 1, phase: 'Healthy' },
    });
    h.informer.emit('team/web');
    expect(h.trackedKeys()).toEqual(['team/web']);

    // A spec edit (a new generation), an annotation and a deletion are each decided again.
    h.informer.cache.set('team/web', { ...stored('web', suspend), metadata: { ...web.metadata, generation: 2 } });
    h.informer.emit('team/web');
    expect(h.untrackedKeys()).toEqual(['team/web']);
    h.informer.cache.set('team/web', { ...web, metadata: { ...web.metadata, annotations: { tier: 'gold' } } });
    h.informer.emit('team/web');
    expect(h.trackedKeys()).toEqual(['team/web', 'team/web']);
    h.informer.cache.set('team/web', { ...web, metadata: { ...web.metadata, deletionTimestamp: new Date() } });
    h.informer.emit('team/web');
    expect(h.untrackedKeys()).toEqual(['team/web', 'team/web']);

    // New grants may decide the very same object otherwise: syncAll decides every key again.
    h.informer.cache.set('team/web', web);
    h.informer.emit('team/web');
    h.tracker.syncAll();
    expect(h.trackedKeys()).toEqual(['team/web', 'team/web', 'team/web', 'team/web']);
    h.stop.abort();
    await h.running;
  });

  it('stops listening when stopped, and resolves', async () => {
    const h = harness({});
    expect(h.informer.listeners()).toBe(1);
    h.stop.abort();
    await h.running;
    expect(h.informer.listeners()).toBe(0);
    h.informer.cache.set('team/web', stored('web'));
    h.informer.emit('team/web');
    expect(h.engine.track).not.toHaveBeenCalled();
  });

  it('names why a policy is not probed', () => {
    expect(probedPolicy(undefined, unrestrictedTenancy)).toEqual({ why: 'gone' });
    expect(probedPolicy(stored('x', suspend), unrestrictedTenancy)).toEqual({ why: 'suspended' });
    expect(probedPolicy(stored('x', noRegions), unrestrictedTenancy)).toEqual({ why: 'invalid spec' });
    expect('policy' in probedPolicy(stored('x'), unrestrictedTenancy)).toBe(true);
  });

  it('never probes a policy outside its namespace grants: probes call AWS too', () => {
    const granted = new Set<string>();
    const tenancy = {
      violations: (namespace: string) =>
        granted.has(namespace) ? [] : [{ field: 'spec.traffic.route53.hostedZoneId', value: 'Z1', message: 'no' }],
    };
    expect(probedPolicy(stored('x'), tenancy)).toEqual({ why: 'not permitted' });
    granted.add('team');
    expect('policy' in probedPolicy(stored('x'), tenancy)).toBe(true);
  });
});
