// Gates: what a plan waits for before it can go on (cooldown, lag, approval, recovery window, …). Each gate cites
// the rule that imposes it and says in one sentence what would open it.

import { judgeLag, type LagBudget, type ObservedDb } from './standby-selection.ts';
import type { PlanGate } from './types.ts';

export interface Cooldown {
  active: boolean;
  /** When the cooldown ends (epoch ms), if one is running. */
  until?: number;
}

/** PB-9: no new traffic change within cooldownMs of the last completed one. */
export function trafficCooldown(lastChangeAt: number | undefined, cooldownMs: number, now: number): Cooldown {
  if (lastChangeAt === undefined) return { active: false };
  const until = lastChangeAt + cooldownMs;
  return until > now ? { active: true, until } : { active: false };
}

export const gate = {
  cooldown: (until: number | undefined, what: string): PlanGate => ({
    kind: 'Cooldown',
    rule: 'PB-9',
    message: `${what} held until the traffic cooldown ends`,
    ...(until === undefined ? {} : { until }),
  }),
  recoveryWindow: (records: string[], until: number | undefined, why: string): PlanGate => ({
    kind: 'RecoveryWindow',
    rule: 'PB-10',
    message: `traffic to recovered ${records.length === 1 ? 'record' : 'records'} ${records.join(', ')} held: ${why}`,
    ...(until === undefined ? {} : { until }),
  }),
  noHealthyTarget: (excluded: string): PlanGate => ({
    kind: 'NoHealthyTarget',
    rule: 'PB-5',
    message: `no record can take traffic (${excluded}); current weights kept, never all zero`,
  }),
  dnsPropagation: (change: string, what: string, until?: number): PlanGate => ({
    kind: 'DnsPropagation',
    rule: 'PB-7',
    message: `${what} waits for DNS change ${change} to propagate`,
    ...(until === undefined ? {} : { until }),
  }),
  replicaLag: (db: ObservedDb, budget: LagBudget): PlanGate => {
    const verdict = judgeLag(db, budget);
    const why = verdict.ok ? `lag ${verdict.lagSeconds}s` : verdict.text;
    return {
      kind: 'ReplicaLag',
      rule: 'PB-6',
      target: db.id,
      message: `replica ${db.id} not promoted: ${why}; it needs a fresh, non-negative lag datapoint within the ${budget.maxLagSeconds}s RPO budget (failoverctl failover --allow-data-loss overrides)`,
    };
  },
  approval: (replicaId: string, why = 'promotion is Manual'): PlanGate => ({
    kind: 'Approval',
    rule: 'PB-6',
    target: replicaId,
    message: `${why}: promoting ${replicaId} waits for failoverctl approve (approval id ${replicaId})`,
  }),
  databaseBusy: (replicaId: string, why: string): PlanGate => ({
    kind: 'DatabaseBusy',
    rule: 'PB-6',
    message: `${replicaId} ${why}`,
  }),
  multiplePrimaries: (ids: string[]): PlanGate => ({
    kind: 'MultiplePrimaries',
    rule: 'PB-7',
    message: `${ids.join(', ')} are all writable primaries: no database action until only one is (re-seed the stale one as a replica)`,
  }),
  noStandby: (why: string): PlanGate => ({ kind: 'NoStandby', rule: 'PB-6', message: why }),
  insufficientEvidence: (region: string, missing: readonly string[]): PlanGate => ({
    kind: 'InsufficientEvidence',
    rule: 'PB-6',
    message: `region ${region} is Impaired, but a promotion needs independent evidence: ${missing.join('; ')}`,
  }),
  promotionLocked: (replicaId: string, refusal: string): PlanGate => ({
    kind: 'PromotionLocked',
    rule: 'PB-6',
    target: replicaId,
    message: `${refusal}; ${replicaId} is not promoted (one promotion per failover: the holder's target is the writer)`,
  }),
  drill: (drill: string): PlanGate => ({
    kind: 'Drill',
    rule: 'PB-12',
    message: `live drill ${drill} rehearses this outage: the production database is not failed over (set the drill's spec.allowPromotion to rehearse a promotion, which then waits for failoverctl approve)`,
  }),
};
