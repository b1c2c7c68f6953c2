// Reading the journal: what was done, what is pending (the executor may have crashed after sending), what failed,
// and which database failover epoch is the latest. The journal is the intent log the executor writes before and
// after every action (DESIGN.md); the planner reads it to resume, never to decide what the cloud looks like.

import type { JournalState } from '../api/index.ts';
import { epochTime, type FailoverStep, type FailoverTrigger, parseFailoverId } from './action-ids.ts';

export type { JournalState };

/** The journal fields the planner reads (a structural subset of the API's JournalEntry). */
export interface JournalRecord {
  id: string;
  action: string;
  target: string;
  state: JournalState | (string & {});
  startedAt: string; // RFC 3339
  finishedAt?: string;
}

export interface FailoverEpochRecord {
  epoch: string;
  trigger: FailoverTrigger;
  fromId?: string;
  toId?: string;
  steps: Partial<Record<FailoverStep, JournalRecord>>;
}

export interface JournalView {
  /** The latest entry with this id (an id may be journaled again when a Pending action is re-issued). */
  entry(id: string): JournalRecord | undefined;
  isDone(id: string): boolean;
  /** When the latest Done entry of this action kind finished (epoch ms), and its id. */
  lastDone(action: string): { id: string; at: number } | undefined;
  /** Database failover epochs, oldest first. */
  failoverEpochs: FailoverEpochRecord[];
  latestFailoverEpoch: FailoverEpochRecord | undefined;
}

export function parseTime(rfc3339: string | undefined): number | undefined {
  if (rfc3339 === undefined) return undefined;
  const ms = Date.parse(rfc3339);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Entries in the order they happened, ties broken by id: the journal's own order never matters. */
function chronological(journal: readonly JournalRecord[]): JournalRecord[] {
  const at = (e: JournalRecord) => parseTime(e.startedAt) ?? 0;
  return [...journal].sort((a, b) => at(a) - at(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) || rank(a) - rank(b));
}

/** For the same id and start time, a later state wins (Pending < Failed < Done). */
function rank(e: JournalRecord): number {
  return e.state === 'Done' ? 3 : e.state === 'Failed' ? 2 : e.state === 'Skipped' ? 1 : 0;
}

export function readJournal(journal: readonly JournalRecord[]): JournalView {
  const latest = new Map<string, JournalRecord>();
  for (const e of chronological(journal)) latest.set(e.id, e);

  const lastDoneByAction = new Map<string, { id: string; at: number }>();
  const epochs = new Map<string, FailoverEpochRecord>();
  for (const e of latest.values()) {
    if (e.state === 'Done') {
      const at = parseTime(e.finishedAt) ?? parseTime(e.startedAt) ?? 0;
      const prev = lastDoneByAction.get(e.action);
      if (!prev || at > prev.at || (at === prev.at && e.id > prev.id)) lastDoneByAction.set(e.action, { id: e.id, at });
    }
    const parsed = parseFailoverId(e.id);
    if (!parsed) continue;
    const rec = epochs.get(parsed.epoch) ?? { epoch: parsed.epoch, trigger: parsed.trigger, steps: {} };
    if (parsed.fromId !== undefined) rec.fromId ??= parsed.fromId;
    // The target is recorded by phase 1 (fence); a promote/writer step names it too, after the fact.
    if (parsed.toId !== undefined && (rec.toId === undefined || parsed.step.startsWith('fence')))
      rec.toId = parsed.toId;
    rec.steps[parsed.step] = e;
    epochs.set(parsed.epoch, rec);
  }
  const timeOf = epochTime;
  const failoverEpochs = [...epochs.values()].sort((a, b) =>
    timeOf(a.epoch) < timeOf(b.epoch) ? -1 : timeOf(a.epoch) > timeOf(b.epoch) ? 1 : a.epoch < b.epoch ? -1 : 1,
  );

  return {
    entry: (id) => latest.get(id),
    isDone: (id) => latest.get(id)?.state === 'Done',
    lastDone: (action) => lastDoneByAction.get(action),
    failoverEpochs,
    latestFailoverEpoch: failoverEpochs.at(-1),
  };
}
