// Runs every benchmark in turn; each writes its results to bench/results/. `npm run bench`.
import { spawnSync } from 'node:child_process';

const benches = [
  'bench/detection/detection.bench.ts',
  'bench/simulation/simulation.bench.ts',
  // Fault → no DNS answer at the dead zone: record edits vs the data-plane path, 3 × 450 simulated minutes, ~15 s.
  'bench/dataplane/dataplane.bench.ts',
  // Real test bed + operator child process, 1,000 policies: about 10 minutes (`--quick` alone: about 2).
  'bench/reconcile/reconcile.bench.ts',
];
let failed = 0;
for (const bench of benches) {
  process.stdout.write(`\n== ${bench}\n`);
  const r = spawnSync(process.execPath, [bench], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exitCode = failed === 0 ? 0 : 1;
