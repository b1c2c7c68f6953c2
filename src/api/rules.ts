/**
 * The playbook's rule ids (PLAYBOOK.md). Code, Events, journal entries and drill reports cite them, e.g.
 * `PB-3 skipped RebootDBInstance on orders-db: zone us-east-1a impaired`. This is the only list of them.
 */
export const RULE_TITLES = {
  'PB-1': 'Detect before users do',
  'PB-2': 'Decide per zone, then per region',
  'PB-3': 'Never act inside the impaired zone',
  'PB-4': 'Capacity goes where the zones are healthy',
  'PB-5': "Drain, don't kill",
  'PB-6': 'Fail over the database across regions when the region is impaired',
  'PB-7': 'One writable primary',
  'PB-8': "Don't stampede the control plane",
  'PB-9': 'Hysteresis both ways',
  'PB-10': 'Failback is deliberate',
  'PB-11': 'Every step is explained',
  'PB-12': 'Practise',
} as const;

export type RuleId = keyof typeof RULE_TITLES;

/** All rule ids in playbook order. */
export const RULE_IDS = Object.keys(RULE_TITLES) as RuleId[];

/** Named aliases, so call sites read as intent: `Rule.NeverActInImpairedZone` instead of `'PB-3'`. */
export const Rule = {
  DetectEarly: 'PB-1',
  ZoneThenRegion: 'PB-2',
  NeverActInImpairedZone: 'PB-3',
  CapacityToHealthyZones: 'PB-4',
  DrainDontKill: 'PB-5',
  CrossRegionDatabaseFailover: 'PB-6',
  OneWritablePrimary: 'PB-7',
  DontStampede: 'PB-8',
  Hysteresis: 'PB-9',
  DeliberateFailback: 'PB-10',
  ExplainEveryStep: 'PB-11',
  Practise: 'PB-12',
} as const satisfies Record<string, RuleId>;

export function isRuleId(value: unknown): value is RuleId {
  return typeof value === 'string' && Object.hasOwn(RULE_TITLES, value);
}

/** `PB-3 Never act inside the impaired zone`, for Events, logs and reports. */
export function describeRule(id: RuleId): string {
  return `${id} ${RULE_TITLES[id]}`;
}
