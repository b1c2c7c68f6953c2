// Benchmark: how long the embedded simulation takes (wall clock and CPU) and how much memory it needs, per built-in
// scenario, with the two-region example policy. The README's first command runs the 2011 replay; issue #6 asks it
// to finish in well under a minute. Results: bench/results/simulation.{json,md}. Not a test: nothing asserts.
//
//   node bench/simulation/simulation.bench.ts [--runs N]

import { readFileSync, writeFileSync } from 'node:fs';
import { loadManifests } from '../../src/api/index.ts';
import { listBuiltinScenarios, loadScenario } from '../../src/scenarios/index.ts';
import { runSimulation } from '../../src/simulate/run-simulation.ts';

const args = process.argv.slice(2);
const runsArg = args.indexOf('--runs');
const RUNS = runsArg >= 0 ? Number(args[runsArg + 1]) : 3;

const file = 'examples/two-region-rds.yaml';
const [doc] = loadManifests(readFileSync(file, 'utf8'), file);
if (doc?.type !== 'FailoverPolicy' || !doc.result.ok) throw new Error(`${file} is not a valid FailoverPolicy`);
const policy = doc.result.value;

interface Row {
  scenario: string;
  simulatedMinutes: number;
  runs: number;
  wallMsMedian: number;
  wallMsMax: number;
  cpuMsMedian: number;
  simulatedMinutesPerWallSecond: number;
  rssMiBAfter: number;
  passed: boolean;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const rows: Row[] = [];
for (const { name } of listBuiltinScenarios()) {
  const scenario = loadScenario(name);
  const walls: number[] = [];
  const cpus: number[] = [];
  let passed = true;
  for (let i = 0; i < RUNS; i++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const { report } = await runSimulation({ policy, scenario, seed: i + 1 });
    walls.push(performance.now() - t0);
    const cpu = process.cpuUsage(cpu0);
    cpus.push((cpu.user + cpu.system) / 1000);
    passed &&= report.passed;
  }
  const wall = median(walls);
  rows.push({
    scenario: name,
    simulatedMinutes: scenario.durationMinutes,
    runs: RUNS,
    wallMsMedian: Math.round(wall),
    wallMsMax: Math.round(Math.max(...walls)),
    cpuMsMedian: Math.round(median(cpus)),
    simulatedMinutesPerWallSecond: Math.round((scenario.durationMinutes / (wall / 1000)) * 10) / 10,
    rssMiBAfter: Math.round(process.memoryUsage().rss / 2 ** 20),
    passed,
  });
  process.stderr.write(`${name}: median ${Math.round(wall)} ms over ${RUNS} run(s)\n`);
}

const meta = { node: process.version, cpus: (await import('node:os')).cpus().length, date: new Date().toISOString() };
writeFileSync('bench/results/simulation.json', `${JSON.stringify({ meta, rows }, null, 2)}\n`);
const md = [
  `# Simulation benchmark (${meta.date}, Node ${meta.node}, ${meta.cpus} cores)`,
  '',
  '| scenario | simulated min | wall ms (median / max) | CPU ms (median) | sim-min per wall-s | RSS MiB after | drill passed |',
  '|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.scenario} | ${r.simulatedMinutes} | ${r.wallMsMedian} / ${r.wallMsMax} | ${r.cpuMsMedian} | ${r.simulatedMinutesPerWallSecond} | ${r.rssMiBAfter} | ${r.passed ? 'yes' : 'NO'} |`,
  ),
  '',
].join('\n');
writeFileSync('bench/results/simulation.md', md);
process.stdout.write(md);
