// Maps whatever the AWS SDK (or the network under it) throws to our CloudError taxonomy (STYLE 4). This is the only
// place that knows SDK error names; adapters call it at their boundary and throw nothing else.
//
// The classification answers "what should the executor do?":
//   throttled  — the control plane asked us to slow down (PB-8): back off harder, share the budget.
//   busy       — an earlier request on the same resource is still in flight: wait and retry the same request.
//   timeout    — the call hung or was cancelled by our deadline (2011: calls hung rather than failed).
//   retryable  — transient server fault or dropped connection.
//   not-found  — the resource is gone: stop and report.
//   terminal   — anything else (validation, access denied, limits): retrying will not help.

import { CloudError, type CloudErrorKind } from '../errors.ts';

const THROTTLED = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'SlowDown',
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'ProvisionedThroughputExceededException',
]);

const BUSY = new Set([
  'PriorRequestNotComplete',
  'InvalidDBInstanceState',
  'InvalidDBInstanceStateFault',
  'IncorrectState',
  'IncorrectInstanceState',
  'ConcurrentModification',
  'ConcurrentModificationException',
  // DynamoDB MRSC global table: the item is being written from another Region at the same time (the promotion lock).
  'ReplicatedWriteConflictException',
]);

const TIMEOUT = new Set(['AbortError', 'TimeoutError', 'RequestTimeout', 'RequestTimeoutException', 'ETIMEDOUT']);

/** Network-level failures: the request may or may not have reached AWS; our calls are idempotent, so retry. */
const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'NetworkingError',
]);

const SERVER = new Set([
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'InternalServiceFault',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'Unavailable',
]);

const NOT_FOUND = new Set([
  'NoSuchHostedZone',
  'NoSuchChange',
  'HostedZoneNotFound',
  'DBInstanceNotFound',
  'DBInstanceNotFoundFault',
  'DBSnapshotNotFound',
  'DBSnapshotNotFoundFault',
  'InvalidInstanceID.NotFound',
  'InvalidVolume.NotFound',
  'InvalidSnapshot.NotFound',
  'InvalidLaunchTemplateId.NotFound',
  'InvalidLaunchTemplateName.NotFoundException',
  'ResourceNotFound',
  'ResourceNotFoundException',
]);

interface SdkLikeError {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $fault?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $retryable?: { throttling?: unknown };
}

function asRecord(err: unknown): SdkLikeError {
  return typeof err === 'object' && err !== null ? (err as SdkLikeError) : {};
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

/**
 * The error code AWS (or Node) gave: the SDK puts the service's code in `name` (and sometimes `Code`); Node system
 * errors carry it in `code` (ECONNRESET). A network code wins over the name because the SDK renames ECONNRESET and
 * EPIPE to "TimeoutError"; a bare `Error` has name "Error", which says nothing, so `code` wins then too.
 */
export function awsErrorCode(err: unknown): string {
  const e = asRecord(err);
  const name = str(e.name);
  const code = str(e.Code) ?? str(e.code);
  if (code !== undefined && NETWORK.has(code)) return code;
  if (name && name !== 'Error' && name !== 'UnknownError' && name !== 'Unknown') return name;
  return code ?? name ?? 'Unknown';
}

function httpStatus(err: unknown): number | undefined {
  const status = asRecord(err).$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function codesOf(err: unknown): string[] {
  const e = asRecord(err);
  return [str(e.name), str(e.Code), str(e.code)].filter((c): c is string => c !== undefined);
}

function isSocketHangUp(err: unknown): boolean {
  const message = str(asRecord(err).message) ?? '';
  return /socket hang up|other side closed|connection reset/i.test(message);
}

/** What the caller should do about an error thrown by an SDK call (see the table at the top of this file). */
export function classifyAwsError(err: unknown): CloudErrorKind {
  const codes = codesOf(err);
  const has = (set: Set<string>) => codes.some((c) => set.has(c));
  const status = httpStatus(err);
  const e = asRecord(err);

  if (has(THROTTLED) || status === 429 || (e.$retryable?.throttling === true && !has(BUSY))) return 'throttled';
  if (has(BUSY)) return 'busy';
  // Before TIMEOUT: the SDK names a reset connection "TimeoutError" but keeps code ECONNRESET. A reset fails fast;
  // it is not the hang the circuit breaker counts as a timeout.
  if (has(NETWORK)) return 'retryable';
  if (has(TIMEOUT)) return 'timeout';
  if (has(NOT_FOUND)) return 'not-found';
  if (has(SERVER) || (status !== undefined && status >= 500) || e.$fault === 'server') return 'retryable';
  if (isSocketHangUp(err)) return 'retryable';
  return 'terminal';
}

/**
 * Wraps any thrown value as a CloudError, keeping the service's own message (Route 53's InvalidChangeBatch message
 * names the offending record) and the original error as `cause`. A CloudError passes through unchanged.
 */
export function normalizeAwsError(err: unknown, service: string, operation: string): CloudError {
  if (err instanceof CloudError) return err;
  const code = awsErrorCode(err);
  const message = str(asRecord(err).message) ?? (typeof err === 'string' ? err : code);
  return new CloudError({ kind: classifyAwsError(err), service, operation, code, message, cause: err });
}

/** Runs one SDK call and rethrows any failure as a CloudError: the adapters' single exit for errors. */
export async function callAws<T>(service: string, operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw normalizeAwsError(err, service, operation);
  }
}
