import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PlannedAction } from '../decide/types.ts';
import {
  bound,
  findEntry,
  type JournalEntry,
  MAX_JOURNAL_ENTRIES,
  recordDone,
  recordFailed,
  recordIntent,
  recordSkipped,
} from './journal.ts';

const reboot: PlannedAction = {
  id: 'reboot/orders/1',
  action: { kind: 'RebootDBInstance', region: 'us-east-1', dbInstanceIdentifier: 'orders' },
  rule: 'PB-3',
  target: 'orders',
  region: 'us-east-1',
  zone: 'us-east-1a',
  reason: 'stuck',
};

const T0 = Date.UTC(2011, 3, 21, 8, 0, 0);

describe('journal', () => {
  it('records intent as Pending, then the outcome, with RFC 3339 times', () => {
    let j = recordIntent([], reboot, T0, 'tok');
    expect(j).toEqual([
      {
        id: 'reboot/orders/1',
        action: 'RebootDBInstance',
        target: 'orders',
        zone: 'us-east-1a',
        region: 'us-east-1',
        rule: 'PB-3',
        state: 'Pending',
        startedAt: '2011-04-21T08:00:00.000Z',
        attempts: 1,
        requestToken: 'tok',
      },
    ]);
    j = recordDone(j, reboot.id, T0 + 1_000, 'rebooted');
    expect(findEntry(j, reboot.id)).toMatchObject({
      state: 'Done',
      finishedAt: '2011-04-21T08:00:01.000Z',
      detail: 'rebooted',
    });
  });

  it('records failures and skips with the rule that refused', () => {
    const failed = recordFailed(recordIntent([], reboot, T0), reboot.id, T0, 'boom');
    expect(findEntry(failed, reboot.id)).toMatchObject({ state: 'Failed', error: 'boom' });
    const skipped = recordSkipped(
      recordIntent([], { ...reboot, rule: 'PB-9' }, T0),
      reboot.id,
      T0,
      'PB-3',
      'zone us-east-1a impaired',
    );
    expect(findEntry(skipped, reboot.id)).toMatchObject({
      state: 'Skipped',
      rule: 'PB-3',
      detail: 'zone us-east-1a impaired',
    });
  });

  it('replaces an earlier entry of the same action on a new intent and clears its outcome', () => {
    const failed = recordFailed(recordIntent([], reboot, T0), reboot.id, T0, 'boom');
    const again = recordIntent(failed, reboot, T0 + 60_000);
    expect(again).toHaveLength(1);
    expect(again[0]).toMatchObject({ state: 'Pending', startedAt: '2011-04-21T08:01:00.000Z' });
    expect(again[0]?.error).toBeUndefined();
    expect(again[0]?.attempts).toBe(2);
  });

  it('clips error and detail to the status schema limits and rejects unknown rules', () => {
    const failed = recordFailed(recordIntent([], reboot, T0), reboot.id, T0, 'x'.repeat(5_000));
    expect(findEntry(failed, reboot.id)?.error).toHaveLength(2048);
    const done = recordDone(recordIntent([], reboot, T0), reboot.id, T0, 'y'.repeat(5_000));
    expect(findEntry(done, reboot.id)?.detail).toHaveLength(1024);
    // The type forbids unknown rules; the runtime guard covers input that bypassed it (e.g. parsed JSON).
    const unknownRule = { ...reboot, rule: 'PB-99' } as unknown as typeof reboot;
    expect(() => recordIntent([], unknownRule, T0)).toThrow(/unknown playbook rule/);
  });

  it('refuses an outcome without an intent', () => {
    expect(() => recordDone([], 'nope', T0)).toThrow(/intent/);
  });

  it('keeps the newest 50 and never drops a Pending entry', () => {
    const entry = (i: number, state: JournalEntry['state']): JournalEntry => ({
      id: `a${i}`,
      action: 'SetWeights',
      target: 't',
      rule: 'PB-5',
      state,
      startedAt: new Date(T0 + i).toISOString(),
    });
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom<JournalEntry['state']>('Pending', 'Done', 'Failed', 'Skipped'), { maxLength: 120 }),
        (states) => {
          const journal = states.map((s, i) => entry(i, s));
          const kept = bound(journal);
          const pending = journal.filter((e) => e.state === 'Pending');
          expect(kept.length).toBe(Math.max(Math.min(journal.length, MAX_JOURNAL_ENTRIES), pending.length));
          for (const p of pending) expect(kept).toContainEqual(p);
          // whatever finished entries were dropped are older than every finished entry kept
          const keptIds = new Set(kept.map((e) => e.id));
          const dropped = journal.filter((e) => !keptIds.has(e.id)).map((e) => Number(e.id.slice(1)));
          const keptFinished = kept.filter((e) => e.state !== 'Pending').map((e) => Number(e.id.slice(1)));
          if (dropped.length && keptFinished.length)
            expect(Math.max(...dropped)).toBeLessThan(Math.min(...keptFinished));
          // order preserved
          expect(kept).toEqual(journal.filter((e) => keptIds.has(e.id)));
        },
      ),
    );
  });

  it('bounds as it records: 60 done actions leave 50, a Pending from the start survives', () => {
    let j = recordIntent([], { ...reboot, id: 'in-flight' }, T0);
    for (let i = 0; i < 60; i++) {
      j = recordDone(recordIntent(j, { ...reboot, id: `a${i}` }, T0 + i), `a${i}`, T0 + i);
    }
    expect(j).toHaveLength(MAX_JOURNAL_ENTRIES);
    expect(j[0]?.id).toBe('in-flight');
    expect(j.at(-1)?.id).toBe('a59');
    expect(findEntry(j, 'a10')).toBeUndefined();
    expect(findEntry(j, 'a11')).toBeDefined();
  });
});
