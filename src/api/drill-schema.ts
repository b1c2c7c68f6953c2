/**
 * FailoverDrill: the single source of truth for its schema. A drill rehearses an outage against a policy (PB-12);
 * its status is the drill report.
 */
import { type Static, Type } from '@sinclair/typebox';
import { drillSpecRules, scenarioRules } from './cel-rules.ts';
import {
  ConditionsSchema,
  DnsLabel,
  MeasuredSeconds,
  ObjectMetaSchema,
  ObjectName,
  RegionName,
  RuleIdSchema,
  Seconds,
  StringEnum,
  Text,
  Timestamp,
  withRules,
  ZoneName,
} from './common-schema.ts';
import { API_VERSION, DRILL_KIND } from './group.ts';
import { LIMITS } from './policy-schema.ts';

const closed = { additionalProperties: false } as const;

/** Bounds of the report lists; a drill that produces more keeps the first entries and says so in the timeline. */
export const DRILL_LIMITS = { actions: 200, skipped: 200, violations: 32, timeline: 200 } as const;

export const ScenarioTypeSchema = StringEnum(['zone-outage', 'region-outage', 'replay', 'manual-failover'], {
  description: 'zone-outage, region-outage, replay (a named timeline) or manual-failover.',
});

export const ScenarioSchema = withRules(
  Type.Object(
    {
      type: ScenarioTypeSchema,
      zone: Type.Optional(ZoneName({ description: 'The zone that fails (zone-outage).' })),
      region: Type.Optional(
        RegionName({ description: 'The region that fails (region-outage) or the target (manual-failover).' }),
      ),
      timeline: Type.Optional(
        DnsLabel({ description: 'Name of the timeline to replay, e.g. us-east-1-2011 (replay).' }),
      ),
      durationSeconds: Type.Optional(
        Seconds({ maximum: 604800, description: 'How long the injected outage lasts, in scenario time.' }),
      ),
    },
    { ...closed, description: 'What the drill breaks.' },
  ),
  ...Object.values(scenarioRules),
);

export const DrillModeSchema = StringEnum(['DryRun', 'Live'], {
  description: 'DryRun plans and reports without writing to AWS; Live performs the actions.',
});

export const FailoverDrillSpecSchema = withRules(
  Type.Object(
    {
      policyRef: Type.Object(
        { name: ObjectName({ description: 'Name of a FailoverPolicy in the same namespace.' }) },
        { ...closed, description: 'The policy under test.' },
      ),
      scenario: ScenarioSchema,
      mode: { ...DrillModeSchema, default: 'DryRun' },
      timeScale: Type.Number({
        exclusiveMinimum: 0,
        maximum: 3600,
        default: 60,
        description: 'Scenario seconds per real second; 60 replays one minute per second.',
        fix: 'Use a number greater than 0 and at most 3600, e.g. 60 to replay one minute per second.',
      }),
      autoFailback: Type.Boolean({
        default: true,
        description: 'Return traffic to where the policy places it once the drill ends.',
      }),
      allowPromotion: Type.Boolean({
        default: false,
        description:
          'Live drills only: let the rehearsed region outage promote the production read replica (PB-6, irreversible). Even then the promotion waits for `failoverctl approve`. False: the drill moves traffic only.',
      }),
      abort: Type.Boolean({ default: false, description: 'Set to true to stop the drill; cannot be undone.' }),
    },
    { ...closed, description: 'Which policy to rehearse, with what scenario and how.' },
  ),
  ...Object.values(drillSpecRules),
);

export const DrillPhaseSchema = StringEnum(['Pending', 'Running', 'Succeeded', 'Failed', 'Aborted'], {
  description: 'Pending, Running, Succeeded, Failed or Aborted.',
});

export const DrillResultSchema = StringEnum(['Passed', 'Failed', 'Aborted'], {
  description: 'Passed when every objective was met.',
});

export const DrillActionSchema = Type.Object(
  {
    kind: Type.String({ minLength: 1, maxLength: 64, description: 'Action kind, e.g. SetWeights.' }),
    target: Text(512),
    zone: Type.Optional(ZoneName()),
    region: Type.Optional(RegionName()),
    rule: RuleIdSchema(),
    at: Timestamp(),
    scenarioSeconds: Type.Optional(MeasuredSeconds({ description: 'Scenario time of the action.' })),
  },
  { ...closed, description: 'An action the policy took (or would take, in DryRun).' },
);

