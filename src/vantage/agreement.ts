// Agreement between vantage points (#14, docs/vantage-points.md). PURE: the local health view and the peers'
// latest verdicts in, the view the planner acts on and the status that explains it out.
//
// For each zone and region of the policy:
// - The voters are this vantage (its local view, always fresh) and every OTHER member whose latest verdict on that
//   zone or region is at most staleAfterMs old. A verdict from a name that is not a member never counts.
// - Agreement: when at least `quorum` voters are fresh, the state acted on is the quorum-th worst of their states.
//   With 3 members and quorum 2: Impaired, Impaired, Healthy → Impaired; Impaired, Healthy, Healthy → Healthy;
//   Impaired, Degraded, Healthy → Degraded. The rule is symmetric, so recovery needs a quorum too, and every vantage
//   that reads the same verdicts computes the same state (no vantage undoes what the others agreed).
// - Alone: fewer than `quorum` voters are fresh (the peers are silent, stale or unreadable). A zone keeps its local
//   state only if whenAlone.drain (else it is treated as Healthy: no drain); a region is capped at Degraded unless
//   whenAlone.promote (an Impaired region is what lets a database move, and that is irreversible).
// - The region's evidence (health-model rule 7) stays this vantage's own: a promotion still needs this vantage's own
//   hard-down evidence on top of the agreed Impaired region; a vantage that has not seen the outage itself leaves
//   the promotion to one that has (the promotion lock makes it one promotion in all).
// Reasons: an agreed state that is not the local one says so, and names the members behind it.
// Capacity (launches, restores, reboots) is left to one member, the first fresh one in members order: draining and
// promoting converge on their own (same weights; the promotion lock), launching does not (each vantage's idempotency
// token is its own).

import type { RegionName, ZoneName } from '../cloud/types.ts';
import type { HealthView, RegionHealth, ZoneHealth, ZoneState } from '../health/types.ts';
import { scopeKey, type VantageVerdict, type VerdictScope } from './verdict.ts';

export interface VantageSettings {
  /** This operator's vantage name. */
  self: string;
  /** The region this operator runs in, when known. */
  selfRegion?: RegionName;
  members: readonly string[];
  quorum: number;
  staleAfterMs: number;
  whenAlone: { drain: boolean; promote: boolean };
}

export interface PeerVerdicts {
  /** The latest verdict per member and scope, as last read (any age). */
  verdicts: readonly VantageVerdict[];
  /** When they were last read. */
  readAt?: number;
  /** Why the last read failed in every region, when it did. */
  readError?: string;
}

export interface ScopeAgreement {
  scope: VerdictScope;
  name: string;
  region: RegionName;
  local: ZoneState;
  /** Since when this vantage sees it in its local state. */
  localSince: number;
  agreed: ZoneState;
  /** Fresh voters (self included), what each said and when (self: the view's time). */
  votes: Array<{ vantage: string; state: ZoneState; at: number }>;
  alone: boolean;
}

export interface VantageMemberView {
  name: string;
  self: boolean;
  /** Publication time of its newest verdict (epoch ms). */
  verdictAt?: number;
  fresh: boolean;
  impaired: string[];
  degraded: string[];
}

export interface AgreementResult {
  /** The view the planner acts on. */
  view: HealthView;
  scopes: ScopeAgreement[];
  /** Fresh members (self included) counted over the whole policy: members with any fresh verdict. */
  freshMembers: number;
  /** True when some zone or region had fewer than quorum fresh voters. */
  alone: boolean;
  members: VantageMemberView[];
  /**
   * The member that acts on capacity (replacement launches, volume restores, reboots): the first member, in the
   * order of spec.vantagePoints.members, with a fresh verdict. Every vantage that reads the same verdicts names the
   * same one, so agreeing vantages launch one set of replacements, not one each.
   */
  capacityActor: string;
}

/** How bad a state is: a larger rank is worse. */
export const STATE_RANK: Readonly<Record<ZoneState, number>> = { Healthy: 0, Degraded: 1, Impaired: 2 };
const RANK = STATE_RANK;

/** The majority of n members: floor(n/2) + 1. */
export function majority(n: number): number {
  return Math.floor(n / 2) + 1;
}

/** The quorum-th worst state of `states` (quorum ≤ states.length). */
export function quorumState(states: readonly ZoneState[], quorum: number): ZoneState {
  const sorted = [...states].sort((a, b) => RANK[b] - RANK[a]);
  return sorted[Math.min(quorum, sorted.length) - 1] ?? 'Healthy';
}

function capAt(state: ZoneState, cap: ZoneState): ZoneState {
  return RANK[state] > RANK[cap] ? cap : state;
}

