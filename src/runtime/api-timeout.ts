// Timeouts on Kubernetes API calls. client-node v2 sets none on its generated API clients: a call to an apiserver
// that accepted the connection and then went silent (a partition, an overloaded apiserver, a paused node) waits
// forever, holding a reconcile worker, the informer's list loop or an Event write with it. Every request-response
// call of the runtime (status and finalizer patches, Events, the Lease, informer lists) therefore carries a
// middleware that aborts it after a deadline and fails it with ApiTimeoutError, which callers treat like any other
// failed call (retry with backoff). Watches are long-lived by design and keep client-node's own connect and
// inactivity timeout (30 s; see informer.ts).

import type { ConfigurationOptions, ObservableMiddleware, RequestContext } from '@kubernetes/client-node';
import { Observable } from '@kubernetes/client-node';
import { ApiTimeoutError } from './errors.ts';

import { KUBE_API_TIMEOUT_MS } from './kube-api-timeout.ts';

export { KUBE_API_TIMEOUT_MS };

/** Aborts each request it sees after `timeoutMs` (response body included) with an ApiTimeoutError. */
export function requestTimeoutMiddleware(timeoutMs: number): ObservableMiddleware {
  return {
    pre(request: RequestContext) {
      const deadline = new AbortController();
      const what = `${request.getHttpMethod()} ${new URL(request.getUrl()).pathname}`;
      // unref: a timer left behind by a call that finished in time never keeps the process alive.
      setTimeout(
        () => deadline.abort(new ApiTimeoutError(`Kubernetes API call ${what} timed out after ${timeoutMs} ms`)),
        timeoutMs,
      ).unref();
      const caller = request.getSignal();
      request.setSignal(caller ? AbortSignal.any([caller, deadline.signal]) : deadline.signal);
      return new Observable(Promise.resolve(request));
    },
    post(response) {
      return new Observable(Promise.resolve(response));
    },
  };
}

/** Per-call options that add the timeout to `options` (e.g. a merge-patch Content-Type from setHeaderOptions). */
export function withRequestTimeout(
  timeoutMs: number = KUBE_API_TIMEOUT_MS,
  options?: ConfigurationOptions,
): ConfigurationOptions {
  return {
    ...options,
    middleware: [...(options?.middleware ?? []), requestTimeoutMiddleware(timeoutMs)],
    middlewareMergeStrategy: 'append',
  };
}
