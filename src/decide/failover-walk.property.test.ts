// Property: a whole region failover, walked reconcile by reconcile against a small model of Route 53 and RDS, with
// everything that goes wrong in the worst hour thrown at it — promote calls that time out after RDS took them,
// Done saves that are lost, calls that never arrive, fence changes slow to go INSYNC, lag datapoints that go stale
// or read −1, long DB identifiers, and a journal that other actions push the failover's entries out of. Whatever the
// path: RDS receives at most one PromoteReadReplica per failover, never before the fence change is INSYNC and the
// longer writer TTL has passed, and once settled no plan points the writer anywhere else.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bound } from '../act/journal.ts';
import type { JournalEntry } from '../api/index.ts';
import { MAX_ACTION_ID_LENGTH } from './action-ids.ts';
import { plan } from './planner.ts';
import { cloud, entry, health, input, iso, policy, primaryDb, replicaDb, SEC, T0 } from './test-fixtures.ts';
import type { PlanInput } from './types.ts';

const rdsId = fc
  .tuple(
    fc.constantFrom('o', 'orders', 'a'),
    fc.stringMatching(/^[a-z0-9]{0,20}(-[a-z0-9]{1,20}){0,3}$/),
    fc.integer({ min: 1, max: 63 }),
  )
  .map(([head, tail, max]) => `${head}${tail}`.slice(0, max).replace(/-+$/, '') || 'x');

const promoteOutcome = fc.constantFrom(
  'received-done', // RDS took it; the journal says Done
  'received-failed', // RDS took it; the client timed out, the journal says Failed
  'received-unsaved', // RDS took it; the Done save was lost, the journal says Pending
  'lost', // the call never reached RDS; Failed
);
const writerOutcome = fc.constantFrom('insync', 'pending', 'failed');
const lagReading = fc.constantFrom('fresh', 'fresh', 'fresh', 'stale', 'negative', 'missing');

const walk = fc.record({
  primaryId: rdsId,
  replicaId: rdsId,
  oldTtl: fc.constantFrom(30, 60, 300),
  steps: fc.array(
    fc.record({
      dt: fc.oneof(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 60, max: 900 })),
      promote: promoteOutcome,
      writer: writerOutcome,
      insyncAfter: fc.integer({ min: 0, max: 120 }),
      lag: lagReading,
      filler: fc.integer({ min: 0, max: 30 }),
    }),
    { minLength: 10, maxLength: 45 },
  ),
});

interface Model {
  now: number;
  writer: string;
  writerTtl: number;
  /** Route 53 changes by id: when each goes INSYNC. */
  changes: Map<string, number>;
  /** The INSYNC time of the latest change that pointed the writer at the replica (the fence). */
  fenceInSync?: number;
  replicaPromotedAt?: number;
  /** PromoteReadReplica calls RDS received. */
  received: number;
  journal: JournalEntry[];
  seq: number;
}

