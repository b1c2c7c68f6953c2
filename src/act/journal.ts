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
 * Records the intent to perform `action` (state Pending). An earlier entry with the same id (Failed, Skipped, or a
 * Pending left by a crash) is replaced and moves to the newest position; `attempts` counts the intents.
 */
export function recordIntent(
  journal: readonly JournalEntry[],
  action: PlannedAction,
  now: number,
  requestToken?: string,
): JournalEntry[] {
  if (action.id.length > MAX_ID_CHARS) throw new Error(`action id longer than ${MAX_ID_CHARS}: ${action.id}`);
  const prior = findEntry(journal, action.id);
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
