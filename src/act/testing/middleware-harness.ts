// Runs one or more middleware around a function, without the rest of the pipeline, for focused tests.
import type { CallHandler, CallMeta, Middleware } from '../types.ts';

export function runThrough<T>(
  middleware: Middleware[],
  meta: CallMeta,
  fn: (signal: AbortSignal, nextRequest: () => Promise<void>) => Promise<T>,
): Promise<T> {
  const innermost: CallHandler = (ctx) => ctx.fn(ctx.signal, ctx.nextRequest ?? (async () => {}));
  const handler = middleware.reduceRight<CallHandler>((next, m) => m.wrap(next), innermost);
  return handler({ meta, signal: meta.signal ?? new AbortController().signal, attempt: 1, fn }) as Promise<T>;
}
