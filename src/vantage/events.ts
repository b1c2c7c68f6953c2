// Events of a vantage policy's agreement (#14), from one reconcile's agreement and the previous one. Pure.
// - VantageAgreement (Normal, or Warning when it is not Healthy): an agreed zone or region state changed and this
//   vantage acts on it; the message names the members behind it.
// - VantageDisagreement (Warning): this vantage sees a zone or region worse than its members agree on — a partition
//   between it and the target is likely; it does not act on its own view there. Only once a peer that says better
//   published its verdict at least DISAGREEMENT_GRACE_MS after this vantage's own state began: at the start of a
//   real outage every vantage sees it before its peers' verdicts say so, and that is not a disagreement.
// - ActingAlone (Warning): fewer than quorum members are fresh; only what whenAlone allows is done.
// Each is emitted when its condition starts (or, for agreement, changes), not on every reconcile; the recorder
// aggregates repeats anyway.

import type { EventSpec } from '../runtime/index.ts';
import { type AgreementResult, type ScopeAgreement, STATE_RANK, type VantageSettings } from './agreement.ts';

/** How long after this vantage's state began a peer's better verdict must be published to count as disagreeing. */
export const DISAGREEMENT_GRACE_MS = 20_000;

/** This vantage sees worse than the members agree on, and a peer said better well after it began to. */
export function confirmedDisagreement(s: ScopeAgreement, self: string): boolean {
  if (s.alone || STATE_RANK[s.local] <= STATE_RANK[s.agreed]) return false;
  return s.votes.some(
    (v) =>
      v.vantage !== self && STATE_RANK[v.state] < STATE_RANK[s.local] && v.at >= s.localSince + DISAGREEMENT_GRACE_MS,
  );
}

const label = (s: ScopeAgreement) => (s.scope === 'zone' ? `zone ${s.name}` : `region ${s.name}`);
const key = (s: ScopeAgreement) => `${s.scope}/${s.region}/${s.name}`;

export function agreementEvents(
  settings: VantageSettings,
  agreement: AgreementResult,
  previous: AgreementResult | undefined,
): EventSpec[] {
  const before = new Map((previous?.scopes ?? []).map((s) => [key(s), s]));
  const out: EventSpec[] = [];
  const votes = (s: ScopeAgreement) => s.votes.map((v) => `${v.vantage}=${v.state}`).join(', ');
  for (const s of agreement.scopes) {
    const was = before.get(key(s));
    if (!s.alone && was !== undefined && was.agreed !== s.agreed) {
      out.push({
        type: s.agreed === 'Healthy' ? 'Normal' : 'Warning',
        reason: 'VantageAgreement',
        message: `${label(s)} agreed ${s.agreed} (was ${was.agreed}) by quorum ${settings.quorum} of ${settings.members.length} (${votes(s)}); vantage ${settings.self} acts on it`,
      });
    }
    const disagrees = confirmedDisagreement(s, settings.self);
    const disagreed = was !== undefined && confirmedDisagreement(was, settings.self);
    if (disagrees && !disagreed) {
      out.push({
        type: 'Warning',
        reason: 'VantageDisagreement',
        message: `vantage ${settings.self} sees ${label(s)} ${s.local}, but the members agree on ${s.agreed} (${votes(s)}): not acting on its own view; check the network between ${settings.self}${settings.selfRegion ? ` (${settings.selfRegion})` : ''} and ${s.region}`,
      });
    }
  }
  if (agreement.alone && !(previous?.alone ?? false)) {
    const alone = agreement.scopes.filter((s) => s.alone);
    out.push({
      type: 'Warning',
      reason: 'ActingAlone',
      message: `vantage ${settings.self} sees fresh verdicts from ${agreement.freshMembers} of ${settings.members.length} members (quorum ${settings.quorum}) for ${alone.length} zones/regions: draining on its own evidence is ${settings.whenAlone.drain ? 'allowed' : 'off'}, promoting is ${settings.whenAlone.promote ? 'allowed' : 'off'} (spec.vantagePoints.whenAlone)`,
    });
  }
  return out;
}
