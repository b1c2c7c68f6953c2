import { describe, expect, it } from 'vitest';
import { applyPolicyDefaults, type FailoverPolicy } from '../api/index.ts';
import { loadExample } from '../api/testdata/invalid-cases.ts';
import { AbortedError } from '../runtime/abort.ts';
import { loadScenario } from '../scenarios/index.ts';
import { runSimulation } from '../simulate/run-simulation.ts';
import { createWorkerDrillSimulator, DrillSimulationError, DrillSimulationTooLarge } from './drill-simulator.ts';

const orders = (): FailoverPolicy => applyPolicyDefaults(loadExample('two-region-rds'));
const never = () => new AbortController().signal;

/** A stand-in worker module: runs `body` (ES module source with parentPort and workerData in scope). */
function workerModule(body: string): URL {
  const source = `import { parentPort, workerData } from 'node:worker_threads';\n${body}`;
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

/** Reports when it started and finished, after holding its thread for `workerData.scenario.holdMs`. */
const HOLDING_WORKER = workerModule(`
  const startedAt = Date.now();
  setTimeout(() => parentPort.postMessage({
    report: { scenario: workerData.scenario.name, startedAt, finishedAt: Date.now() },
    timeline: [],
  }), workerData.scenario.holdMs);
`);

function fakeScenario(name: string, holdMs: number) {
  return { ...loadScenario('zone-outage'), name, holdMs } as ReturnType<typeof loadScenario>;
}

// Real simulations in worker threads: seconds each, more on a busy machine (generous timeouts, no speed bounds).
describe('createWorkerDrillSimulator', { timeout: 60_000 }, () => {
  it('returns the same report and timeline as the simulation run in-process (same seed)', async () => {
    const simulate = createWorkerDrillSimulator();
    const policy = orders();
    const scenario = loadScenario('zone-outage');
    const inWorker = await simulate({ policy, scenario, seed: 7, signal: never() });
    const inProcess = await runSimulation({ policy, scenario, seed: 7 });
    expect(inWorker.report.passed).toBe(true);
    expect(inWorker.report).toEqual(inProcess.report);
    expect(inWorker.timeline).toEqual(inProcess.timeline);
    expect(simulate.load()).toEqual({ running: 0, waiting: 0 });
  });

  it('runs off the main thread: the event loop stays idle and keeps ticking while a long replay runs', async () => {
    const simulate = createWorkerDrillSimulator();
    // region-outage simulates two hours with a promotion: seconds of CPU. Run in-process, the main loop's
    // utilization is 1.00 for the whole run (measured: 2.0 s, ELU 1.000; the simulation yields between steps, so
    // timers still fire); in the worker the main loop only waits for one message (measured ELU 0.002).
    const ticks: number[] = [];
    const timer = setInterval(() => ticks.push(performance.now()), 10);
    const before = performance.eventLoopUtilization();
    const startedAt = performance.now();
    const out = await simulate({ policy: orders(), scenario: loadScenario('region-outage'), signal: never() });
    const wallMs = performance.now() - startedAt;
    const busy = performance.eventLoopUtilization(before).utilization;
    clearInterval(timer);

    expect(out.report.scenario).toBe('region-outage');
    expect(wallMs).toBeGreaterThan(300); // long enough that the bounds below mean something
    expect(busy).toBeLessThan(0.5);
    // Ticks kept coming throughout (10 ms interval; allow a loaded machine a lot of slack).
    expect(ticks.length).toBeGreaterThan(wallMs / 10 / 5);
    const gaps = ticks.slice(1).map((t, i) => t - ticks[i]!);
    expect(Math.max(...gaps)).toBeLessThan(Math.max(500, wallMs / 2));
  });

  it('terminates the worker when the caller aborts, and frees the turn', async () => {
    const simulate = createWorkerDrillSimulator();
    const abort = new AbortController();
    const run = simulate({ policy: orders(), scenario: loadScenario('us-east-1-2011'), signal: abort.signal });
    setTimeout(() => abort.abort(new Error('operator shutting down')), 200);
    const err = await run.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AbortedError);
    expect((err as AbortedError).cause).toEqual(new Error('operator shutting down'));
    expect(simulate.load()).toEqual({ running: 0, waiting: 0 });
  });

  it('runs at most maxConcurrent simulations at once; the rest wait their turn in order', async () => {
    const simulate = createWorkerDrillSimulator({ maxConcurrent: 1, workerUrl: HOLDING_WORKER });
    const runs = ['a', 'b', 'c'].map((name) =>
      simulate({ policy: orders(), scenario: fakeScenario(name, 150), signal: never() }),
    );
    expect(simulate.load()).toEqual({ running: 1, waiting: 2 });
    const reports = (await Promise.all(runs)).map(
      (r) => r.report as unknown as { scenario: string; startedAt: number; finishedAt: number },
    );
    expect(reports.map((r) => r.scenario)).toEqual(['a', 'b', 'c']);
    for (let i = 1; i < reports.length; i++) {
      expect(reports[i]!.startedAt).toBeGreaterThanOrEqual(reports[i - 1]!.finishedAt);
    }
    expect(simulate.load()).toEqual({ running: 0, waiting: 0 });

    const two = createWorkerDrillSimulator({ maxConcurrent: 2, workerUrl: HOLDING_WORKER });
    const more = ['a', 'b', 'c'].map((name) =>
      two({ policy: orders(), scenario: fakeScenario(name, 50), signal: never() }),
    );
    expect(two.load()).toEqual({ running: 2, waiting: 1 });
    await Promise.all(more);
  });

  it('drops a waiting turn when its caller aborts, without starting a worker', async () => {
    const simulate = createWorkerDrillSimulator({ workerUrl: HOLDING_WORKER });
    const first = simulate({ policy: orders(), scenario: fakeScenario('first', 200), signal: never() });
    const abort = new AbortController();
    const second = simulate({ policy: orders(), scenario: fakeScenario('second', 0), signal: abort.signal });
    expect(simulate.load()).toEqual({ running: 1, waiting: 1 });
    abort.abort();
    await expect(second).rejects.toBeInstanceOf(AbortedError);
    expect(simulate.load()).toEqual({ running: 1, waiting: 0 });
    await first;
    expect(simulate.load()).toEqual({ running: 0, waiting: 0 });
  });

  it('ends a simulation that outgrows its heap limit in its own thread, as DrillSimulationTooLarge (not retried)', async () => {
    const hog = createWorkerDrillSimulator({
      heapLimitMb: 16,
      workerUrl: workerModule('const kept = []; for (;;) kept.push(new Array(100_000).fill(Math.random()));'),
    });
    const run = hog({ policy: orders(), scenario: fakeScenario('week-long', 0), signal: never() });
    await expect(run).rejects.toBeInstanceOf(DrillSimulationTooLarge);
    await expect(run).rejects.toThrow("simulation of scenario week-long ran out of its worker's memory (16 MiB heap)");
    expect(hog.load()).toEqual({ running: 0, waiting: 0 });
    // The operator's own heap was never at risk: this thread is still here to assert it.
    expect(process.memoryUsage().heapUsed).toBeLessThan(512 * 1024 * 1024);
  }, 30_000);

  it('rejects with a clear DrillSimulationError when the worker throws or exits without a result', async () => {
    const throwing = createWorkerDrillSimulator({ workerUrl: workerModule(`throw new Error('heap exhausted');`) });
    const thrown = throwing({ policy: orders(), scenario: fakeScenario('boom', 0), signal: never() });
    await expect(thrown).rejects.toBeInstanceOf(DrillSimulationError);
    await expect(thrown).rejects.toThrow('simulation of scenario boom crashed in its worker thread: heap exhausted');
    expect(throwing.load()).toEqual({ running: 0, waiting: 0 });

    const exiting = createWorkerDrillSimulator({ workerUrl: workerModule('process.exit(3);') });
    await expect(exiting({ policy: orders(), scenario: fakeScenario('quit', 0), signal: never() })).rejects.toThrow(
      'simulation of scenario quit: its worker thread exited with code 3 before reporting',
    );
  });

  it('names the option and the fix for a bad concurrency limit', () => {
    expect(() => createWorkerDrillSimulator({ maxConcurrent: 0 })).toThrow(
      'maxConcurrent: 0 is not a whole number of simulations; use 1 or more',
    );
  });
});
