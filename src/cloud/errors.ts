// Errors typed by what the caller should do (STYLE 4). Adapters map service faults to these at their boundary;
// nothing above the adapters inspects SDK error names.

export type CloudErrorKind =
  /** transient server fault or network error: retry with backoff */
  | 'retryable'
  /** rate limited (Throttling, RequestLimitExceeded): retry later, slower */
  | 'throttled'
  /** the resource is busy with an earlier request (PriorRequestNotComplete, InvalidDBInstanceState): wait, retry */
  | 'busy'
  /** the call exceeded its timeout or hung: retry with backoff, count towards the circuit breaker */
  | 'timeout'
  /** the resource does not exist: stop and report */
  | 'not-found'
  /** bad request, access denied, invalid parameters: do not retry */
  | 'terminal';

export class CloudError extends Error {
  readonly kind: CloudErrorKind;
  readonly service: string;
  readonly operation: string;
  readonly code: string;

  constructor(args: {
    kind: CloudErrorKind;
    service: string;
    operation: string;
    code: string;
    message: string;
    cause?: unknown;
  }) {
    super(args.message, { cause: args.cause });
    this.name = 'CloudError';
    this.kind = args.kind;
    this.service = args.service;
    this.operation = args.operation;
    this.code = args.code;
  }

  get retryable(): boolean {
    return this.kind === 'retryable' || this.kind === 'throttled' || this.kind === 'busy' || this.kind === 'timeout';
  }
}

export function isCloudError(err: unknown): err is CloudError {
  return err instanceof CloudError;
}

/** An error as a person reads it: a CloudError's message led by its AWS error code unless it names it already. */
export function errorText(err: Error): string {
  return isCloudError(err) && !err.message.includes(err.code) ? `${err.code}: ${err.message}` : err.message;
}
