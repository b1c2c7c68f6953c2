// status.vantages of a vantage policy (#14): each member's latest verdict and its age, whether agreement was
// reached, and where this vantage sees worse than its members agree on (it does not act there).

import type { VantageStatus } from '../api/index.ts';
import { type AgreementResult, type PeerVerdicts, STATE_RANK, type VantageSettings } from './agreement.ts';

export function vantageStatus(
  settings: VantageSettings,
  result: AgreementResult,
  peers: PeerVerdicts,
  now: number,
): VantageStatus {
  const iso = (ms: number) => new Date(ms).toISOString();
  const disagreements = result.scopes
    .filter((s) => STATE_RANK[s.local] > STATE_RANK[s.agreed])
    .map((s) => ({
      scope: s.scope,
      name: s.name,
      region: s.region,
      local: s.local,
      agreed: s.agreed,
      reporting: s.votes.filter((v) => STATE_RANK[v.state] >= STATE_RANK[s.local]).map((v) => v.vantage),
    }));
  return {
    self: settings.self,
    ...(settings.selfRegion ? { region: settings.selfRegion } : {}),
    quorum: settings.quorum,
    fresh: result.freshMembers,
    agreement: result.alone ? 'Alone' : 'Reached',
    ...(peers.readAt !== undefined ? { readAt: iso(peers.readAt) } : {}),
    ...(peers.readError ? { readError: peers.readError.slice(0, 1024) } : {}),
    members: result.members.map((m) => ({
      name: m.name,
      ...(m.self ? { self: true } : {}),
      ...(m.verdictAt !== undefined
        ? { verdictAt: iso(m.verdictAt), ageSeconds: Math.max(0, Math.floor((now - m.verdictAt) / 1000)) }
        : {}),
      fresh: m.fresh,
      ...(m.impaired.length > 0 ? { impaired: m.impaired } : {}),
      ...(m.degraded.length > 0 ? { degraded: m.degraded } : {}),
    })),
    ...(disagreements.length > 0 ? { disagreements: disagreements.slice(0, 64) } : {}),
  };
}
