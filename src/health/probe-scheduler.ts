// Runs probes on their interval and shares them between policies. When several policies name the same target
// (same Probe.key: kind + resolved URL / address / zone / region / selector), the target is probed once per
// interval (the shortest interval any subscriber asked for) and every subscriber receives the result, labelled
// with its own probe name.
//
// Scheduling, per target:
// - the first run starts after a random offset in [0, jitter × interval), so 1,000 targets added at once do not
//   fire in the same millisecond (and do not hit the same AWS API in a burst, PB-8);
// - then one run per interval on a fixed cadence (next = previous + interval, so slow runs do not drift it);
// - a run that is still going (or still queued) when the next is due is not doubled: that tick is skipped and
//   counted, so a hanging endpoint never piles up work;
// - each run has its own timeout, enforced with the injected clock: past it, the run is aborted and a `down`
//   result ("timeout after …") is delivered. Targets are independent: a slow probe never delays the others.
// Across targets, at most `maxInFlight` runs execute at once (p-limit); the rest wait their turn. A run's timeout
// counts from when it starts, not while it waits for a slot: queueing is our capacity, not the target's fault
// (the bench measures how many targets one process sustains).
// Shutdown: abort the signal passed in; loops stop, in-flight runs are aborted, `stopped` resolves.

import pLimit from 'p-limit';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { errorMessage, failedObservation, type Probe, type ProbeObservation } from './probe.ts';
import type { ProbeResult } from './types.ts';

/**
 * Reason for cancelling a finished run's timeout timer. Preallocated: `abort()` without a reason builds a new
 * DOMException (with a stack trace) every time, which at hundreds of probe runs per second is most of the cost.
 */
const RUN_FINISHED = new Error('probe run finished');

export interface ProbeSubscription {
  /** The policy's name for this probe; set as ProbeResult.probe on what this subscriber receives. */
  name: string;
  probe: Probe;
  intervalMs: number;
  onResults(results: ProbeResult[]): void;
}

export interface ProbeSchedulerOptions {
  clock: Clock;
  signal: AbortSignal;
  /** Runs executing at once across all targets. Default 64. */
  maxInFlight?: number;
  /** First-run offset as a fraction of the interval, in [0, 1]. Default 1 (spread over a whole interval). */
  jitter?: number;
  /** Injected randomness for the jitter; default Math.random. */
  random?: () => number;
  logger?: Logger;
}

export interface ProbeSchedulerStats {
  targets: number;
  subscriptions: number;
  started: number;
  completed: number;
  timedOut: number;
  failed: number;
  /** Ticks skipped because the previous run of the same target had not finished. */
  skippedOverlaps: number;
  inFlight: number;
  maxInFlightObserved: number;
}

export interface ProbeScheduler {
  /** Starts (or joins) the target's loop; returns the function that unsubscribes. */
  subscribe(sub: ProbeSubscription): () => void;
  stats(): ProbeSchedulerStats;
  /** Resolves when every loop has stopped after the signal aborted. */
  stopped(): Promise<void>;
}

interface Target {
  probe: Probe;
  subs: Set<ProbeSubscription>;
  controller: AbortController;
  busy: boolean;
  loop: Promise<void>;
}

