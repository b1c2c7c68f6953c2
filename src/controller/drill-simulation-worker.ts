// Worker-thread entry of a DryRun drill (PB-12): runs the embedded simulation off the operator's event loop, so a
// 30-hour replay (about a minute of CPU) cannot delay policy reconciles or Lease renewals. Started by
// drill-simulator.ts with the inputs as `workerData`; posts the report and timeline back once and exits. A throw
// here surfaces in the parent as the Worker's `error` event.

import { parentPort, workerData } from 'node:worker_threads';
import { runSimulation } from '../simulate/run-simulation.ts';
import type { DrillSimulationInput, DrillSimulationOutput } from './drill-simulator.ts';

if (!parentPort) throw new Error('drill-simulation-worker.ts runs only as a worker thread (see drill-simulator.ts)');
const input = workerData as DrillSimulationInput;
const { report, timeline } = await runSimulation({
  policy: input.policy,
  scenario: input.scenario,
  ...(input.seed !== undefined ? { seed: input.seed } : {}),
});
const output: DrillSimulationOutput = { report, timeline };
parentPort.postMessage(output);
