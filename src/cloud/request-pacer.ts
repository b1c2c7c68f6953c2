// The requests of one adapter call, each in its turn. An adapter method that sends several AWS requests (a health
// check, then its tags; a listing, page by page; metric batches) asks for each request's turn before sending it:
// the first request's grant came with the call, every later one waits for `CallOptions.nextRequest` (the rate
// limit's next grant, src/act/rate-limit.ts). Reserving every grant before the first request would let them all go
// out back to back after the last grant — a burst the limit was meant to prevent.

import type { CallOptions } from './types.ts';

/** Await the returned function before each request of the call: at once the first time, a new grant after that. */
export function createRequestPacer(opts: CallOptions = {}): () => Promise<void> {
  let first = true;
  return async () => {
    if (first) {
      first = false;
      return;
    }
    await opts.nextRequest?.();
  };
}
