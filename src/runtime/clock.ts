import type { Clock } from '../clock.ts';

export type { Clock };

/**
 * Sleeps on the injected clock and swallows the abort (src/clock.ts sleeps reject when their signal aborts), so
 * loops can write `await sleepQuietly(...); if (signal.aborted) break;`.
 */
export async function sleepQuietly(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return;
  try {
    await clock.sleep(Math.max(0, ms), signal);
  } catch (err) {
    if (!signal?.aborted) throw err;
  }
}
