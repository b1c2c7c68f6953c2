// The simulated cloud (see sim-cloud.ts).
export type {
  CallCounter,
  CallFilter,
  CallLog,
  CallLogOptions,
  CallOutcome,
  CallScope,
  MinuteRate,
  SimCallRecord,
} from './sim-call-log.ts';
export { createSimCloud, type SimCloud, type SimCloudOptions } from './sim-cloud.ts';
export type { SimAlarmTransition, SimCloudWatch, SimCloudWatchOptions, SimDatapoint } from './sim-cloudwatch.ts';
export {
  answeredRecords,
  ROUTE53_CONTROL_PLANE_REGION,
  type SimDns,
  type SimDnsOptions,
  type SimRecordHealth,
  trafficShareOf,
} from './sim-dns.ts';
export type { EbsStall, LaunchMode, SimEc2, SimEc2Options, SimVolumeSpec, ZoneConnectivity } from './sim-ec2.ts';
export type { EndpointCondition, EndpointHealth, ProbeAnswer, SimEndpoints, SimFetch } from './sim-endpoints.ts';
export { type FaultRule, OPERATION_SERVICES, operationsOf, type SimFaults } from './sim-faults.ts';
export type { HealthStatus, SimHealthCheck, SimHealthChecks, SimHealthChecksOptions } from './sim-health-checks.ts';
export type { SimPromotionLock, SimPromotionLockOptions } from './sim-promotion-lock.ts';
export type { SimRds, SimRdsOptions } from './sim-rds.ts';
export {
  DEFAULT_POLICY_SHAPE,
  defaultTopology,
  type SimPolicyShape,
  type SimTopology,
  topologyFromPolicy,
} from './sim-topology.ts';