export function agree(settings: VantageSettings, local: HealthView, peers: PeerVerdicts, now: number): AgreementResult {
  const members = new Set(settings.members);
  // Latest verdict per (member, scope); the self's published verdicts are ignored in favour of its live view.
  const latest = new Map<string, VantageVerdict>();
  for (const v of peers.verdicts) {
    if (v.vantage === settings.self || !members.has(v.vantage)) continue;
    const key = `${v.vantage}|${scopeKey(v.scope, v.region, v.zone)}`;
    const seen = latest.get(key);
    if (!seen || v.sequence > seen.sequence) latest.set(key, v);
  }
  const isFresh = (v: VantageVerdict) => now - v.at <= settings.staleAfterMs;

  const scopes: ScopeAgreement[] = [];
  const judge = (
    scope: VerdictScope,
    name: string,
    region: RegionName,
    zone: ZoneName | undefined,
    localState: ZoneState,
    localSince: number,
    aloneState: (s: ZoneState) => ZoneState,
  ): ScopeAgreement => {
    const votes = [{ vantage: settings.self, state: localState, at: local.at }];
    for (const m of settings.members) {
      if (m === settings.self) continue;
      const v = latest.get(`${m}|${scopeKey(scope, region, zone)}`);
      if (v && isFresh(v)) votes.push({ vantage: m, state: v.state, at: v.at });
    }
    const alone = votes.length < settings.quorum;
    const agreed = alone
      ? aloneState(localState)
      : quorumState(
          votes.map((v) => v.state),
          settings.quorum,
        );
    const out: ScopeAgreement = { scope, name, region, local: localState, localSince, agreed, votes, alone };
    scopes.push(out);
    return out;
  };

  const zones: ZoneHealth[] = local.zones.map((z) => {
    const a = judge('zone', z.name, z.region, z.name, z.state, z.since, (s) =>
      settings.whenAlone.drain ? s : 'Healthy',
    );
    return a.agreed === z.state && !a.alone
      ? z
      : { ...z, state: a.agreed, reasons: [...agreementReasons(a, settings), ...z.reasons].slice(0, 16) };
  });
  const regions: RegionHealth[] = local.regions.map((r) => {
    const a = judge('region', r.name, r.name, undefined, r.state, r.since, (s) =>
      settings.whenAlone.promote ? s : capAt(s, 'Degraded'),
    );
    return a.agreed === r.state && !a.alone
      ? r
      : { ...r, state: a.agreed, reasons: [...agreementReasons(a, settings), ...r.reasons].slice(0, 16) };
  });

  const memberViews: VantageMemberView[] = settings.members.map((name) => {
    if (name === settings.self) {
      return {
        name,
        self: true,
        verdictAt: local.at,
        fresh: true,
        impaired: scopeNames(local, 'Impaired'),
        degraded: scopeNames(local, 'Degraded'),
      };
    }
    const own = [...latest.values()].filter((v) => v.vantage === name);
    const newest = own.reduce<VantageVerdict | undefined>((a, v) => (!a || v.at > a.at ? v : a), undefined);
    const freshOwn = own.filter(isFresh);
    const label = (v: VantageVerdict) => (v.scope === 'zone' ? (v.zone ?? '') : v.region);
    return {
      name,
      self: false,
      ...(newest ? { verdictAt: newest.at } : {}),
      fresh: freshOwn.length > 0,
      impaired: freshOwn
        .filter((v) => v.state === 'Impaired')
        .map(label)
        .sort(),
      degraded: freshOwn
        .filter((v) => v.state === 'Degraded')
        .map(label)
        .sort(),
    };
  });

  return {
    view: { ...local, zones, regions },
    scopes,
    freshMembers: memberViews.filter((m) => m.fresh).length,
    alone: scopes.some((s) => s.alone),
    members: memberViews,
    capacityActor: memberViews.find((m) => m.fresh)?.name ?? settings.self,
  };
}

function scopeNames(view: HealthView, state: ZoneState): string[] {
  return [
    ...view.zones.filter((z) => z.state === state).map((z) => z.name),
    ...view.regions.filter((r) => r.state === state).map((r) => r.name),
  ].sort();
}

function agreementReasons(a: ScopeAgreement, settings: VantageSettings): string[] {
  const votes = a.votes.map((v) => `${v.vantage} ${v.state}`).join(', ');
  if (a.alone) {
    const allowed = a.agreed === a.local;
    return [
      `acting alone: only ${a.votes.length} of ${settings.members.length} vantage points fresh (quorum ${settings.quorum}); ${
        allowed
          ? `own view ${a.local} kept (whenAlone allows it)`
          : `own view ${a.local} treated as ${a.agreed} (whenAlone.${a.scope === 'zone' ? 'drain' : 'promote'} is false)`
      }`,
    ];
  }
  return [
    `vantage agreement: ${a.agreed} (quorum ${settings.quorum} of ${settings.members.length}; fresh: ${votes})${
      a.agreed === a.local ? '' : `; this vantage sees ${a.local}`
    }`,
  ];
}
