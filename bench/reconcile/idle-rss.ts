// Idle RSS of the operator (issue #16: ≤ 120 MiB with no policy), without the whole reconcile bench. Run:
//   node bench/reconcile/idle-rss.ts [--seconds 60] [--runs 1] [--snapshot]
// Starts the real operator as a child process (the same OperatorChild as the bench, so FO_OPERATOR_ENTRY,
// FO_OPERATOR_NODE_OPTIONS and FO_OPERATOR_ENV apply) in an empty namespace of the test bed (<repo>/.testbed, or
// FO_TESTBED_DIR; test/env/up.sh must have run), waits until it leads, then samples /proc/PID/status VmRSS every
// second for --seconds and prints the last sample, the min and the max, and /proc/PID/smaps_rollup's split of the
// last sample (anonymous, file-backed). --snapshot then has the operator write a heap snapshot into the working
// directory (it needs --heapsnapshot-signal=SIGUSR2 in FO_OPERATOR_NODE_OPTIONS; bench/heap/heap-snapshot.ts reads
// it). Not a test: nothing here asserts a size.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { createNamespace, testbed } from '../../test/env/testbed.ts';
import { applyCrds } from '../../test/integration/api/crds.ts';
import { OperatorChild } from './operator-child.ts';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    runs: { type: 'string', default: '1' },
    snapshot: { type: 'boolean', default: false },
  },
});
const sampleSeconds = Number(values.seconds);
const runs = Number(values.runs);
const mib = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function rollup(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8').split('\n')) {
    const m = /^(\w+):\s+(\d+) kB/.exec(line);
    if (m) out[m[1]!] = Number(m[2]) * 1024;
  }
  return out;
}

const kc = testbed().kubeConfig();
await applyCrds(kc);
for (let run = 0; run < runs; run++) {
  const ns = await createNamespace(kc, 'idle-rss');
  const op = new OperatorChild(ns, 'idle-rss');
  try {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (!op.running()) throw new Error(`the operator exited:\n${op.tail()}`);
      if (Date.now() > deadline) throw new Error(`the operator did not lead within 60 s:\n${op.tail()}`);
      if (op.metricsPort !== undefined) {
        const m = await op.scrape().catch(() => []);
        if (m.some((s) => s.name === 'leader_election_master_status' && s.value === 1)) break;
      }
      await sleep(250);
    }
    const samples: number[] = [];
    for (let i = 0; i < sampleSeconds; i++) {
      await sleep(1000);
      const rss = op.rssBytes();
      if (rss !== undefined) samples.push(rss);
    }
    const r = rollup(op.pid!);
    const line = {
      run,
      lastMiB: mib(samples.at(-1) ?? 0),
      minMiB: mib(Math.min(...samples)),
      maxMiB: mib(Math.max(...samples)),
      anonMiB: mib(r.Anonymous ?? 0),
      fileMiB: mib((r.Rss ?? 0) - (r.Anonymous ?? 0)),
      warnings: op.warnCount,
      errors: op.errorCount,
      load: loadavg().map((x) => Math.round(x * 100) / 100),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    if (values.snapshot) {
      const before = new Set(readdirSync('.'));
      op.child.kill('SIGUSR2');
      let file: string | undefined;
      let size = -1;
      for (let i = 0; i < 120; i++) {
        await sleep(1000);
        file ??= readdirSync('.').find((f) => f.endsWith('.heapsnapshot') && !before.has(f));
        if (file === undefined) continue;
        const now = statSync(file).size;
        if (now === size) break;
        size = now;
      }
      process.stdout.write(`heap snapshot: ${file ?? '(none written)'}\n`);
    }
  } finally {
    await op.stop();
  }
}
