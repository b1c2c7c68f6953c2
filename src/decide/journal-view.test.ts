import { describe, expect, it } from 'vitest';
import { boundId, failoverIds, idPart, MAX_ACTION_ID_LENGTH, timeToken, weightsId } from './action-ids.ts';
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

  it('carries the change id and detail the executor recorded, and how many entries the journal holds', () => {
    const view = readJournal([
      {
        ...e('f', 'Done', '2026-01-01T00:00:00Z', 'SetWriterRecord'),
        requestToken: 'C123',
        detail: 'change C123 INSYNC',
      },
      e('f', 'Pending', '2026-01-01T00:00:00Z', 'SetWriterRecord'),
      e('g', 'Failed', '2026-01-01T00:00:01Z'),
    ]);
    expect(view.entry('f')).toMatchObject({ requestToken: 'C123', detail: 'change C123 INSYNC' });
    expect(view.size).toBe(3);
  });
});

describe('action ids', () => {
  it('are deterministic', () => {
    expect(timeToken(Date.parse('2026-11-23T11:11:48.123Z'))).toBe('20261123T111148Z');
    const id = failoverIds.fenceWeights('auto-20261123T111148Z', 'orders', 'orders-usw2');
    expect(id).toBe('failover/auto-20261123T111148Z/fence-weights/orders/orders-usw2');
    expect(failoverIds.promote('auto-20261123T111148Z', 'orders-usw2', 2)).toBe(
      'failover/auto-20261123T111148Z/promote/orders-usw2/2',
    );
    expect(weightsId('initial', { b: 1, a: 2 })).toBe(weightsId('initial', { a: 2, b: 1 }));
    expect(weightsId('initial', { a: 1 })).not.toBe(weightsId('initial', { a: 2 }));
  });

  it('stay within 128 characters with 63-character identifiers, and tell long look-alikes apart', () => {
    const a = `${'orders-primary-database-in-us-east-1-'.padEnd(62, 'x')}a`;
    const b = `${'orders-primary-database-in-us-east-1-'.padEnd(62, 'x')}b`;
    expect(a).toHaveLength(63);
    const epoch = 'failback-20261123T111148Z';
    for (const id of [
      failoverIds.fenceWriter(epoch, a, b),
      failoverIds.fenceWeights(epoch, a, b),
      failoverIds.promote(epoch, b, 12),
      failoverIds.writer(epoch, b),
      failoverIds.abortWriter(epoch, a),
    ]) {
      expect(id.length).toBeLessThanOrEqual(MAX_ACTION_ID_LENGTH);
    }
    expect(idPart(a)).not.toBe(idPart(b));
    expect(failoverIds.fenceWriter(epoch, a, b)).not.toBe(failoverIds.fenceWriter(epoch, b, a));
    expect(idPart('orders')).toBe('orders');
    expect(boundId('x'.repeat(300))).toHaveLength(MAX_ACTION_ID_LENGTH);
    expect(boundId('x'.repeat(300))).not.toBe(boundId(`${'x'.repeat(299)}y`));
  });
});
