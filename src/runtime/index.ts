// The controller runtime: generic Kubernetes machinery, independent of failover logic.
export { AbortedError, raceAbort } from './abort.ts';
export { KUBE_API_TIMEOUT_MS, requestTimeoutMiddleware, withRequestTimeout } from './api-timeout.ts';
export type { Clock } from './clock.ts';
export {
  Controller,
  type ReconcileMetrics,
  type ReconcileOutcome,
  type ReconcileResult,
  type Reconciler,
} from './controller.ts';
export {
  ApiTimeoutError,
  ConflictError,
  httpStatusOf,
  isTerminalError,
  NotFoundError,
  TerminalError,
} from './errors.ts';
export {
  createEventSink,
  EVENT_DEFAULTS,
  EventRecorder,
  type EventSink,
  type EventSpec,
  type InvolvedObject,
} from './events.ts';
export { type HealthServer, startHealthServer } from './http-server.ts';
export {
  createCustomResourceInformer,
  INFORMER_DEFAULTS,
  Informer,
  type InformerMetrics,
  type InformerOptions,
  type ResourceRef,
  stripManagedFields,
} from './informer.ts';
export { keyOf, type ObjectRef, objectKey, splitKey } from './keys.ts';
export { poolKubeConnections } from './kube-connections.ts';
export {
  createLeaseApi,
  LEADER_ELECTION_DEFAULTS,
  LeaderElector,
  type LeaderElectorOptions,
  type LeaseApi,
} from './leader-election.ts';
export { MANAGER_DEFAULTS, Manager, type ManagerExit, type ManagerOptions, type Runnable } from './manager.ts';
export { createRuntimeMetrics, type RuntimeMetrics } from './metrics.ts';
export {
  type AccessReviews,
  createKubeAccessReviews,
  createMetricsAuthorizer,
  METRICS_AUTH_DEFAULTS,
  type MetricsAccessDecision,
} from './metrics-auth.ts';
export { type MetricsServer, type SecureMetricsOptions, startMetricsServer } from './metrics-server.ts';
export { readServingCert, type ServingCert, selfSignedServingCert } from './serving-cert.ts';
export { createStatusWriter, createStatusWriterWith, type StatusPatch, type StatusWriter } from './status-writer.ts';
export { abortOnTermination } from './termination.ts';
export { WORK_QUEUE_DEFAULTS, WorkQueue, type WorkQueueMetrics, type WorkQueueOptions } from './work-queue.ts';
