/**
 * The cross-field rules of the failover.io API, each written once.
 *
 * A rule is standard CEL, attached to a schema node (`withRules`); inside it `self` is that node's value. The CRD
 * generator emits it as an `x-kubernetes-validations` entry, so the apiserver enforces it on every write, and the
 * offline validator (cel-eval.ts) evaluates the very same text with @bufbuild/cel, so `failoverctl validate` and the
 * operator reject exactly what the apiserver rejects, with the same message.
 *
 * Rules stay within what both engines support: has(), all(), exists(), exists_one(), filter(), map(), size(),
 * startsWith(), `in`, `? :` and concatenation of strings. No Kubernetes-only libraries (no sets, lists, format()).
 * The apiserver estimates each messageExpression's cost from the schema's bounds and rejects the CRD when it
 * cannot bound it. Two constructs lose the bounds: string(int) (messages name strings, not numbers), and a field
 * of an object taken from filter() (so messages pick names with `map(x, bad ? x.name : '').filter(n, n != '')`).
 * `messageExpression` names the offending value; it only runs when the rule failed, so it may assume what the rule
 * disproved. Rules that read `oldSelf` are transition rules: only the apiserver can check them.
 */

export interface CelRule {
  /** Stable id, used by tests and the docs. */
  readonly id: string;
  /** The CEL expression; true means valid. */
  readonly rule: string;
  /** A full sentence, used when messageExpression is absent or fails. */
  readonly message: string;
  /** A CEL expression producing the message, naming the bad value. */
  readonly messageExpression?: string;
  /** Where the error is reported, relative to the node the rule is attached to (e.g. `.zones`). */
  readonly fieldPath?: string;
  /** The apiserver's error type; Invalid unless a field is missing. */
  readonly reason?: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueForbidden';
  /** How to fix it (offline validator only). */
  readonly fix: string;
}

/** True when a rule compares against the previous object and so can only be checked by the apiserver. */
export function isTransitionRule(rule: CelRule): boolean {
  return /\boldSelf\b/.test(rule.rule);
}

// ---------------------------------------------------------------------------------------------------------------
// FailoverPolicy
// ---------------------------------------------------------------------------------------------------------------

/** Rules on `spec.regions` (self: the list of regions). */
export const regionListRules = {
  exactlyOnePrimary: {
    id: 'regions.exactlyOnePrimary',
    rule: "self.exists_one(r, r.role == 'primary')",
    message: 'regions must contain exactly one region with role primary.',
    messageExpression:
      "self.exists(r, r.role == 'primary') ? 'regions must contain exactly one region with role primary, but ' + self.map(r, r.role == 'primary' ? r.name : '').filter(n, n != '')[0] + ' and ' + self.map(r, r.role == 'primary' ? r.name : '').filter(n, n != '')[1] + ' both have it' : 'regions must contain exactly one region with role primary, but none has it'",
    fix: 'Set role: primary on the region that serves writes today and role: standby on every other region.',
  },
  uniqueNames: {
    id: 'regions.uniqueNames',
    rule: 'self.all(r, self.exists_one(o, o.name == r.name))',
    message: 'each region may be listed only once.',
    messageExpression:
      "'region ' + self.map(r, r.name).filter(n, !self.exists_one(o, o.name == n))[0] + ' is listed more than once; each region may be listed only once'",
    fix: 'Merge the duplicate entries into one region entry that lists all of its zones.',
  },
} as const satisfies Record<string, CelRule>;

/** Rules on each `spec.regions[i]` (self: one region). */
export const regionRules = {
  zonesInRegion: {
    id: 'region.zonesInRegion',
    rule: 'self.zones.all(z, z.startsWith(self.name))',
    fieldPath: '.zones',
    message: "every zone must belong to its region: a zone's name starts with the region's name.",
    messageExpression:
      "'zone ' + self.zones.filter(z, !z.startsWith(self.name))[0] + ' does not belong to region ' + self.name + ': a zone name starts with its region name, e.g. ' + self.name + 'a'",
    fix: 'Move the zone under the region it belongs to, or correct its name (us-east-1a belongs to us-east-1).',
  },
  uniqueZones: {
    id: 'region.uniqueZones',
    rule: 'self.zones.all(z, self.zones.exists_one(y, y == z))',
    fieldPath: '.zones',
    message: 'each zone may be listed only once.',
    messageExpression:
      "'zone ' + self.zones.filter(z, !self.zones.exists_one(y, y == z))[0] + ' is listed more than once in region ' + self.name",
    fix: 'Remove the duplicate zone.',
  },
} as const satisfies Record<string, CelRule>;

