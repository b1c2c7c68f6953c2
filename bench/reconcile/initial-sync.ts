// Initial-sync diagnosis (issue #16; not a test, nothing here is a timed assertion): where the time between the first
// create and "all N policies reconciled once" goes. Run under the bench lock:
//   flock /tmp/bench.lock node bench/reconcile/initial-sync.ts [--policies N] [--hosted-zones N] [--no-operator]
//       [--writers N] [--cpu-prof DIR] [--testbed-dir DIR] [--keep-bed]
//
// Same arrangement as bench/reconcile (real kube-apiserver + etcd, moto behind the fault proxy, the operator as a
// child process with the bench's FO_OPERATOR_* settings), but instead of polling the list every 2 s it WATCHES the
// policies, so every phase has its own timestamp: created (the POST returned), finalizer seen, status
// (observedGeneration) seen. It also reads the apiserver's own request counters and latency sums before and after,
// and the operator's debug log for per-reconcile timings.
//
// --no-operator: no operator; the script itself sends what the operator sends for a new policy (the finalizer merge
// patch, then the status merge patch), with --writers requests in flight, so the apiserver + etcd write throughput
// of this machine is measured alone: the floor under "first create → all reconciled".

import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { loadavg } from 'node:os';
import path from 'node:path';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions, Watch } from '@kubernetes/client-node';
import { GROUP, POLICY_PLURAL, VERSION } from '../../src/api/index.ts';
import { parseExposition, type Sample } from '../../src/metrics/parse-exposition.ts';
import { createNamespace, readTestbedState, testbed } from '../../test/env/testbed.ts';
import { applyCrds } from '../../test/integration/api/crds.ts';
import { motoRoute53, OperatorProcess, ProbeTarget } from '../../test/integration/support/operator-fixture.ts';
import { createPolicies, createRecordGroups, ensureTestbed, repoRoot, stopTestbed } from './cloud-setup.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const policies = Number(flag('--policies') ?? 1000);
const hostedZones = Number(flag('--hosted-zones') ?? 10);
const noOperator = args.includes('--no-operator');
const writers = Number(flag('--writers') ?? 16);
const createConcurrency = Number(flag('--create-concurrency') ?? 16);
const keepBed = args.includes('--keep-bed');
const testbedDir = path.resolve(flag('--testbed-dir') ?? path.join(repoRoot, '.testbed', 'bench-sync'));
const say = (msg: string) => process.stderr.write(`[initial-sync ${new Date().toISOString().slice(11, 23)}] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

process.env.FO_TESTBED_CLUSTERS ??= 'a';
const bed = ensureTestbed(testbedDir);
process.env.FO_TESTBED_STATE = bed.statePath;
const tb = testbed();
const state = readTestbedState(bed.statePath);
const kc = tb.kubeConfig();
const api = kc.makeApiClient(CustomObjectsApi);
const agent = new Agent({ ca: readFileSync(path.join(testbedDir, 'pki', 'ca.crt')), keepAlive: true });
const token = readFileSync(path.join(testbedDir, 'pki', 'admin.token'), 'utf8').trim();

function apiserverMetrics(): Promise<Sample[]> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${state.apiserver.url}/metrics`,
      { agent, headers: { authorization: `Bearer ${token}` } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve(parseExposition(body)));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, clock ticks (100/s)
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
};
const dist = (xs: number[]) =>
  `p50 ${(pct(xs, 0.5) / 1000).toFixed(2)} p90 ${(pct(xs, 0.9) / 1000).toFixed(2)} p99 ${(pct(xs, 0.99) / 1000).toFixed(2)} max ${(Math.max(...xs) / 1000).toFixed(2)} s (n ${xs.length})`;