export const DrillSkippedSchema = Type.Object(
  {
    kind: Type.String({ minLength: 1, maxLength: 64 }),
    target: Text(512),
    zone: Type.Optional(ZoneName()),
    region: Type.Optional(RegionName()),
    rule: RuleIdSchema(),
    reason: Text(1024),
    at: Type.Optional(Timestamp()),
  },
  { ...closed, description: 'An action a rule held back, e.g. PB-3 skipped a reboot in an impaired zone.' },
);

export const DrillViolationSchema = Type.Object(
  {
    objective: Type.String({ minLength: 1, maxLength: 64, description: 'e.g. rtoSeconds, rpoSeconds, PB-3.' }),
    expected: Type.Optional(Text(256)),
    actual: Type.Optional(Text(256)),
    message: Text(1024),
  },
  { ...closed, description: 'An objective or rule the drill saw broken.' },
);

export const DrillTimelineEntrySchema = Type.Object(
  {
    at: Timestamp(),
    scenarioSeconds: Type.Optional(MeasuredSeconds()),
    message: Text(1024),
    rule: Type.Optional(RuleIdSchema()),
  },
  { ...closed, description: 'One line of the drill timeline.' },
);

export const FailoverDrillStatusSchema = Type.Object(
  {
    observedGeneration: Type.Optional(Type.Integer({ format: 'int64', minimum: 0 })),
    conditions: Type.Optional(ConditionsSchema('Running, Completed, InvalidSpec.')),
    phase: Type.Optional(DrillPhaseSchema),
    startedAt: Type.Optional(Timestamp()),
    completedAt: Type.Optional(Timestamp()),
    detectionSeconds: Type.Optional(MeasuredSeconds({ description: 'Outage start to first Degraded zone.' })),
    trafficShiftedSeconds: Type.Optional(MeasuredSeconds({ description: 'Outage start to traffic moved.' })),
    rtoSeconds: Type.Optional(MeasuredSeconds({ description: 'Outage start to service restored.' })),
    rpoSeconds: Type.Optional(MeasuredSeconds({ description: 'Replica lag at promotion: data possibly lost.' })),
    actions: Type.Optional(Type.Array(DrillActionSchema, { maxItems: DRILL_LIMITS.actions })),
    skipped: Type.Optional(Type.Array(DrillSkippedSchema, { maxItems: DRILL_LIMITS.skipped })),
    violations: Type.Optional(Type.Array(DrillViolationSchema, { maxItems: DRILL_LIMITS.violations })),
    timeline: Type.Optional(Type.Array(DrillTimelineEntrySchema, { maxItems: DRILL_LIMITS.timeline })),
    preDrillWeights: Type.Optional(
      Type.Record(Type.String({ maxLength: 128 }), Type.Integer({ format: 'int32', minimum: 0, maximum: 255 }), {
        maxProperties: LIMITS.records,
        description:
          'Route 53 weight per record setIdentifier when a Live drill started, recorded before anything is injected; restored on abort.',
      }),
    ),
    passed: Type.Optional(Type.Boolean()),
    result: Type.Optional(DrillResultSchema),
    summary: Type.Optional(Text(1024, { description: 'One line, e.g. "RTO 42s (objective 300s), RPO 3s".' })),
  },
  { ...closed, description: 'The drill report.' },
);

export const FailoverDrillSchema = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal(DRILL_KIND),
    metadata: ObjectMetaSchema,
    spec: FailoverDrillSpecSchema,
    status: Type.Optional(FailoverDrillStatusSchema),
  },
  { additionalProperties: false },
);

export type FailoverDrill = Static<typeof FailoverDrillSchema>;
export type FailoverDrillSpec = Static<typeof FailoverDrillSpecSchema>;
export type FailoverDrillStatus = Static<typeof FailoverDrillStatusSchema>;
export type DrillScenario = Static<typeof ScenarioSchema>;
export type ScenarioType = Static<typeof ScenarioTypeSchema>;
export type DrillMode = Static<typeof DrillModeSchema>;
export type DrillPhase = Static<typeof DrillPhaseSchema>;
export type DrillResult = Static<typeof DrillResultSchema>;
export type DrillAction = Static<typeof DrillActionSchema>;
export type DrillSkipped = Static<typeof DrillSkippedSchema>;
export type DrillViolation = Static<typeof DrillViolationSchema>;
export type DrillTimelineEntry = Static<typeof DrillTimelineEntrySchema>;