/** Rules on `spec.traffic.route53` (self: the Route 53 block). */
export const route53Rules = {
  uniqueSetIdentifiers: {
    id: 'route53.uniqueSetIdentifiers',
    rule: 'self.records.all(r, self.records.exists_one(o, o.setIdentifier == r.setIdentifier))',
    fieldPath: '.records',
    message: 'record setIdentifiers must be unique: Route 53 identifies each weighted record by it.',
    messageExpression:
      "'setIdentifier ' + self.records.map(r, r.setIdentifier).filter(n, !self.records.exists_one(o, o.setIdentifier == n))[0] + ' is used by more than one record; Route 53 identifies each weighted record by its setIdentifier'",
    fix: 'Give each record the SetIdentifier of a distinct weighted record in the hosted zone.',
  },
  someWeightNonZero: {
    id: 'route53.someWeightNonZero',
    rule: 'self.records.exists(r, r.weight > 0)',
    fieldPath: '.records',
    message:
      'at least one record needs a non-zero weight: when every weighted record has weight 0, Route 53 spreads traffic equally across all of them.',
    fix: 'Give the records that should serve traffic when everything is healthy a weight between 1 and 255.',
  },
} as const satisfies Record<string, CelRule>;

/** Rules on each `spec.traffic.route53.records[i]` (self: one record). */
export const recordRules = {
  zoneXorRegion: {
    id: 'record.zoneXorRegion',
    rule: 'has(self.zone) != has(self.region)',
    message: 'a record targets exactly one zone or one region: set zone or region, not both and not neither.',
    messageExpression:
      "'record ' + self.setIdentifier + ' must set exactly one of zone or region' + (has(self.zone) ? ', not both' : '')",
    fix: 'Set zone for a record that serves one availability zone, or region for one that serves a whole region.',
  },
} as const satisfies Record<string, CelRule>;

/** Rules on `spec.traffic.route53.dataPlane` (self: the dataPlane block). */
export const dataPlaneRules = {
  alarmPeriod: {
    id: 'dataPlane.alarmPeriod',
    rule: '!has(self.periodSeconds) || self.periodSeconds in [60, 120, 300]',
    fieldPath: '.periodSeconds',
    message:
      'dataPlane.periodSeconds must be 60, 120 or 300: Route 53 health checks follow alarms on standard-resolution metrics only, whose periods are whole minutes.',
    fix: 'Use 60 (fastest), 120 or 300.',
  },
} as const satisfies Record<string, CelRule>;

/** Rules on `spec.database.rds` (self: the RDS block). */
export const rdsRules = {
  replicasInOtherRegions: {
    id: 'rds.replicasInOtherRegions',
    rule: '!has(self.replicas) || self.replicas.all(r, r.region != self.primary.region)',
    fieldPath: '.replicas',
    message:
      "replica regions must differ from the primary's region: a failover target in the same region fails with it.",
    messageExpression:
      "'replica ' + self.replicas.map(r, r.region == self.primary.region ? r.dbInstanceIdentifier : '').filter(n, n != '')[0] + ' is in ' + self.primary.region + ', the region of the primary; a cross-region replica must be in another region'",
    fix: "List only cross-region read replicas here; Multi-AZ standbys in the primary's region fail over inside RDS.",
  },
  uniqueReplicas: {
    id: 'rds.uniqueReplicas',
    rule: '!has(self.replicas) || self.replicas.all(r, self.replicas.exists_one(o, o.dbInstanceIdentifier == r.dbInstanceIdentifier && o.region == r.region))',
    fieldPath: '.replicas',
    message: 'each replica may be listed only once.',
    fix: 'Remove the duplicate replica entry.',
  },
} as const satisfies Record<string, CelRule>;