const probe = new ProbeTarget();
let operator: OperatorProcess | undefined;
const opLines: Array<Record<string, unknown>> = [];
try {
  await tb.resetMoto();
  await applyCrds(kc);
  const ns = await createNamespace(kc, 'initial-sync');
  await probe.start();
  const r53 = motoRoute53();
  const groups = await createRecordGroups(r53, policies, hostedZones, ns);

  if (!noOperator) {
    let metricsPort: number | undefined;
    let leading = false;
    operator = new OperatorProcess(ns, 'initial-sync', {
      logLevel: 'debug',
      keepLines: false,
      onLine: (l) => {
        if (l.msg === 'Started metrics server (plain HTTP)' && typeof l.port === 'number') metricsPort = l.port;
        opLines.push({ ...l, t: Date.now() });
      },
    });
    const started = Date.now();
    while (!leading) {
      if (Date.now() - started > 60_000) throw new Error(`operator did not lead:\n${operator.tail()}`);
      await sleep(200);
      if (metricsPort === undefined) continue;
      const m = parseExposition(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
      leading = m.some((x) => x.name === 'leader_election_master_status' && x.value === 1);
    }
    await sleep(2000);
    say(`operator pid ${operator.child.pid} leads`);
  }

  // Watch every phase of every policy.
  const created = new Map<string, number>();
  const added = new Map<string, number>();
  const finalized = new Map<string, number>();
  const reconciled = new Map<string, number>();
  let events = 0;
  const watch = new Watch(kc);
  let watchReq: { abort(): void } | undefined;
  let watching = true;
  const startWatch = async (): Promise<void> => {
    watchReq = await watch.watch(
      `/apis/${GROUP}/${VERSION}/namespaces/${ns}/${POLICY_PLURAL}`,
      {},
      (
        type: string,
        obj: {
          metadata: { name: string; generation?: number; finalizers?: string[] };
          status?: { observedGeneration?: number };
        },
      ) => {
        if (type === 'ERROR' || obj.metadata?.name === undefined) return;
        const now = Date.now();
        events++;
        const name = obj.metadata.name;
        if (!added.has(name)) added.set(name, now);
        if (!finalized.has(name) && (obj.metadata.finalizers ?? []).length > 0) finalized.set(name, now);
        const og = obj.status?.observedGeneration;
        if (!reconciled.has(name) && og !== undefined && og === obj.metadata.generation) reconciled.set(name, now);
      },
      () => {
        // Ended (an ERROR such as a lagging watch cache, or a timeout): watch again; events are idempotent here.
        if (watching) setTimeout(() => void startWatch(), 100);
      },
    );
  };
  await startWatch();
  await sleep(500);

  const pids = {
    apiserver: state.apiserver.pid,
    etcd: state.etcd.pid,
    moto: state.moto.pid,
    proxy: state.proxy.pid,
    bench: process.pid,
    ...(operator?.child.pid ? { operator: operator.child.pid } : {}),
  };
  const cpuBefore = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSecondsOf(pid)]));
  const mBefore = await apiserverMetrics();
  const load0 = loadavg()[0];

  say(`creating ${policies} policies, ${createConcurrency} in parallel`);
  const t0 = Date.now();
  const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
  const pending: string[] = [];
  const createdObjects = new Map<string, { metadata: { resourceVersion: string; generation: number } }>();
  let writerDone = false;
  const writerLoop = async () => {
    // --no-operator: what the operator sends for each new policy, finalizer then status, as fast as it can.
    while (!writerDone || pending.length > 0) {
      const name = pending.shift();
      if (!name) {
        await sleep(5);
        continue;
      }
      const cur = createdObjects.get(name)!;
      await api.patchNamespacedCustomObject(
        {
          group: GROUP,
          version: VERSION,
          plural: POLICY_PLURAL,
          namespace: ns,
          name,
          body: {
            metadata: { finalizers: ['failover.io/leave-aws-state'], resourceVersion: cur.metadata.resourceVersion },
          },
        },
        mergePatch,
      );
      await api.patchNamespacedCustomObjectStatus(
        {
          group: GROUP,
          version: VERSION,
          plural: POLICY_PLURAL,
          namespace: ns,
          name,
          body: { status: { observedGeneration: cur.metadata.generation, phase: 'Healthy' } },
        },
        mergePatch,
      );
    }
  };
  const writersDone = noOperator ? Promise.all(Array.from({ length: writers }, writerLoop)) : Promise.resolve([]);
  await createPolicies(api, ns, groups, probe.base, createConcurrency, (g, obj) => {
    created.set(g.policy, Date.now());
    createdObjects.set(g.policy, obj as { metadata: { resourceVersion: string; generation: number } });
    pending.push(g.policy);
  });
  writerDone = true;
  const createMs = Date.now() - t0;
  say(`created in ${(createMs / 1000).toFixed(1)} s`);
  while (reconciled.size < policies && Date.now() - t0 < 180_000) await sleep(50);
  await writersDone;
  const allMs = Math.max(...reconciled.values()) - t0;
  const cpuAfter = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSecondsOf(pid)]));
  const mAfter = await apiserverMetrics();
  watching = false;
  watchReq?.abort();

  const names = [...created.keys()];
  const rel = (m: Map<string, number>) => names.filter((n) => m.has(n)).map((n) => m.get(n)! - t0);
  const since = (a: Map<string, number>, b: Map<string, number>) =>
    names.filter((n) => a.has(n) && b.has(n)).map((n) => b.get(n)! - a.get(n)!);
  const sum = (ms: Sample[], name: string, f: (s: Sample) => boolean = () => true) =>
    ms.filter((s) => s.name === name && f(s)).reduce((a, s) => a + s.value, 0);
  const delta = (name: string, f?: (s: Sample) => boolean) => sum(mAfter, name, f) - sum(mBefore, name, f);
  const byVerb = (verb: string) => (s: Sample) => s.labels.verb === verb && s.labels.resource === POLICY_PLURAL;

  const out: string[] = [];
  out.push(`load average (1 min) at start ${load0?.toFixed(2)}, at end ${loadavg()[0]?.toFixed(2)}`);
  out.push(
    `create ${policies}: ${(createMs / 1000).toFixed(2)} s; first create → all reconciled: ${(allMs / 1000).toFixed(2)} s; watch events ${events}`,
  );
  out.push(`created at (from t0): ${dist(rel(created))}`);
  out.push(`finalizer seen at:    ${dist(rel(finalized))}`);
  out.push(`status seen at:       ${dist(rel(reconciled))}`);
  out.push(`created → finalizer:  ${dist(since(created, finalized))}`);
  out.push(`finalizer → status:   ${dist(since(finalized, reconciled))}`);
  out.push(`created → status:     ${dist(since(created, reconciled))}`);
  for (const verb of ['POST', 'PATCH', 'GET', 'LIST', 'PUT', 'WATCH']) {
    const n = delta('apiserver_request_total', (s) => s.labels.verb === verb);
    const sec = delta('apiserver_request_duration_seconds_sum', (s) => s.labels.verb === verb);
    if (n > 0)
      out.push(
        `apiserver ${verb}: ${n} requests, mean ${(
          (sec /
            Math.max(
              1,
              delta('apiserver_request_duration_seconds_count', (s) => s.labels.verb === verb),
            )) *
            1000
        ).toFixed(1)} ms`,
      );
  }
  const policyPatches = delta('apiserver_request_total', byVerb('PATCH'));
  out.push(`  of which PATCH on ${POLICY_PLURAL}: ${policyPatches}`);
  const etcdN = delta('etcd_request_duration_seconds_count');
  const etcdS = delta('etcd_request_duration_seconds_sum');
  out.push(`etcd requests (apiserver side): ${etcdN}, mean ${((etcdS / Math.max(1, etcdN)) * 1000).toFixed(1)} ms`);
  const cpuLine = Object.keys(pids)
    .map((k) => `${k} ${(cpuAfter[k]! - cpuBefore[k]!).toFixed(1)}`)
    .join(', ');
  out.push(`CPU seconds from first create to all reconciled (${(allMs / 1000).toFixed(1)} s wall, 2 CPUs): ${cpuLine}`);
  if (operator) {
    // Per-reconcile timings from the operator's log: finalizer added, reconciled.
    const fin = opLines.filter((l) => l.msg === 'Added finalizer; a deletion will leave AWS as it is').length;
    const rec = opLines.filter((l) => l.msg === 'Reconciled policy').length;
    const aws = opLines.filter((l) => l.msg === 'completed AWS call');
    const warn = opLines.filter((l) => l.level === 'warn' || l.level === 'error' || l.level === 40 || l.level === 50);
    out.push(
      `operator log: ${opLines.length} lines, ${fin} finalizers added, ${rec} 'Reconciled policy', ${aws.length} AWS calls, ${warn.length} warn/error`,
    );
    for (const w of warn.slice(0, 5)) out.push(`  ${JSON.stringify(w).slice(0, 300)}`);
    const msgs = new Map<string, number>();
    for (const l of opLines) msgs.set(String(l.msg), (msgs.get(String(l.msg)) ?? 0) + 1);
    out.push(
      `  top messages: ${[...msgs]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 12)
        .map(([m, n]) => `${n}× ${m}`)
        .join(' | ')}`,
    );
    const awsTimes = aws.map(
      (l) => `${((Number(l.t) - t0) / 1000).toFixed(1)}s ${String(l.operation)} ${String(l.latencyMs)}ms`,
    );
    out.push(`  AWS calls (t from first create): ${awsTimes.join(', ')}`);
    // Reconciled per second histogram.
    const perSec = new Map<number, number>();
    for (const t of rel(reconciled)) perSec.set(Math.floor(t / 1000), (perSec.get(Math.floor(t / 1000)) ?? 0) + 1);
    const finSec = new Map<number, number>();
    for (const t of rel(finalized)) finSec.set(Math.floor(t / 1000), (finSec.get(Math.floor(t / 1000)) ?? 0) + 1);
    const crSec = new Map<number, number>();
    for (const t of rel(created)) crSec.set(Math.floor(t / 1000), (crSec.get(Math.floor(t / 1000)) ?? 0) + 1);
    const maxS = Math.ceil(allMs / 1000);
    out.push('  second: created / finalizer / status');
    for (let s = 0; s <= maxS; s++)
      out.push(`  ${s}: ${crSec.get(s) ?? 0} / ${finSec.get(s) ?? 0} / ${perSec.get(s) ?? 0}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
} finally {
  if (operator) {
    operator.child.kill('SIGTERM');
    const timer = setTimeout(() => operator?.child.kill('SIGKILL'), 15_000);
    await operator.exited;
    clearTimeout(timer);
  }
  await probe.stop().catch(() => undefined);
  if (bed.startedHere && !keepBed) stopTestbed(testbedDir);
}
process.exit(0);