describe('a region failover walked through the worst hour', () => {
  it('promotes at most once, only after the fence holds, and never undoes itself', () => {
    fc.assert(
      fc.property(walk, ({ primaryId, replicaId, oldTtl, steps }) => {
        fc.pre(primaryId !== replicaId);
        const p0 = policy();
        const rds = p0.spec.database!.rds;
        rds.primary.dbInstanceIdentifier = primaryId;
        rds.replicas = [{ region: 'us-west-2', dbInstanceIdentifier: replicaId }];
        const primaryEndpoint = `${primaryId}.c1.us-east-1.rds.amazonaws.com`;
        const replicaEndpoint = `${replicaId}.c2.us-west-2.rds.amazonaws.com`;
        const m: Model = {
          now: T0 + 10 * SEC,
          writer: primaryEndpoint,
          writerTtl: oldTtl,
          changes: new Map(),
          received: 0,
          journal: [],
          seq: 0,
        };
        let failover: PlanInput['failover'];
        const outage = health(
          { 'us-east-1a': 'Impaired', 'us-east-1b': 'Impaired' },
          { evidence: { 'us-east-1': { downDatabases: [primaryId] } } },
        );

        for (const step of steps) {
          m.now += step.dt * SEC;
          const promoted = m.replicaPromotedAt !== undefined && m.now >= m.replicaPromotedAt + 120 * SEC;
          const promoting = m.replicaPromotedAt !== undefined && !promoted;
          const lag =
            step.lag === 'fresh'
              ? { lagSeconds: 4, lagAt: m.now - 30 * SEC }
              : step.lag === 'stale'
                ? { lagSeconds: 4, lagAt: m.now - 600 * SEC }
                : step.lag === 'negative'
                  ? { lagSeconds: -1, lagAt: m.now }
                  : {};
          const { lagSeconds: _l, lagAt: _a, ...replicaBase } = replicaDb({ id: replicaId, endpoint: replicaEndpoint });
          const replica = promoted
            ? { ...replicaBase, replicaSourceId: undefined, status: 'available' }
            : { ...replicaBase, ...lag, status: promoting ? 'modifying' : 'available' };
          const changeId = failover?.fence?.changeId;
          const insyncAt = changeId === undefined ? undefined : m.changes.get(changeId);
          const i: PlanInput = {
            ...input({
              health: outage,
              cloud: {
                ...cloud({
                  databases: [primaryDb({ id: primaryId, endpoint: primaryEndpoint, status: 'unreachable' }), replica],
                  writer: m.writer,
                }),
                at: m.now,
                ...(changeId === undefined || insyncAt === undefined
                  ? {}
                  : { fenceChange: { id: changeId, status: m.now >= insyncAt ? 'INSYNC' : 'PENDING' } }),
              },
              journal: m.journal,
              now: m.now,
              ...(failover ? { failover } : {}),
            }),
            policy: p0,
          };
          i.cloud.writer = { ...i.cloud.writer!, ttl: m.writerTtl };

          const p = plan(i);
          failover = p.failover ?? failover; // saved before the actions run (policy-engine.ts)

          for (const a of p.actions) {
            expect(a.id.length).toBeLessThanOrEqual(MAX_ACTION_ID_LENGTH);
            if (a.action.kind === 'SetWriterRecord') {
              // Once settled on the replica, nothing points the writer elsewhere (only an abort before promotion could).
              if (m.received > 0) expect(a.action.value).toBe(replicaEndpoint);
              if (step.writer === 'failed') {
                m.journal = bound([...m.journal, { ...entry(a, 'Failed', m.now), error: 'timeout' }]);
                continue;
              }
              const id = `C${++m.seq}`;
              const at = m.now + (step.writer === 'insync' ? 0 : step.insyncAfter * SEC);
              m.changes.set(id, at);
              m.writer = a.action.value;
              m.writerTtl = 30;
              if (a.action.value === replicaEndpoint) m.fenceInSync = at;
              const e = entry(a, 'Done', m.now);
              m.journal = bound([
                ...m.journal,
                step.writer === 'insync'
                  ? { ...e, requestToken: id, detail: `change ${id} INSYNC` }
                  : { ...e, requestToken: id, detail: `change ${id} still PENDING` },
              ]);
            } else if (a.action.kind === 'PromoteReplica') {
              // Never a second call RDS would see while it has one, and never before the fence holds (PB-7).
              expect(m.received).toBe(0);
              expect(m.fenceInSync).toBeDefined();
              expect(m.now).toBeGreaterThanOrEqual(m.fenceInSync! + Math.max(oldTtl, 30) * SEC);
              expect(m.writer).toBe(replicaEndpoint);
              if (step.promote !== 'lost') {
                m.received++;
                m.replicaPromotedAt = m.now;
              }
              const state =
                step.promote === 'received-done' ? 'Done' : step.promote === 'received-unsaved' ? 'Pending' : 'Failed';
              m.journal = bound([...m.journal, entry(a, state, m.now)]);
            } else {
              m.journal = bound([...m.journal, entry(a, 'Done', m.now)]);
            }
          }
          // Other work (launches, restores of another incident) pushes old entries out of the bounded journal.
          for (let k = 0; k < step.filler; k++) {
            const id = `launch/us-west-2/${m.seq}/${k}`;
            m.journal = bound([
              ...m.journal,
              {
                id,
                action: 'LaunchReplacements',
                target: 't',
                rule: 'PB-4',
                state: 'Done',
                startedAt: iso(m.now),
                finishedAt: iso(m.now),
              },
            ]);
          }
          m.seq++;
          if (m.received > 0 && promoted) {
            // Settled or settling: the plan's writer is the promoted replica, whatever the journal still holds.
            expect(p.desiredWriter?.dbInstanceIdentifier).toBe(replicaId);
          }
        }
        expect(m.received).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });
});
