// The operator's memory through an initial sync, sampled finely (issue #16: peak RSS ≤ 256 MiB with 1,000
// policies), without the reconcile bench's steady window and outage. Run:
//   node bench/reconcile/sync-peak.ts [--policies 1000] [--hosted-zones 10] [--after 40] [--snapshot-at-mib N]
// In the test bed at <repo>/.testbed (or FO_TESTBED_DIR; test/env/up.sh must have run): a fresh namespace, the
// hosted zones and record groups in moto, the operator as a child process (the bench's OperatorChild: FO_OPERATOR_*
// apply), then the bench's 1,000 creates (16 at a time). Every 500 ms: /proc VmRSS; every 2 s also the operator's
// V8 heap (nodejs_heap_size_total_bytes / used, external) from /metrics. Prints one line per 2 s and a summary
// (peak RSS and when, heap at that moment), from the first create to --after seconds past the last policy
// reconciled. --snapshot-at-mib N sends SIGUSR2 the first time RSS passes N MiB (the operator needs
// --heapsnapshot-signal=SIGUSR2 in FO_OPERATOR_NODE_OPTIONS). Not a test: nothing here asserts a size.

import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { GROUP, POLICY_PLURAL, VERSION } from '../../src/api/index.ts';
import { createNamespace, testbed } from '../../test/env/testbed.ts';
import { applyCrds } from '../../test/integration/api/crds.ts';
import { motoRoute53, ProbeTarget } from '../../test/integration/support/operator-fixture.ts';
import { createPolicies, createRecordGroups } from './cloud-setup.ts';
import { OperatorChild } from './operator-child.ts';

const { values } = parseArgs({
  options: {
    policies: { type: 'string', default: '1000' },
    'hosted-zones': { type: 'string', default: '10' },
    after: { type: 'string', default: '40' },
    'snapshot-at-mib': { type: 'string' },
  },
});
const policies = Number(values.policies);
const hostedZones = Number(values['hosted-zones']);
const afterMs = Number(values.after) * 1000;
const snapshotAt = values['snapshot-at-mib'] ? Number(values['snapshot-at-mib']) * 1024 * 1024 : undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mib = (b: number) => Math.round(b / 1024 / 1024);
const say = (s: string) => process.stdout.write(`${s}\n`);

const tb = testbed();
const kc = tb.kubeConfig();
const customObjects = kc.makeApiClient(CustomObjectsApi);
await applyCrds(kc);
const ns = await createNamespace(kc, 'sync-peak');
const probe = new ProbeTarget();
await probe.start();
const groups = await createRecordGroups(motoRoute53(), policies, hostedZones, ns);
const op = new OperatorChild(ns, 'sync-peak');
try {
  for (const deadline = Date.now() + 60_000; ; await sleep(250)) {
    if (!op.running()) throw new Error(`the operator exited:\n${op.tail()}`);
    if (Date.now() > deadline) throw new Error('the operator did not lead within 60 s');
    if (op.metricsPort === undefined) continue;
    const m = await op.scrape().catch(() => []);
    if (m.some((s) => s.name === 'leader_election_master_status' && s.value === 1)) break;
  }
  await sleep(5000);
  const idle = op.rssBytes() ?? 0;
  const started = Date.now();
  let peak = { rss: 0, at: 0 };
  let snapshotSent = false;
  let heap = { total: 0, used: 0, external: 0 };
  const heapAtPeak = { ...heap };
  const sampler = setInterval(() => {
    const rss = op.rssBytes() ?? 0;
    if (rss > peak.rss) {
      peak = { rss, at: Date.now() - started };
      Object.assign(heapAtPeak, heap);
    }
    if (snapshotAt !== undefined && !snapshotSent && rss >= snapshotAt) {
      snapshotSent = true;
      op.child.kill('SIGUSR2');
      say(`SIGUSR2 at ${mib(rss)} MiB, ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
  }, 500);
  const reporter = setInterval(async () => {
    try {
      const m = await op.scrape();
      const v = (name: string) => m.filter((s) => s.name === name).reduce((n, s) => n + s.value, 0);
      heap = {
        total: v('nodejs_heap_size_total_bytes'),
        used: v('nodejs_heap_size_used_bytes'),
        external: v('nodejs_external_memory_bytes'),
      };
      say(
        `${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s  rss ${mib(op.rssBytes() ?? 0)}  heap ${mib(heap.used)}/${mib(heap.total)}  external ${mib(heap.external)}  queue ${v('workqueue_depth')}`,
      );
    } catch {}
  }, 2000);

  await createPolicies(customObjects, ns, groups, probe.base, 16);
  const created = Date.now() - started;
  let reconciled = 0;
  for (const deadline = Date.now() + 180_000; Date.now() < deadline; await sleep(2000)) {
    const list = (await customObjects.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: POLICY_PLURAL,
      namespace: ns,
    })) as { items: Array<{ metadata: { generation?: number }; status?: { observedGeneration?: number } }> };
    reconciled = list.items.filter((p) => p.status?.observedGeneration === p.metadata.generation).length;
    if (reconciled >= policies) break;
  }
  const allReconciled = Date.now() - started;
  await sleep(afterMs);
  clearInterval(sampler);
  clearInterval(reporter);
  const end = op.rssBytes() ?? 0;
  say(
    JSON.stringify({
      policies,
      idleMiB: mib(idle),
      createdSeconds: created / 1000,
      reconciled,
      allReconciledSeconds: allReconciled / 1000,
      peakMiB: mib(peak.rss),
      peakAtSeconds: peak.at / 1000,
      heapAtPeakMiB: { used: mib(heapAtPeak.used), total: mib(heapAtPeak.total), external: mib(heapAtPeak.external) },
      endMiB: mib(end),
      errors: op.errorCount,
      load: loadavg().map((x) => Math.round(x * 100) / 100),
    }),
  );
} finally {
  await op.stop();
  await probe.stop();
}