/** Rules on `spec.compute.ec2` (self: the EC2 compute block). */
export const ec2ComputeRules = {
  restoreVolumesNeedsTagSelector: {
    id: 'ec2.restoreVolumesNeedsTagSelector',
    // The operator finds the volumes to restore by these tags (observe-cloud.ts); without them it would observe no
    // volume and restore nothing, silently. An empty selector would match every volume of the account instead.
    rule: '!has(self.restoreVolumesFromSnapshots) || !self.restoreVolumesFromSnapshots || (has(self.tagSelector) && size(self.tagSelector) > 0)',
    fieldPath: '.tagSelector',
    reason: 'FieldValueRequired',
    message:
      'restoreVolumesFromSnapshots needs a non-empty tagSelector: the operator finds the volumes to restore by their tags, and without one it restores nothing (PB-4).',
    fix: "Add tagSelector with the tags of the service's volumes (e.g. tagSelector: {app: orders}), or set restoreVolumesFromSnapshots: false.",
  },
  replaceNeedsTagSelector: {
    id: 'ec2.replaceNeedsTagSelector',
    // The operator counts the healthy instances per zone by these tags (observe-cloud.ts); without them it would
    // count none and never know how much capacity to replace — silently.
    rule: '!has(self.replaceInHealthyZones) || (has(self.tagSelector) && size(self.tagSelector) > 0)',
    fieldPath: '.tagSelector',
    reason: 'FieldValueRequired',
    message:
      'replaceInHealthyZones needs a non-empty tagSelector: the operator counts the healthy instances of each zone by their tags, and without one it replaces nothing (PB-4).',
    fix: "Add tagSelector with the tags of the service's instances (e.g. tagSelector: {app: orders}), or remove replaceInHealthyZones.",
  },
} as const satisfies Record<string, CelRule>;

/** Rules on `spec.health` (self: the health block, after defaulting). */
export const healthRules = {
  recoveryAtLeastFailure: {
    id: 'health.recoveryAtLeastFailure',
    // Guarded with has(): the apiserver also checks the rule against the schema default ({}) of spec.health.
    rule: '!has(self.recoveryThreshold) || !has(self.failureThreshold) || self.recoveryThreshold >= self.failureThreshold',
    fieldPath: '.recoveryThreshold',
    message:
      'recoveryThreshold must be at least failureThreshold: recovery must persist at least as long as failure before the operator acts (PB-9).',
    fix: 'Raise recoveryThreshold (the default is 12 rounds) or lower failureThreshold (the default is 2 rounds).',
  },
} as const satisfies Record<string, CelRule>;

/** Rules on `spec.vantagePoints` (self: the vantage block, after defaulting). */
export const vantageRules = {
  uniqueMembers: {
    id: 'vantagePoints.uniqueMembers',
    rule: 'self.members.all(m, self.members.exists_one(o, o == m))',
    fieldPath: '.members',
    message: 'vantage point names must be unique: each operator instance counts once towards the quorum.',
    messageExpression:
      "'vantage point ' + self.members.filter(n, !self.members.exists_one(o, o == n))[0] + ' is listed more than once; each member counts once towards the quorum'",
    fix: "List each vantage name (the operator's --vantage / FO_VANTAGE) once.",
  },
  quorumWithinMembers: {
    id: 'vantagePoints.quorumWithinMembers',
    rule: '!has(self.quorum) || self.quorum <= size(self.members)',
    fieldPath: '.quorum',
    message: 'quorum cannot exceed the number of members: agreement could never be reached.',
    fix: 'Lower quorum to at most the number of members, or leave it out for a majority of the members.',
  },
} as const satisfies Record<string, CelRule>;

/** Rules on `spec.probes` (self: the list of probes). */
export const probeListRules = {
  uniqueNames: {
    id: 'probes.uniqueNames',
    rule: 'self.all(p, self.exists_one(o, o.name == p.name))',
    message: 'probe names must be unique: zone and region state cite probes by name.',
    messageExpression:
      "'probe name ' + self.map(p, p.name).filter(n, !self.exists_one(o, o.name == n))[0] + ' is used more than once; probe names must be unique'",
    fix: 'Rename one of the probes.',
  },
} as const satisfies Record<string, CelRule>;

