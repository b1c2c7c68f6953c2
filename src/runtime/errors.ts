/**
 * Errors typed by what the runtime should do with them (controller-runtime's taxonomy):
 * - any error thrown by a reconciler → requeue with per-key backoff;
 * - `TerminalError` → log, forget the key, do not retry (a new watch event or resync brings it back);
 * - `ConflictError` → the object changed under us (HTTP 409); retry after re-reading, which a requeue does.
 */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

/** Optimistic concurrency failed (HTTP 409): someone else wrote the object first. Retryable. */
export class ConflictError extends Error {
  override readonly name = 'ConflictError';
}

/** The object does not exist (HTTP 404). */
export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

/** A Kubernetes API call got no answer within its deadline (api-timeout.ts). Retryable; it may have taken effect. */
export class ApiTimeoutError extends Error {
  override readonly name = 'ApiTimeoutError';
}

export function isTerminalError(err: unknown): err is TerminalError {
  return err instanceof TerminalError;
}

/**
 * The HTTP status of a Kubernetes API failure: `ApiException.code` (client-node v2 API clients), `statusCode`
 * (client-node `Watch`), or `code` of a `Status` object delivered as a watch ERROR event.
 */
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const record = err as { code?: unknown; statusCode?: unknown };
  if (typeof record.code === 'number') return record.code;
  if (typeof record.statusCode === 'number') return record.statusCode;
  return undefined;
}

/** Maps 404 and 409 API failures to our error classes (keeping the original as `cause`); rethrows the rest. */
export function translateApiError(err: unknown, what: string): never {
  const status = httpStatusOf(err);
  if (status === 409) throw new ConflictError(`${what}: conflict`, { cause: err });
  if (status === 404) throw new NotFoundError(`${what}: not found`, { cause: err });
  throw err;
}
