// The health layer's public surface: probes, the shared scheduler, the pure health model and the status mapping.

export type { ApiCallSample, ApiCallStats, ApiCallStatsOptions, ApiCallWindowStats } from './api-call-stats.ts';
export { createApiCallStats } from './api-call-stats.ts';
export type {
  HealthSettings,
  HealthSettingsInput,
  HealthState,
  HealthTopology,
  ObserveOptions,
  ObserveOutcome,
  ProbeStreak,
  ZoneRef,
} from './health-model.ts';
export {
  createHealthState,
  HEALTH_DEFAULTS,
  healthView,
  observeResults,
  resolveHealthSettings,
  staleAfterMs,
  withWriterZone,
} from './health-model.ts';
export type { HealthCondition, HealthEventSpec, RegionStatusEntry, ZoneStatusEntry } from './health-status.ts';
export {
  healthConditions,
  healthTransitionEvents,
  MAX_REASON_LENGTH,
  MAX_STATUS_REASONS,
  regionStatuses,
  rfc3339,
  transitionEventMessage,
  transitionEventReason,
  zoneStatuses,
} from './health-status.ts';
export type { PolicyProbe, PolicyProbeDeps } from './policy-probes.ts';
export { healthSettingsFromPolicy, healthTopologyFromPolicy, probesForPolicy } from './policy-probes.ts';
export type { Probe, ProbeObservation, ProbeRunContext } from './probe.ts';
export { expandTemplate, OPERATOR_SOURCE } from './probe.ts';
export type { AwsApiProbeSpec } from './probe-aws-api.ts';
export { createAwsApiProbe } from './probe-aws-api.ts';
export type { Ec2InstanceStatusProbeSpec, Ec2ZoneStateProbeSpec } from './probe-ec2.ts';
export { createEc2InstanceStatusProbe, createEc2ZoneStateProbe } from './probe-ec2.ts';
export type { FetchLike, HttpProbeDeps, HttpProbeSpec } from './probe-http.ts';
export { createHttpProbe } from './probe-http.ts';
export type { RdsInstanceRef } from './probe-rds.ts';
export { createRdsStatusProbe, createReplicaLagProbe } from './probe-rds.ts';
export type { DatabaseConnectAnswer, DatabaseConnectOutcome, DatabaseConnector } from './probe-rds-connect.ts';
export { createRdsConnectProbe, createTcpDatabaseConnector, ENDPOINT_REFRESH_MS } from './probe-rds-connect.ts';
export type {
  ProbeScheduler,
  ProbeSchedulerOptions,
  ProbeSchedulerStats,
  ProbeSubscription,
} from './probe-scheduler.ts';
export { createProbeScheduler } from './probe-scheduler.ts';
export type { TcpProbeSpec } from './probe-tcp.ts';
export { createTcpProbe } from './probe-tcp.ts';
export type * from './types.ts';
