// One measured simulation in its own process (bench/simulation/simulation.bench.ts starts it): peak RSS is the
// kernel's high-water mark for this process alone (process.resourceUsage().maxRSS), so runs do not inherit each
// other's heap. Prints one JSON line on stdout.
//
//   node --expose-gc [V8 flags] bench/simulation/memory-child.ts <scenario> [--week]

import { readFileSync } from 'node:fs';
import { loadManifests } from '../../src/api/index.ts';
import { loadScenario } from '../../src/scenarios/index.ts';
import type { Scenario } from '../../src/scenarios/scenario-schema.ts';
import { runSimulation } from '../../src/simulate/run-simulation.ts';

const [name = 'us-east-1-2011', ...rest] = process.argv.slice(2);
const WEEK_MINUTES = 7 * 24 * 60;

/**
 * A week of the scenario: its timeline again and again (each copy starting where the last one's duration ends)
 * until 7 days are filled, without its expectations (written for one pass). Only for measuring memory and speed.
 */
export function weekLong(scenario: Scenario): Scenario {
  const period = scenario.durationMinutes;
  const copies = Math.floor(WEEK_MINUTES / period);
  const events = Array.from({ length: copies }, (_, k) =>
    scenario.events.map((e) => ({ ...e, at: e.at + k * period })),
  ).flat();
  const { expect: _expect, ...rest } = scenario;
  return { ...rest, name: `${scenario.name}-7d`, durationMinutes: WEEK_MINUTES, events };
}

const file = 'examples/two-region-rds.yaml';
const [doc] = loadManifests(readFileSync(file, 'utf8'), file);
if (doc?.type !== 'FailoverPolicy' || !doc.result.ok) throw new Error(`${file} is not a valid FailoverPolicy`);
const scenario = rest.includes('--week') ? weekLong(loadScenario(name)) : loadScenario(name);

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
let peakHeapUsed = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const { report } = await runSimulation({
  policy: doc.result.value,
  scenario,
  onProgress: () => {
    peakHeapUsed = Math.max(peakHeapUsed, process.memoryUsage().heapUsed);
  },
});
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
const after = process.memoryUsage();
process.stdout.write(
  `${JSON.stringify({
    scenario: scenario.name,
    simulatedMinutes: scenario.durationMinutes,
    events: scenario.events.length,
    wallMs: Math.round(wallMs),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    peakRssMiB: mib(process.resourceUsage().maxRSS * 1024),
    peakHeapUsedMiB: mib(peakHeapUsed),
    heapAfterGcMiB: gc ? mib(after.heapUsed) : null,
    rssAfterMiB: mib(after.rss),
    passed: report.passed,
    baselines: report.baselines?.length ?? 0,
  })}\n`,
);