/** Rules on each `spec.probes[i]` (self: one probe). */
export const probeRules = {
  exactlyOneKind: {
    id: 'probe.exactlyOneKind',
    rule: '[has(self.http), has(self.tcp), has(self.ec2), has(self.rds), has(self.awsApiErrors)].filter(k, k).size() == 1',
    message: 'a probe sets exactly one of http, tcp, ec2, rds or awsApiErrors.',
    messageExpression: "'probe ' + self.name + ' must set exactly one of http, tcp, ec2, rds or awsApiErrors'",
    fix: 'Split it into one probe per kind, each with its own name.',
  },
} as const satisfies Record<string, CelRule>;

/** Rules on `spec.manual` (self: the manual request). */
export const manualRules = {
  failoverNeedsTarget: {
    id: 'manual.failoverNeedsTarget',
    rule: "!(self.action in ['Failover', 'Failback']) || has(self.targetRegion)",
    fieldPath: '.targetRegion',
    reason: 'FieldValueRequired',
    message: 'a Failover or Failback request must name its targetRegion.',
    fix: 'Set targetRegion to the region that should serve traffic (and writes) after the request.',
  },
  approveNeedsId: {
    id: 'manual.approveNeedsId',
    rule: "self.action != 'Approve' || has(self.approvalId)",
    fieldPath: '.approvalId',
    reason: 'FieldValueRequired',
    message: 'an Approve request must name the approvalId shown in status.pendingApproval.id.',
    fix: 'Copy status.pendingApproval.id into approvalId (failoverctl approve does this for you).',
  },
} as const satisfies Record<string, CelRule>;

