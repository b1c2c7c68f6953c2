import { describe, expect, it } from 'vitest';
import { failoverIds, parseFailoverId, timeToken, weightsId } from './action-ids.ts';
import { type JournalRecord, readJournal } from './journal-view.ts';

const e = (
  id: string,
  state: string,
  startedAt: string,
  action = 'SetWeights',
  finishedAt?: string,
): JournalRecord => ({
  id,
  action,
  target: 't',
  state,
  startedAt,
  ...(finishedAt ? { finishedAt } : {}),
});

describe('readJournal', () => {
  it('reads the latest state of each id, whatever the journal order', () => {
    const journal = [
      e('x', 'Done', '2026-01-01T00:00:05Z'),
      e('x', 'Pending', '2026-01-01T00:00:00Z'),
      e('y', 'Failed', '2026-01-01T00:00:01Z'),
    ];
    for (const j of [journal, [...journal].reverse()]) {
      const view = readJournal(j);
      expect(view.entry('x')?.state).toBe('Done');
      expect(view.isDone('x')).toBe(true);
      expect(view.isDone('y')).toBe(false);
      expect(view.entry('zz')).toBeUndefined();
    }
  });

  it('finds when the last Done action of a kind finished', () => {
    const view = readJournal([
      e('w1', 'Done', '2026-01-01T00:00:00Z', 'SetWeights', '2026-01-01T00:00:02Z'),
      e('w2', 'Done', '2026-01-01T00:10:00Z', 'SetWeights', '2026-01-01T00:10:03Z'),
      e('w3', 'Failed', '2026-01-01T00:20:00Z', 'SetWeights', '2026-01-01T00:20:03Z'),
      e('p', 'Done', '2026-01-01T00:30:00Z', 'PromoteReplica'),
    ]);
    expect(view.lastDone('SetWeights')).toEqual({ id: 'w2', at: Date.parse('2026-01-01T00:10:03Z') });
    expect(view.lastDone('LaunchReplacements')).toBeUndefined();
  });

  it('groups failover steps by epoch, oldest first, with the target recorded by phase 1', () => {
    const old = 'auto-20250101T000000Z';
    const next = 'manual-20260101T000000Z';
    const view = readJournal([
      e(failoverIds.promote(next, 'orders'), 'Pending', '2026-01-01T00:01:00Z', 'PromoteReplica'),
      e(failoverIds.fenceWriter(next, 'orders-usw2', 'orders'), 'Done', '2026-01-01T00:00:00Z', 'SetWriterRecord'),
      e(failoverIds.fenceWriter(old, 'orders', 'orders-usw2'), 'Done', '2025-01-01T00:00:00Z', 'SetWriterRecord'),
    ]);
    expect(view.failoverEpochs.map((x) => x.epoch)).toEqual([old, next]);
    expect(view.latestFailoverEpoch).toMatchObject({
      epoch: next,
      trigger: 'manual',
      fromId: 'orders-usw2',
      toId: 'orders',
    });
    expect(view.latestFailoverEpoch?.steps.promote?.state).toBe('Pending');
  });
});

describe('action ids', () => {
  it('are deterministic and parse back', () => {
    expect(timeToken(Date.parse('2026-11-23T11:11:48.123Z'))).toBe('20261123T111148Z');
    const id = failoverIds.fenceWeights('auto-20261123T111148Z', 'orders', 'orders-usw2');
    expect(parseFailoverId(id)).toEqual({
      epoch: 'auto-20261123T111148Z',
      trigger: 'auto',
      step: 'fence-weights',
      fromId: 'orders',
      toId: 'orders-usw2',
    });
    expect(parseFailoverId('weights/initial/abc')).toBeUndefined();
    expect(weightsId('initial', { b: 1, a: 2 })).toBe(weightsId('initial', { a: 2, b: 1 }));
    expect(weightsId('initial', { a: 1 })).not.toBe(weightsId('initial', { a: 2 }));
  });
});
