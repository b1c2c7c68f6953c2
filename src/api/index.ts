/**
 * The failover.io API: types, names, validation and manifest loading. Other modules import from here only.
 */
import type { Static } from '@sinclair/typebox';
import type { ConditionSchema } from './common-schema.ts';

export type { CelRule } from './cel-rules.ts';
export { ALL_RULES } from './cel-rules.ts';
export { ConditionStatus, ConditionType, DrillConditionType, Reason } from './conditions.ts';
export { buildCrds, buildDrillCrd, buildPolicyCrd, type CustomResourceDefinition } from './crd.ts';
export {
  DRILL_LIMITS,
  type DrillAction,
  type DrillMode,
  type DrillPhase,
  type DrillResult,
  type DrillScenario,
  type DrillSkipped,
  type DrillTimelineEntry,
  type DrillViolation,
  type FailoverDrill,
  FailoverDrillSchema,
  type FailoverDrillSpec,
  type FailoverDrillStatus,
  type ScenarioType,
} from './drill-schema.ts';
export {
  API_VERSION,
  CATEGORY,
  DRILL_KIND,
  DRILL_LIST_KIND,
  DRILL_PLURAL,
  DRILL_SHORT_NAMES,
  GROUP,
  POLICY_KIND,
  POLICY_LIST_KIND,
  POLICY_PLURAL,
  POLICY_SHORT_NAMES,
  PREVIEW_REQUEST_ANNOTATION,
  VERSION,
} from './group.ts';
export { type LoadedManifest, loadManifests, type ManifestSource } from './manifests.ts';
export {
  type DbInstanceRef,
  type Ec2Compute,
  type FailoverPhase,
  type FailoverPolicy,
  FailoverPolicySchema,
  type FailoverPolicySpec,
  type FailoverPolicyStatus,
  type FailoverState,
  type GuardrailsSpec,
  type HealthSpec,
  type JournalEntry,
  type JournalState,
  type LastFailover,
  LIMITS,
  type ManualRequest,
  type ManualRequestStatus,
  type ObjectivesSpec,
  type PendingApproval,
  type PolicyPhase,
  type PolicyPreview,
  type ProbeSpec,
  type RdsDatabase,
  type RegionSpec,
  type RegionStatus,
  type Route53Traffic,
  type VantagePointsSpec,
  type VantageStatus,
  type WeightedRecord,
  type ZoneState,
  type ZoneStatus,
} from './policy-schema.ts';
export { describeRule, isRuleId, RULE_IDS, RULE_TITLES, Rule, type RuleId } from './rules.ts';
export {
  applyDrillDefaults,
  applyPolicyDefaults,
  type FieldError,
  formatFieldErrors,
  invalidSpecMessage,
  type ValidationResult,
  validateDrill,
  validatePolicy,
} from './validate.ts';

/** metav1.Condition as stored in status.conditions. */
export type Condition = Static<typeof ConditionSchema>;