/** Rules on `spec` that relate its parts to each other (self: the spec, after defaulting). */
export const policySpecRules = {
  somethingToFailOver: {
    id: 'spec.somethingToFailOver',
    rule: 'has(self.traffic) || has(self.database) || has(self.compute)',
    message: 'spec must manage at least one of traffic, database or compute; otherwise there is nothing to fail over.',
    fix: 'Add spec.traffic.route53 (weighted records), spec.database.rds (a primary and its replicas) or spec.compute.ec2.',
  },
  databasePrimaryInPrimaryRegion: {
    id: 'spec.databasePrimaryInPrimaryRegion',
    rule: "!has(self.database) || !has(self.database.rds) || !self.regions.exists_one(r, r.role == 'primary') || self.regions.exists(r, r.role == 'primary' && r.name == self.database.rds.primary.region)",
    fieldPath: '.database.rds.primary.region',
    message: 'the RDS primary must be in the region whose role is primary.',
    messageExpression:
      "'database.rds.primary.region ' + self.database.rds.primary.region + ' must be the primary region ' + self.regions.map(r, r.role == 'primary' ? r.name : '').filter(n, n != '')[0]",
    fix: 'Set database.rds.primary.region to the region with role: primary (status.activeWriter tracks where the writer is after a failover).',
  },
  replicaRegionsListed: {
    id: 'spec.replicaRegionsListed',
    rule: '!has(self.database) || !has(self.database.rds) || !has(self.database.rds.replicas) || self.database.rds.replicas.all(p, self.regions.exists(r, r.name == p.region))',
    fieldPath: '.database.rds.replicas',
    message: 'every replica must be in a region listed in spec.regions.',
    messageExpression:
      "'replica ' + self.database.rds.replicas.map(p, self.regions.exists(r, r.name == p.region) ? '' : p.dbInstanceIdentifier + ' is in region ' + p.region).filter(m, m != '')[0] + ', which is not listed in spec.regions'",
    fix: 'Add the replica region to spec.regions with role: standby and its zones.',
  },
  recordTargetsListed: {
    id: 'spec.recordTargetsListed',
    rule: '!has(self.traffic) || !has(self.traffic.route53) || self.traffic.route53.records.all(rec, has(rec.zone) ? self.regions.exists(r, rec.zone in r.zones) : (!has(rec.region) || self.regions.exists(r, r.name == rec.region)))',
    fieldPath: '.traffic.route53.records',
    message: 'every record must target a zone or region listed in spec.regions.',
    messageExpression:
      "'record ' + self.traffic.route53.records.map(rec, (has(rec.zone) ? !self.regions.exists(r, rec.zone in r.zones) : (has(rec.region) && !self.regions.exists(r, r.name == rec.region))) ? rec.setIdentifier : '').filter(n, n != '')[0] + ' targets a zone or region that is not listed in spec.regions'",
    fix: "Add the zone to its region's zones in spec.regions (or the region to spec.regions), or correct the record's target.",
  },
  probeRegionsListed: {
    id: 'spec.probeRegionsListed',
    rule: 'self.probes.all(p, !has(p.regions) || p.regions.all(n, self.regions.exists(r, r.name == n)))',
    fieldPath: '.probes',
    message: 'a probe may only be limited to regions listed in spec.regions.',
    messageExpression:
      "'probe ' + self.probes.map(p, has(p.regions) && !p.regions.all(n, self.regions.exists(r, r.name == n)) ? p.name : '').filter(n, n != '')[0] + ' names a region that is not listed in spec.regions'",
    fix: "Remove the region from the probe's regions, or add it to spec.regions.",
  },
  rdsProbeNeedsDatabase: {
    id: 'spec.rdsProbeNeedsDatabase',
    rule: '!self.probes.exists(p, has(p.rds)) || (has(self.database) && has(self.database.rds))',
    fieldPath: '.probes',
    message: 'an rds probe watches the instances in spec.database.rds, so the policy must declare them.',
    fix: 'Add spec.database.rds, or remove the rds probe.',
  },
  probeTimeoutWithinInterval: {
    id: 'spec.probeTimeoutWithinInterval',
    rule: '!has(self.health) || self.probes.all(p, (!has(p.http) || p.http.timeoutSeconds <= self.health.intervalSeconds) && (!has(p.tcp) || p.tcp.timeoutSeconds <= self.health.intervalSeconds))',
    fieldPath: '.probes',
    message: 'a probe timeout may not exceed health.intervalSeconds, or probe rounds would overlap.',
    messageExpression:
      "'probe ' + self.probes.map(p, (has(p.http) && p.http.timeoutSeconds > self.health.intervalSeconds) || (has(p.tcp) && p.tcp.timeoutSeconds > self.health.intervalSeconds) ? p.name : '').filter(n, n != '')[0] + ' has a timeout longer than health.intervalSeconds; probe rounds would overlap'",
    fix: 'Lower the probe timeoutSeconds or raise health.intervalSeconds.',
  },
  primaryRegionCanBeImpaired: {
    id: 'spec.primaryRegionCanBeImpaired',
    rule: "!has(self.health) || !has(self.health.regionImpairedWhen) || self.regions.all(r, r.role != 'primary' || r.zones.size() >= self.health.regionImpairedWhen.impairedZones)",
    fieldPath: '.health.regionImpairedWhen.impairedZones',
    message:
      'health.regionImpairedWhen.impairedZones exceeds the zones of the primary region, which could then never be judged impaired.',
    messageExpression:
      "'health.regionImpairedWhen.impairedZones exceeds the number of zones listed for primary region ' + self.regions.map(r, r.role == 'primary' ? r.name : '').filter(n, n != '')[0] + ', which could then never be judged impaired'",
    fix: 'Lower impairedZones (the default is 2) or list all zones the service runs in.',
  },
  signalRegionOutsidePrimary: {
    id: 'spec.signalRegionOutsidePrimary',
    rule: "!has(self.traffic) || !has(self.traffic.route53) || !has(self.traffic.route53.dataPlane) || !has(self.traffic.route53.dataPlane.signalRegion) || self.regions.exists(r, r.name == self.traffic.route53.dataPlane.signalRegion && r.role != 'primary')",
    fieldPath: '.traffic.route53.dataPlane.signalRegion',
    message:
      'traffic.route53.dataPlane.signalRegion must be a standby region listed in spec.regions: verdicts published in the region being protected fail with it.',
    messageExpression:
      "'traffic.route53.dataPlane.signalRegion ' + self.traffic.route53.dataPlane.signalRegion + (self.regions.exists(r, r.name == self.traffic.route53.dataPlane.signalRegion) ? ' is the primary region: verdicts published there fail with it' : ' is not listed in spec.regions')",
    fix: 'Name a standby region from spec.regions (or leave signalRegion out to use the first standby region).',
  },
  manualTargetListed: {
    id: 'spec.manualTargetListed',
    rule: '!has(self.manual) || !has(self.manual.targetRegion) || self.regions.exists(r, r.name == self.manual.targetRegion)',
    fieldPath: '.manual.targetRegion',
    message: 'manual.targetRegion must be a region listed in spec.regions.',
    messageExpression: "'manual.targetRegion ' + self.manual.targetRegion + ' is not listed in spec.regions'",
    fix: 'Use one of the regions in spec.regions.',
  },
} as const satisfies Record<string, CelRule>;

