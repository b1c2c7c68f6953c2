/** Thrown by `raceAbort` when the signal wins; carries the signal's reason as `cause`. */
export class AbortedError extends Error {
  override readonly name = 'AbortError';
}

/**
 * Settles with `promise`, or rejects with an AbortedError as soon as `signal` aborts. The underlying work is not
 * cancelled (client-node v2 API calls take no signal); its late result is ignored and its late failure swallowed.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(new AbortedError('aborted', { cause: signal.reason }));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      reject(new AbortedError('aborted', { cause: signal.reason }));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
