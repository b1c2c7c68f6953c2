/**
 * Condition types and reasons of FailoverPolicy and FailoverDrill status. Conditions follow the metav1.Condition
 * shape; reasons are CamelCase identifiers (the apiserver enforces `^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$`).
 * Keep every type and reason here so that the controller, failoverctl and the docs agree.
 */

export const ConditionType = {
  /** The policy is valid, reconciled and its service is served from healthy zones. */
  Ready: 'Ready',
  /** At least one zone or region is not Healthy (PB-2). */
  Degraded: 'Degraded',
  /** A failover is in progress: actions are recorded in the journal and not yet all Done. */
  FailingOver: 'FailingOver',
  /** Traffic or the writer is away from where the spec places it (a zone drained or a replica promoted). */
  FailedOver: 'FailedOver',
  /** spec.suspend is true: the operator observes and reports but does not act. */
  Suspended: 'Suspended',
  /** The spec failed validation; the operator makes no AWS call for this policy until it is fixed. */
  InvalidSpec: 'InvalidSpec',
  /**
   * The data-plane path (traffic.route53.dataPlane.mechanism HealthChecks) is prepared: every record has its health
   * check attached and its verdict alarm exists, so a drain needs no Route 53 call. The message names the records
   * a drain would still move by record edits. Only on policies that ask for the path.
   */
  DataPlaneReady: 'DataPlaneReady',
} as const;
export type ConditionType = (typeof ConditionType)[keyof typeof ConditionType];

export const DrillConditionType = {
  /** The drill is running (scenario injected, observing the policy's reaction). */
  Running: 'Running',
  /** The drill has finished; `status` holds the final report. */
  Completed: 'Completed',
  /** The drill's spec or its policy is invalid; the drill does not start. */
  InvalidSpec: 'InvalidSpec',
} as const;
export type DrillConditionType = (typeof DrillConditionType)[keyof typeof DrillConditionType];

export const ConditionStatus = { True: 'True', False: 'False', Unknown: 'Unknown' } as const;
export type ConditionStatus = (typeof ConditionStatus)[keyof typeof ConditionStatus];

export const Reason = {
  // Ready / Degraded, and the health Events (one per zone or region transition, PB-2 / PB-9)
  /** Every zone is Healthy (Degraded=False); as an Event, only when the last unhealthy zone recovered. */
  AllZonesHealthy: 'AllZonesHealthy',
  ZoneDegraded: 'ZoneDegraded',
  ZoneImpaired: 'ZoneImpaired',
  /** Event: one zone back to Healthy; others may still be unhealthy. */
  ZoneRecovered: 'ZoneRecovered',
  /** Event: a region went Degraded (a zone in it not Healthy, or region-wide API errors). */
  RegionDegraded: 'RegionDegraded',
  RegionImpaired: 'RegionImpaired',
  /** Event: a region back to Healthy. */
  RegionRecovered: 'RegionRecovered',
  ControlPlaneErrors: 'ControlPlaneErrors',
  ProbesPending: 'ProbesPending',
  Reconciled: 'Reconciled',
  ReconcileError: 'ReconcileError',
  // FailingOver / FailedOver
  DrainingZone: 'DrainingZone',
  ZoneDrained: 'ZoneDrained',
  FencingPrimary: 'FencingPrimary',
  PromotingReplica: 'PromotingReplica',
  ReplicaPromoted: 'ReplicaPromoted',
  ShiftingTraffic: 'ShiftingTraffic',
  TrafficShifted: 'TrafficShifted',
  ReplacingCapacity: 'ReplacingCapacity',
  AwaitingApproval: 'AwaitingApproval',
  FailingBack: 'FailingBack',
  FailedBack: 'FailedBack',
  ManualFailover: 'ManualFailover',
  NoFailover: 'NoFailover',
  /** An action the plan needs keeps failing (Ready=False, FailingOver=True): the error and the next attempt. */
  ActionFailing: 'ActionFailing',
  /** The plan's traffic change is sent but Route 53 does not show it yet. */
  ChangePending: 'ChangePending',
  // Gates that hold an action back (each cites a playbook rule)
  ActionSkippedImpairedZone: 'ActionSkippedImpairedZone',
  ReplicaLagAboveBudget: 'ReplicaLagAboveBudget',
  /** The promotion lock of this failover is held for another replica (#14): this operator does not promote. */
  PromotionLocked: 'PromotionLocked',
  CooldownActive: 'CooldownActive',
  RateLimited: 'RateLimited',
  CircuitOpen: 'CircuitOpen',
  RecoveryWindowPending: 'RecoveryWindowPending',
  DryRun: 'DryRun',
  // DataPlaneReady
  DataPlanePrepared: 'Prepared',
  DataPlaneNotPrepared: 'NotPrepared',
  DataPlaneUnavailable: 'Unavailable',
  DataPlaneUnobserved: 'Unobserved',
  /**
   * Ready=False: the policy names an AWS resource its namespace is not granted (src/api/tenancy.ts, #15); the operator
   * makes no AWS call for it. The message names each field and how to grant it.
   */
  NotPermitted: 'NotPermitted',
  /** spec.vantagePoints does not list this operator's vantage (or it runs without one): it must not act (#14). */
  NotAVantage: 'NotAVantage',
  // Suspended
  SuspendedBySpec: 'SuspendedBySpec',
  NotSuspended: 'NotSuspended',
  // InvalidSpec
  SpecInvalid: 'SpecInvalid',
  SpecValid: 'SpecValid',
  // Drills
  DrillPending: 'DrillPending',
  /** A drill waits: its namespace already runs as many drills as FO_DRILL_NAMESPACE_LIMIT allows. */
  DrillNamespaceLimitReached: 'DrillNamespaceLimitReached',
  DrillStarted: 'DrillStarted',
  DrillPassed: 'DrillPassed',
  DrillFailed: 'DrillFailed',
  DrillAborted: 'DrillAborted',
  DrillRefused: 'DrillRefused',
  DrillOutageDetected: 'DrillOutageDetected',
  DrillTrafficShifted: 'DrillTrafficShifted',
  DrillOutageEnded: 'DrillOutageEnded',
  DrillWeightsRestored: 'DrillWeightsRestored',
  PolicyNotFound: 'PolicyNotFound',
  PolicyInvalid: 'PolicyInvalid',
  // Deletion (Events): the finalizer leaves AWS state as it is
  AwsStateLeftAsIs: 'AwsStateLeftAsIs',
  DeletedWithActionInFlight: 'DeletedWithActionInFlight',
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];