// ---------------------------------------------------------------------------------------------------------------
// FailoverDrill
// ---------------------------------------------------------------------------------------------------------------

/** Rules on `spec.scenario` (self: the scenario). */
export const scenarioRules = {
  zoneOutageNeedsZone: {
    id: 'scenario.zoneOutageNeedsZone',
    rule: "self.type != 'zone-outage' || has(self.zone)",
    fieldPath: '.zone',
    reason: 'FieldValueRequired',
    message: 'a zone-outage scenario must name the zone that goes down.',
    fix: 'Set scenario.zone to one of the policy zones, e.g. us-east-1a.',
  },
  regionOutageNeedsRegion: {
    id: 'scenario.regionOutageNeedsRegion',
    rule: "self.type != 'region-outage' || has(self.region)",
    fieldPath: '.region',
    reason: 'FieldValueRequired',
    message: 'a region-outage scenario must name the region that goes down.',
    fix: 'Set scenario.region to one of the policy regions, usually its primary.',
  },
  manualFailoverNeedsRegion: {
    id: 'scenario.manualFailoverNeedsRegion',
    rule: "self.type != 'manual-failover' || has(self.region)",
    fieldPath: '.region',
    reason: 'FieldValueRequired',
    message: 'a manual-failover scenario must name the region to fail over to.',
    fix: 'Set scenario.region to a standby region of the policy.',
  },
  replayNeedsTimeline: {
    id: 'scenario.replayNeedsTimeline',
    rule: "self.type != 'replay' || has(self.timeline)",
    fieldPath: '.timeline',
    reason: 'FieldValueRequired',
    message: 'a replay scenario must name the timeline to replay.',
    fix: 'Set scenario.timeline, e.g. us-east-1-2011.',
  },
  timelineOnlyForReplay: {
    id: 'scenario.timelineOnlyForReplay',
    rule: "!has(self.timeline) || self.type == 'replay'",
    fieldPath: '.timeline',
    reason: 'FieldValueForbidden',
    message: 'timeline is only used by replay scenarios.',
    fix: 'Remove timeline, or set type: replay.',
  },
  zoneInRegion: {
    id: 'scenario.zoneInRegion',
    rule: '!has(self.zone) || !has(self.region) || self.zone.startsWith(self.region)',
    fieldPath: '.zone',
    message: 'scenario.zone must belong to scenario.region.',
    messageExpression: "'zone ' + self.zone + ' does not belong to region ' + self.region",
    fix: 'Correct the zone or the region (us-east-1a belongs to us-east-1), or leave region out.',
  },
} as const satisfies Record<string, CelRule>;

/** Transition rules on the drill `spec` (apiserver only). */
export const drillSpecRules = {
  immutable: {
    id: 'drill.immutable',
    rule: 'self.policyRef == oldSelf.policyRef && self.scenario == oldSelf.scenario && self.mode == oldSelf.mode && self.timeScale == oldSelf.timeScale',
    message:
      'policyRef, scenario, mode and timeScale cannot change once a drill exists; create a new FailoverDrill instead.',
    fix: 'Delete the drill (or abort it) and create a new one with the changed settings.',
  },
  abortIsFinal: {
    id: 'drill.abortIsFinal',
    rule: 'self.abort || !oldSelf.abort',
    fieldPath: '.abort',
    message: 'an aborted drill cannot be resumed: abort cannot change from true to false.',
    fix: 'Create a new FailoverDrill to run the scenario again.',
  },
} as const satisfies Record<string, CelRule>;

/** Every rule, for docs and tests. */
export const ALL_RULES: readonly CelRule[] = [
  regionListRules,
  regionRules,
  route53Rules,
  recordRules,
  dataPlaneRules,
  rdsRules,
  ec2ComputeRules,
  healthRules,
  vantageRules,
  probeListRules,
  probeRules,
  manualRules,
  policySpecRules,
  scenarioRules,
  drillSpecRules,
].flatMap((group) => Object.values(group) as CelRule[]);
