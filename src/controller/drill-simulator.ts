// DryRun drills run the embedded simulation in a worker thread (PB-12), never on the operator's event loop: a replay
// of the 30-hour us-east-1-2011 timeline costs about a minute of CPU, and on the main thread it competed with
// policy reconciles and Lease renewals (stalls up to 171 ms). Here the simulation gets its own thread and the main
// loop only waits for one message.
//
// At most `maxConcurrent` simulations run at once (default 1, so drills use at most one core); the rest wait their
// turn in arrival order. The caller's AbortSignal terminates a running worker (or drops a waiting turn) and rejects
// with AbortedError. A worker that throws or exits without a result rejects with DrillSimulationError, an ordinary
// (retryable) error: the drill reconcile is retried with backoff.
//
// Each worker runs with a heap limit (`heapLimitMb`, default 192 MiB of old generation): a simulation too large for
// it (a week-long timeline, a flood of events) ends its own thread with ERR_WORKER_OUT_OF_MEMORY instead of taking
// the operator's process over the pod's memory limit — where every leader in turn would be OOM-killed and nobody
// would fail over. That outcome is DrillSimulationTooLarge: final for that drill, never retried.

import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { FailoverPolicy } from '../api/index.ts';
import { AbortedError } from '../runtime/abort.ts';
import type { Scenario } from '../scenarios/index.ts';
import type { DrillReport } from '../simulate/drill-report.ts';
import type { TimelineEntry } from '../simulate/timeline.ts';

/** What the worker receives (structured-cloned): the simulated policy, the scenario and the seed. */
export interface DrillSimulationInput {
  policy: FailoverPolicy;
  scenario: Scenario;
  /** Random seed of the simulated cloud and the operator's jitter (runSimulation's default, 1, when absent). */
  seed?: number;
}

/** What the worker posts back: the drill report and the timeline it was computed from. */
export interface DrillSimulationOutput {
  report: DrillReport;
  timeline: TimelineEntry[];
}

/** The simulation's worker crashed (threw, ran out of memory, or exited) before reporting. Retryable. */
export class DrillSimulationError extends Error {
  override readonly name: string = 'DrillSimulationError';
}

/** The simulation outgrew its worker's heap limit: it would every time, so the drill fails instead of retrying. */
export class DrillSimulationTooLarge extends DrillSimulationError {
  override readonly name = 'DrillSimulationTooLarge';
}

/** Default heap (old generation) of one simulation worker, MiB. */
export const DEFAULT_WORKER_HEAP_LIMIT_MB = 192;
/**
 * Young generation of one simulation worker, MiB: 2 MiB semi-spaces, as `npm start` runs the simulation. About half
 * of a simulation's young objects outlive a scavenge (the work parked on the virtual clock), so V8's default 16 MiB
 * semi-spaces promote tens of MiB of short-lived objects and the old generation grows to several times what the run
 * holds (bench/results/simulation.md).
 */
export const WORKER_YOUNG_GENERATION_MB = 6;

export interface WorkerDrillSimulatorOptions {
  /** Simulations that may run at once; the rest wait their turn. Default 1 (drills take at most one core). */
  maxConcurrent?: number;
  /** The worker module; default drill-simulation-worker beside this module (`.ts` from source, `.js` from dist). */
  workerUrl?: URL;
  /** Heap limit of each worker (old generation), MiB. Default DEFAULT_WORKER_HEAP_LIMIT_MB. */
  heapLimitMb?: number;
  logger?: Logger;
}

export interface WorkerDrillSimulator {
  (input: DrillSimulationInput & { signal: AbortSignal }): Promise<DrillSimulationOutput>;
  /** Simulations running now, and waiting for a turn. */
  load(): { running: number; waiting: number };
}

export function createWorkerDrillSimulator(opts: WorkerDrillSimulatorOptions = {}): WorkerDrillSimulator {
  const maxConcurrent = opts.maxConcurrent ?? 1;
  if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
    throw new RangeError(`maxConcurrent: ${maxConcurrent} is not a whole number of simulations; use 1 or more`);
  }
  // Node runs the .ts source directly (type stripping); the built image runs dist/*.js, where this module is .js.
  const extension = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  const workerUrl = opts.workerUrl ?? new URL(`./drill-simulation-worker.${extension}`, import.meta.url);
  let running = 0;
  const waiting: Array<() => void> = [];

  async function acquire(signal: AbortSignal, scenario: string): Promise<void> {
    if (signal.aborted) throw new AbortedError('aborted', { cause: signal.reason });
    if (running < maxConcurrent) {
      running++;
      return;
    }
    opts.logger?.info(
      { scenario, running, waiting: waiting.length, maxConcurrent, rule: 'PB-12' },
      'Queued drill simulation behind the running ones',
    );
    await new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        const at = waiting.indexOf(grant);
        if (at >= 0) waiting.splice(at, 1);
        reject(new AbortedError('aborted', { cause: signal.reason }));
      };
      waiting.push(grant);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  // A released turn passes straight to the next waiter, so `running` never exceeds the limit.
  function release(): void {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }

  const simulate = async (input: DrillSimulationInput & { signal: AbortSignal }): Promise<DrillSimulationOutput> => {
    const { signal, ...data } = input;
    await acquire(signal, data.scenario.name);
    const worker = new Worker(workerUrl, {
      workerData: data,
      name: `drill-simulation ${data.scenario.name}`,
      resourceLimits: {
        maxOldGenerationSizeMb: opts.heapLimitMb ?? DEFAULT_WORKER_HEAP_LIMIT_MB,
        maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB,
      },
    });
    try {
      return await outcome(worker, data.scenario.name, signal, opts.heapLimitMb ?? DEFAULT_WORKER_HEAP_LIMIT_MB);
    } catch (err) {
      if (err instanceof DrillSimulationError) {
        opts.logger?.error({ scenario: data.scenario.name, err, rule: 'PB-12' }, 'Drill simulation worker crashed');
      }
      throw err;
    } finally {
      // The turn is free only once the thread is gone (an aborted run stops burning CPU first).
      await worker.terminate();
      release();
    }
  };
  return Object.assign(simulate, { load: () => ({ running, waiting: waiting.length }) });
}

function outcome(
  worker: Worker,
  scenario: string,
  signal: AbortSignal,
  heapLimitMb: number,
): Promise<DrillSimulationOutput> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = () => settle(() => reject(new AbortedError('aborted', { cause: signal.reason })));
    worker.once('message', (out: DrillSimulationOutput) => settle(() => resolve(out)));
    worker.once('error', (err: unknown) => {
      const why = err instanceof Error ? err.message : String(err);
      if ((err as { code?: unknown } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        settle(() =>
          reject(
            new DrillSimulationTooLarge(
              `simulation of scenario ${scenario} ran out of its worker's memory (${heapLimitMb} MiB heap): shorten the scenario or its events`,
              { cause: err },
            ),
          ),
        );
        return;
      }
      settle(() =>
        reject(
          new DrillSimulationError(`simulation of scenario ${scenario} crashed in its worker thread: ${why}`, {
            cause: err,
          }),
        ),
      );
    });
    worker.once('exit', (code) =>
      settle(() =>
        reject(
          new DrillSimulationError(
            `simulation of scenario ${scenario}: its worker thread exited with code ${code} before reporting`,
          ),
        ),
      ),
    );
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}
