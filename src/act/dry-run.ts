// Middleware 1 of 7: refuse writes for a policy in dry run. The executor never sends a dry-run policy's writes
// here; this is the last line of defence should a future caller forget.

import { DryRunRefused } from './errors.ts';
import type { Middleware } from './types.ts';

export function dryRunMiddleware(): Middleware {
  return {
    name: 'dry-run',
    wrap: (next) => async (ctx) => {
      const { meta } = ctx;
      if (meta.write && meta.dryRun === true) {
        throw new DryRunRefused({
          service: meta.service,
          operation: meta.operation,
          ...(meta.policy !== undefined && { policy: meta.policy }),
        });
      }
      return next(ctx);
    },
  };
}
