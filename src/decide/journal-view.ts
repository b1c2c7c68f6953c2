// Reading the journal: what was done, what is pending (the executor may have crashed after sending), what failed.
// The journal is the intent log the executor writes before and after every action (DESIGN.md) and it is bounded:
// old entries are trimmed. So it answers "was this step already done?" and "when did the last weight change
// finish?", never "where does a failover stand?" — that is the durable state machine in status.failover
// (database-failover.ts).

import type { JournalState } from '../api/index.ts';

export type { JournalState };

/** The journal fields the planner reads (a structural subset of the API's JournalEntry). */
export interface JournalRecord {
  id: string;
  action: string;
  target: string;
  state: JournalState | (string & {});
  startedAt: string; // RFC 3339
  finishedAt?: string;
  /** The change id or idempotency token sent to AWS. */
  requestToken?: string;
  detail?: string;
  /** The rule the outcome cites (a Skipped entry: the rule that refused it). */
  rule?: string;
  /** Why it failed (a Failed entry). */
  error?: string;
}

export interface JournalView {
  /** The latest entry with this id (an id may be journaled again when a Pending action is re-issued). */
  entry(id: string): JournalRecord | undefined;
  isDone(id: string): boolean;
  /** When the latest Done entry of this action kind finished (epoch ms), and its id. */
  lastDone(action: string): { id: string; at: number } | undefined;
  /** Entries held (the journal keeps at most LIMITS.journal: when full, older ones were trimmed). */
  size: number;
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
  for (const e of latest.values()) {
    if (e.state !== 'Done') continue;
    const at = parseTime(e.finishedAt) ?? parseTime(e.startedAt) ?? 0;
    const prev = lastDoneByAction.get(e.action);
    if (!prev || at > prev.at || (at === prev.at && e.id > prev.id)) lastDoneByAction.set(e.action, { id: e.id, at });
  }

  return {
    entry: (id) => latest.get(id),
    isDone: (id) => latest.get(id)?.state === 'Done',
    lastDone: (action) => lastDoneByAction.get(action),
    size: journal.length,
  };
}
