// The measurements of a Live drill (PB-12), as pure functions of what the reconciler reads: the policy's health
// view (detection), its status weights and journal (traffic shifted, actions taken), the real-probe view (is there
// a real incident?). Times are epoch ms in, seconds out.

import type { DrillAction, DrillSkipped, FailoverPolicyStatus, JournalEntry, RuleId } from '../api/index.ts';
import type { HealthView } from '../health/types.ts';

/**
 * A zone or region that is not Healthy by the real probes alone (the drill's injected failure excluded), in words;
 * undefined when all is well. Before a drill this refuses the start; during one it aborts it — whether the real
 * failure is elsewhere or in the drilled zone itself.
 */
export function realIncident(real: HealthView): string | undefined {
  const parts = [
    ...real.zones
      .filter((z) => z.state !== 'Healthy')
      .map((z) => `zone ${z.name} is ${z.state}${z.reasons[0] ? ` (${z.reasons[0]})` : ''}`),
    ...real.regions
      .filter((r) => r.state !== 'Healthy')
      .map((r) => `region ${r.name} is ${r.state}${r.reasons[0] ? ` (${r.reasons[0]})` : ''}`),
  ];
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/** When the first drilled zone left Healthy after the injection (its `since`), or undefined. */
export function detectedAt(
  view: HealthView | undefined,
  zones: readonly string[],
  startedAtMs: number,
): number | undefined {
  const times = (view?.zones ?? [])
    .filter((z) => zones.includes(z.name) && z.state !== 'Healthy' && z.since >= startedAtMs)
    .map((z) => z.since);
  return times.length > 0 ? Math.min(...times) : undefined;
}

/**
 * When traffic left the drilled records: undefined until every one of them has weight 0 in the policy status;
 * then the finish time of the first SetWeights Done since the drill started (the one that drained them), else now.
 */
export function trafficShiftedAt(
  status: Partial<FailoverPolicyStatus> | undefined,
  records: readonly string[],
  startedAtMs: number,
  now: number,
): number | undefined {
  if (records.length === 0) return undefined;
  const weights = status?.weights ?? {};
  if (!records.every((id) => weights[id] === 0)) return undefined;
  const drains = journalSince(status?.journal, startedAtMs).filter(
    (e) => e.action === 'SetWeights' && e.state === 'Done' && e.finishedAt !== undefined,
  );
  const first = drains.map((e) => Date.parse(e.finishedAt!)).sort((a, b) => a - b)[0];
  return first ?? now;
}

/** True when every record has its pre-drill weight again in the policy status. */
export function weightsReturned(
  status: Partial<FailoverPolicyStatus> | undefined,
  preDrill: Readonly<Record<string, number>>,
): boolean {
  const weights = status?.weights ?? {};
  return Object.entries(preDrill).every(([id, w]) => weights[id] === w);
}

/** The policy's journal entries started at or after the drill started. */
export function journalSince(journal: readonly JournalEntry[] | undefined, startedAtMs: number): JournalEntry[] {
  return (journal ?? []).filter((e) => Date.parse(e.startedAt) >= startedAtMs);
}

/** Actions the engine performed and skipped during the drill, from the policy's journal (PB-11's trail). */
export function drillActionsFromJournal(
  journal: readonly JournalEntry[] | undefined,
  startedAtMs: number,
): { actions: DrillAction[]; skipped: DrillSkipped[] } {
  const entries = journalSince(journal, startedAtMs);
  const secondsAfter = (iso: string) => Math.max(0, Math.round((Date.parse(iso) - startedAtMs) / 100) / 10);
  const actions = entries
    .filter((e) => e.state === 'Done')
    .map(
      (e): DrillAction => ({
        kind: e.action,
        target: e.target,
        ...(e.zone === undefined ? {} : { zone: e.zone }),
        ...(e.region === undefined ? {} : { region: e.region }),
        rule: e.rule as RuleId,
        at: e.finishedAt ?? e.startedAt,
        scenarioSeconds: secondsAfter(e.finishedAt ?? e.startedAt),
      }),
    );
  const skipped = entries
    .filter((e) => e.state === 'Skipped' || e.state === 'Failed')
    .map(
      (e): DrillSkipped => ({
        kind: e.action,
        target: e.target,
        ...(e.zone === undefined ? {} : { zone: e.zone }),
        ...(e.region === undefined ? {} : { region: e.region }),
        rule: e.rule as RuleId,
        reason: (e.error ?? e.detail ?? e.state).slice(0, 1024),
        at: e.finishedAt ?? e.startedAt,
      }),
    );
  return { actions, skipped };
}