export function createProbeScheduler(options: ProbeSchedulerOptions): ProbeScheduler {
  const { clock, signal, logger } = options;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 1));
  const random = options.random ?? Math.random;
  // rejectOnClear: runs still waiting for a slot at shutdown settle (rejected) instead of hanging stopped().
  const limit = pLimit({ concurrency: options.maxInFlight ?? 64, rejectOnClear: true });
  const runs = new Set<Promise<void>>();
  const targets = new Map<string, Target>();
  const counters = { started: 0, completed: 0, timedOut: 0, failed: 0, skippedOverlaps: 0, maxInFlight: 0 };
  let running = 0;
  let subscriptions = 0;

  function intervalOf(t: Target): number {
    let min = Number.POSITIVE_INFINITY;
    for (const s of t.subs) min = Math.min(min, s.intervalMs);
    return min;
  }

  async function sleep(ms: number, s: AbortSignal): Promise<boolean> {
    try {
      await clock.sleep(ms, s);
    } catch {
      // aborted
    }
    return !s.aborted;
  }

  function deliver(t: Target, observations: ProbeObservation[]): void {
    for (const sub of [...t.subs]) {
      const labelled = observations.map((o): ProbeResult => ({ probe: sub.name, ...o }));
      try {
        sub.onResults(labelled);
      } catch (err) {
        logger?.error(
          { probe: sub.name, target: t.probe.key, err: errorMessage(err) },
          'subscriber failed to take probe results',
        );
      }
    }
  }

  async function runOnce(t: Target): Promise<void> {
    if (t.controller.signal.aborted) return;
    const probe = t.probe;
    // One listener on the long-lived target signal per run, removed when the run ends (AbortSignal.any on a
    // long-lived parent keeps every child alive until GC; at 1,000 probes/s that adds up).
    const runController = new AbortController();
    const timer = new AbortController();
    const onTargetAbort = (): void => {
      runController.abort();
      timer.abort();
    };
    t.controller.signal.addEventListener('abort', onTargetAbort, { once: true });
    running++;
    counters.started++;
    counters.maxInFlight = Math.max(counters.maxInFlight, running);
    const started = clock.now();
    const timeout = sleep(probe.timeoutMs, timer.signal).then((fired) =>
      fired ? ('timeout' as const) : ('cancelled' as const),
    );
    const attempt = probe
      .run({ signal: runController.signal, now: () => clock.now(), timeoutEnforcedByCaller: true })
      .then(
        (observations) => ({ observations }),
        (err: unknown) => ({ error: err }),
      );
    try {
      const outcome = await Promise.race([attempt, timeout]);
      if (t.controller.signal.aborted) return;
      if (outcome === 'timeout') {
        runController.abort();
        counters.timedOut++;
        deliver(t, [failedObservation(probe, clock.now(), `timeout after ${probe.timeoutMs}ms`, { cause: 'timeout' })]);
        // Let the aborted run settle before the target may run again (no overlapping runs), but only for a grace
        // period: a probe that ignores its signal must not silence its target for good.
        await Promise.race([attempt, sleep(Math.min(probe.timeoutMs, 1_000), t.controller.signal)]);
      } else if (outcome === 'cancelled') {
        return;
      } else if ('error' in outcome) {
        counters.failed++;
        deliver(t, [failedObservation(probe, clock.now(), errorMessage(outcome.error), { cause: 'error' })]);
      } else {
        counters.completed++;
        deliver(t, outcome.observations);
      }
    } finally {
      t.controller.signal.removeEventListener('abort', onTargetAbort);
      timer.abort(RUN_FINISHED);
      running--;
      logger?.trace({ target: probe.key, tookMs: clock.now() - started }, 'probe ran');
    }
  }

  async function loop(t: Target): Promise<void> {
    const s = t.controller.signal;
    const first = Math.floor(random() * jitter * intervalOf(t));
    if (!(await sleep(first, s))) return;
    let next = clock.now();
    while (!s.aborted) {
      if (t.busy) {
        counters.skippedOverlaps++;
      } else {
        t.busy = true;
        const run = limit(() => runOnce(t))
          .catch(() => {
            // cleared from the queue at shutdown; runOnce itself never throws
          })
          .finally(() => {
            t.busy = false;
            runs.delete(run);
          });
        runs.add(run);
      }
      next += intervalOf(t);
      if (!(await sleep(Math.max(0, next - clock.now()), s))) return;
    }
  }

  function stopTarget(key: string, t: Target): void {
    t.controller.abort();
    targets.delete(key);
  }

  const onShutdown = (): void => {
    for (const [key, t] of [...targets]) stopTarget(key, t);
    limit.clearQueue();
  };
  signal.addEventListener('abort', onShutdown, { once: true });
  const loops = new Set<Promise<void>>();

  return {
    subscribe(sub) {
      if (signal.aborted) return () => {};
      if (!(sub.intervalMs > 0)) throw new RangeError(`probe ${sub.name}: intervalMs must be > 0`);
      let t = targets.get(sub.probe.key);
      subscriptions++;
      if (t) {
        t.subs.add(sub);
      } else {
        const created: Target = {
          probe: sub.probe,
          subs: new Set([sub]),
          controller: new AbortController(),
          busy: false,
          loop: Promise.resolve(),
        };
        targets.set(sub.probe.key, created);
        created.loop = loop(created);
        loops.add(created.loop);
        void created.loop.finally(() => loops.delete(created.loop));
        t = created;
        logger?.debug(
          { target: sub.probe.key, kind: sub.probe.kind, probe: sub.name, rule: 'PB-1' },
          'started probing target',
        );
      }
      const target = t;
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        subscriptions--;
        target.subs.delete(sub);
        if (target.subs.size === 0 && targets.get(sub.probe.key) === target) {
          stopTarget(sub.probe.key, target);
          logger?.debug({ target: sub.probe.key, rule: 'PB-1' }, 'stopped probing target: no subscribers left');
        }
      };
    },
    stats() {
      return {
        targets: targets.size,
        subscriptions,
        started: counters.started,
        completed: counters.completed,
        timedOut: counters.timedOut,
        failed: counters.failed,
        skippedOverlaps: counters.skippedOverlaps,
        inFlight: running,
        maxInFlightObserved: counters.maxInFlight,
      };
    },
    async stopped() {
      await Promise.all([...loops, ...runs]);
    },
  };
}
