// Gates: what a plan waits for before it can go on (cooldown, lag, approval, recovery window, …). Each gate cites
// the rule that imposes it and says in one sentence what would open it.

import type { ObservedDb } from './standby-selection.ts';
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
  replicaLag: (db: ObservedDb, maxLagSeconds: number): PlanGate => ({
    kind: 'ReplicaLag',
    rule: 'PB-6',
    message:
      db.lagSeconds === undefined
        ? `replica ${db.id} lag unknown: not promoted without a lag reading within the ${maxLagSeconds}s RPO budget (failoverctl failover --force overrides)`
        : `replica ${db.id} lag ${db.lagSeconds}s exceeds the ${maxLagSeconds}s RPO budget (failoverctl failover --force overrides)`,
  }),
  approval: (replicaId: string): PlanGate => ({
    kind: 'Approval',
    rule: 'PB-6',
    message: `promotion of ${replicaId} is Manual: waiting for failoverctl approve ${replicaId}`,
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
};
