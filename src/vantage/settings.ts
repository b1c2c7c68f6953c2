// spec.vantagePoints plus this operator's own vantage (FO_VANTAGE, FO_VANTAGE_REGION) → the agreement settings.

import type { FailoverPolicySpec } from '../api/index.ts';
import type { RegionName } from '../cloud/types.ts';
import { majority, type VantageSettings } from './agreement.ts';

export const DEFAULT_STALE_AFTER_SECONDS = 60;

/** spec.vantagePoints.staleAfterSeconds in ms, defaulted: a member's verdict older than this does not count. */
export function staleAfterMsOf(spec: FailoverPolicySpec): number {
  return (spec.vantagePoints?.staleAfterSeconds ?? DEFAULT_STALE_AFTER_SECONDS) * 1000;
}

/** This operator instance as a vantage point; undefined when it runs without --vantage. */
export interface OperatorVantage {
  name: string;
  region?: RegionName;
}

export type VantageMembership =
  /** The policy has no spec.vantagePoints: one operator decides, as always. */
  | { kind: 'single' }
  | { kind: 'member'; settings: VantageSettings }
  /** The policy names vantage points and this operator is not one of them: it must not act on the policy. */
  | { kind: 'not-a-member'; message: string };

export function vantageMembership(spec: FailoverPolicySpec, self: OperatorVantage | undefined): VantageMembership {
  const vp = spec.vantagePoints;
  if (!vp) return { kind: 'single' };
  const members = [...vp.members];
  if (!self) {
    return {
      kind: 'not-a-member',
      message: `spec.vantagePoints lists ${members.join(', ')}, but this operator runs without a vantage name: set --vantage (FO_VANTAGE, Helm value vantage.name) to one of them, or remove spec.vantagePoints to let a single operator decide`,
    };
  }
  if (!members.includes(self.name)) {
    return {
      kind: 'not-a-member',
      message: `this operator is vantage ${self.name}, which spec.vantagePoints.members (${members.join(', ')}) does not list: add it there, or run this operator with one of those names`,
    };
  }
  return {
    kind: 'member',
    settings: {
      self: self.name,
      ...(self.region ? { selfRegion: self.region } : {}),
      members,
      quorum: Math.min(vp.quorum ?? majority(members.length), members.length),
      staleAfterMs: staleAfterMsOf(spec),
      whenAlone: { drain: vp.whenAlone?.drain ?? true, promote: vp.whenAlone?.promote ?? false },
    },
  };
}
