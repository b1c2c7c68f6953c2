// The status journal (DESIGN "The journal makes it crash-safe"): pure helpers, no I/O. Intent is recorded BEFORE the
// AWS call (state Pending), the outcome after (Done / Failed / Skipped). On restart the planner and the executor
// read it: an action Done is never re-issued (no double promotion, PB-7); one left Pending means "the call may or
// may not have happened", and the observation decides.
//
// The journal lives in the policy's status, so it is bounded: the newest MAX_JOURNAL_ENTRIES are kept, and a
// Pending entry is never dropped (it is the evidence of an action in flight).
//
// Timestamps are RFC 3339 strings, as Kubernetes status fields are; `now` arrives as epoch ms (injected clock).

import { isRuleId, type JournalEntry, type JournalState, LIMITS, type RuleId } from '../api/index.ts';
import type { PlannedAction } from '../decide/types.ts';

export type { JournalEntry, JournalState };

/** The status schema's limits (src/api/policy-schema.ts): an over-long field would make the status write fail. */
const MAX_ERROR_CHARS = 2048;
const MAX_DETAIL_CHARS = 1024;
const MAX_ID_CHARS = 128;

/** status.journal's maxItems (50). */
export const MAX_JOURNAL_ENTRIES: number = LIMITS.journal;

const iso = (epochMs: number): string => new Date(epochMs).toISOString();
const clip = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

/** A rule id the journal can store; anything else is a planner bug, reported rather than written. */
export function asRuleId(rule: string): RuleId {
  if (!isRuleId(rule)) throw new Error(`unknown playbook rule ${rule}`);
  return rule;
}

export function findEntry(journal: readonly JournalEntry[], id: string): JournalEntry | undefined {
  return journal.find((e) => e.id === id);
}

/**
 * The failed attempts an action continues: its own entry when that last failed, else — for an action with a new id
 * (a plan whose target weights moved while Route 53 kept failing) — the newest entry of the same kind on the same
 * target, when that one failed. A success, a skip or an entry in flight on that target ends the streak. So a retry
 * storm cannot restart its backoff at the base by changing what it asks for (PB-8: the API that fails is the same).
 */
export function failingStreak(
  journal: readonly JournalEntry[],
  action: Pick<PlannedAction, 'id' | 'target'> & { action: { kind: string } },
): JournalEntry | undefined {
  const own = findEntry(journal, action.id);
  if (own) return own.state === 'Failed' ? own : undefined;
  for (let i = journal.length - 1; i >= 0; i--) {
    const e = journal[i]!;
    if (e.action === action.action.kind && e.target === action.target) return e.state === 'Failed' ? e : undefined;
  }
  return undefined;
}

/**
 * Records the intent to perform `action` (state Pending). An earlier entry with the same id (Failed, Skipped, or a
 * Pending left by a crash) is replaced and moves to the newest position; `attempts` counts the intents (a new id
 * that continues another action's failing streak counts on from its attempts).
 */
export function recordIntent(
  journal: readonly JournalEntry[],
  action: PlannedAction,
  now: number,
  requestToken?: string,
): JournalEntry[] {
  if (action.id.length > MAX_ID_CHARS) throw new Error(`action id longer than ${MAX_ID_CHARS}: ${action.id}`);
  // A new id that continues another's failures (failingStreak) counts on from them, so its backoff keeps growing.
  const prior = findEntry(journal, action.id) ?? failingStreak(journal, action);
  const entry: JournalEntry = {
    id: action.id,
    action: action.action.kind,
    target: action.target,
    ...(action.zone !== undefined && { zone: action.zone }),
    ...(action.region !== undefined && { region: action.region }),
    rule: asRuleId(action.rule),
    state: 'Pending',
    startedAt: iso(now),
    attempts: (prior?.attempts ?? 0) + 1,
    ...(requestToken !== undefined && { requestToken }),
  };
  return bound([...journal.filter((e) => e.id !== action.id), entry]);
}

export function recordDone(
  journal: readonly JournalEntry[],
  id: string,
  now: number,
  detail?: string,
  requestToken?: string,
): JournalEntry[] {
  return finish(journal, id, (e) => ({
    ...withoutOutcome(e),
    state: 'Done',
    finishedAt: iso(now),
    ...(detail !== undefined && { detail: clip(detail, MAX_DETAIL_CHARS) }),
    ...(requestToken !== undefined && { requestToken }),
  }));
}

export function recordFailed(journal: readonly JournalEntry[], id: string, now: number, error: string): JournalEntry[] {
  return finish(journal, id, (e) => ({
    ...withoutOutcome(e),
    state: 'Failed',
    finishedAt: iso(now),
    error: clip(error, MAX_ERROR_CHARS),
  }));
}

/**
 * Records that the action was not performed and why, citing the rule that refused it (PB-3 for an impaired zone):
 * skipped actions are recorded, never silently dropped.
 */
export function recordSkipped(
  journal: readonly JournalEntry[],
  id: string,
  now: number,
  rule: string,
  reason: string,
): JournalEntry[] {
  return finish(journal, id, (e) => ({
    ...withoutOutcome(e),
    state: 'Skipped',
    rule: asRuleId(rule),
    finishedAt: iso(now),
    detail: clip(reason, MAX_DETAIL_CHARS),
  }));
}

/** Keeps the newest `max` entries, dropping the oldest finished ones first; Pending entries always stay. */
export function bound(journal: readonly JournalEntry[], max = MAX_JOURNAL_ENTRIES): JournalEntry[] {
  let excess = journal.length - max;
  if (excess <= 0) return [...journal];
  const kept: JournalEntry[] = [];
  for (const entry of journal) {
    if (excess > 0 && entry.state !== 'Pending') {
      excess--;
      continue;
    }
    kept.push(entry);
  }
  return kept;
}

function withoutOutcome(entry: JournalEntry): JournalEntry {
  const { finishedAt: _f, error: _e, detail: _d, ...rest } = entry;
  return rest;
}

function finish(
  journal: readonly JournalEntry[],
  id: string,
  update: (entry: JournalEntry) => JournalEntry,
): JournalEntry[] {
  const index = journal.findIndex((e) => e.id === id);
  if (index < 0) throw new Error(`journal has no entry ${id}: intent must be recorded before the outcome`);
  const next = [...journal];
  next[index] = update(journal[index]!);
  return bound(next);
}
