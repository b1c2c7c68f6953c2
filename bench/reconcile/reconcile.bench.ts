// Reconcile benchmark (issue #5; not a test, nothing here is a timed assertion). Run:
//   node bench/reconcile/reconcile.bench.ts            1,000 policies, 10 hosted zones, 180 s steady window
//   node bench/reconcile/reconcile.bench.ts --quick    smoke run: 100 policies, 4 hosted zones, 30 s window
//   node bench/reconcile/reconcile.bench.ts --help     every flag
//
// Everything real: kube-apiserver + etcd and moto behind the fault proxy (test/env/up.sh; a private bed in
// .testbed/bench-reconcile by default), and the operator as a child process (`failover-operator run`).
//   1. N FailoverPolicies (CRDs applied from crds/) over H Route 53 hosted zones in moto, HTTP probes against a
//      loopback server answering 200 per hosted zone and AZ. Time to create them all and to see every one
//      reconciled once (status.observedGeneration = metadata.generation).
//   2. Steady state for --window seconds: reconcile duration p50/p99 (the runtime's
//      controller_runtime_reconcile_time_seconds histogram, scraped from /metrics), reconciles by result, operator
//      RSS and CPU, work-queue depth, and AWS calls per minute by service/operation from the fault proxy's log.
//      AWS writes must be 0 while every zone is healthy: the run exits 1, loudly, when there was any.
//      The operator's RSS is read from /proc every second from the moment it leads to the end of the outage, and
//      reported per phase (before any policy, initial sync, steady window, outage): its peak, not only the
//      settled figure, is what a memory limit has to hold.
//   3. Zone outage: the probe target of one AZ of one hosted zone answers 503. Per affected policy: fault →
//      decision (the operator's `zone … changed from Healthy to …` log line), decision → first
//      ChangeResourceRecordSets at the proxy, and fault → first write; p50/p99.
// Results: bench/results/reconcile.{json,md} (--quick: reconcile.quick.{json,md}, so a smoke run never overwrites
// the full run's figures).
// The operator child as the image runs it (each recorded in the report): FO_OPERATOR_NODE_OPTIONS (NODE_OPTIONS,
// e.g. '--max-old-space-size=256 --max-semi-space-size=2 --heapsnapshot-signal=SIGUSR2'; bench/heap/heap-snapshot.ts
// reads the snapshot), FO_OPERATOR_ENV ('LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2'), FO_OPERATOR_ENTRY
// (dist/cli/failover-operator.js after `npm run build`), FO_MAX_CONCURRENT_RECONCILES. FO_BENCH_OPERATOR_LOG=file keeps
// the operator's whole log (debug) there, to read a run's timeline afterwards.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { GROUP, POLICY_PLURAL, VERSION } from '../../src/api/index.ts';
import type { Sample } from '../../src/metrics/parse-exposition.ts';
import { createNamespace, readTestbedState, testbed } from '../../test/env/testbed.ts';
import { applyCrds } from '../../test/integration/api/crds.ts';
import { motoRoute53, ProbeTarget } from '../../test/integration/support/operator-fixture.ts';
import {
  AZS,
  createPolicies,
  createRecordGroups,
  ensureTestbed,
  listAllRecords,
  policyBody,
  type RecordGroup,
  repoRoot,
  setIdentifierOf,
  stopTestbed,
} from './cloud-setup.ts';
import {
  type BenchOptions,
  callRates,
  counterDelta,
  distribution,
  firstWritePerPolicy,
  histogramDelta,
  histogramQuantile,
  isWrite,
  parseOptions,
  UsageError,
} from './measure.ts';
import { OperatorChild } from './operator-child.ts';
import { ProxyLogFollower } from './proxy-log.ts';
import { renderMarkdown } from './report.ts';

const PREFIX = 'failover_operator_';
// The runtime's families carry controller-runtime's own names, without the project prefix (docs/metrics.md).
const RECONCILE_TIME = 'controller_runtime_reconcile_time_seconds';
const RECONCILE_TOTAL = 'controller_runtime_reconcile_total';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const say = (msg: string) =>
  process.stderr.write(`[reconcile bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
const seconds = (ms: number) => Math.round(ms / 100) / 10;
const RSS_SAMPLE_MS = 1000;
const IDLE_SECONDS = 30;

let options: BenchOptions;
try {
  options = parseOptions(process.argv.slice(2), path.join(repoRoot, '.testbed', 'bench-reconcile'));
} catch (err) {
  if (err instanceof UsageError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

const benchStarted = Date.now();
const testbedDir = path.resolve(options.testbedDir);
const sharedBed = testbedDir === path.join(repoRoot, '.testbed');

say(`test bed in ${testbedDir} (test/env/up.sh)`);
const bed = ensureTestbed(testbedDir);
// The entry point sets where testbed() looks; every helper below reads it from there.
process.env.FO_TESTBED_STATE = bed.statePath;
const tb = testbed();
const state = readTestbedState(bed.statePath);
const kc = tb.kubeConfig();
const customObjects = kc.makeApiClient(CustomObjectsApi);
const r53 = motoRoute53();
const probe = new ProbeTarget();
const proxyLog = new ProxyLogFollower(state.proxy.control);
let operator: OperatorChild | undefined;
let exitCode = 0;

try {
  if (!sharedBed) {
    // Our own bed: start from an empty moto and proxy log. A shared bed is never reset (others' tests use it).
    await tb.resetMoto();
    await tb.faults.clear();
  }
  await applyCrds(kc);
  const ns = await createNamespace(kc, 'bench-reconcile');
  await probe.start();

  say(`creating ${options.hostedZones} hosted zones with ${options.policies} weighted record groups in moto`);
  const groups = await createRecordGroups(r53, options.policies, options.hostedZones, ns);
  const byPolicy = new Map(groups.map((g) => [`${ns}/${g.policy}`, g]));

  say('starting the operator (node src/cli/failover-operator.ts run)');
  operator = new OperatorChild(ns, 'bench-reconcile');
  const op = operator;
  await waitFor('the operator to lead', 60_000, async () => {
    if (!op.running()) throw new Error(`the operator exited early:\n${op.tail()}`);
    if (op.metricsPort === undefined) return false;
    const m = await op.scrape();
    return m.some((s) => s.name === 'leader_election_master_status' && s.value === 1);
  });
  await proxyLog.start(1000);
  const rssWithoutPoliciesMiB = Math.round((op.rssBytes() ?? 0) / 1024 / 1024);
  // Idle as it lasts (#16: ≤ 120 MiB): the figure above is taken the moment it leads, with start-up's garbage.
  say(`idle for ${IDLE_SECONDS} s before the first policy`);
  await sleep(IDLE_SECONDS * 1000);
  const rssIdleMiB = Math.round((op.rssBytes() ?? 0) / 1024 / 1024);

  const rssSamples: Array<{ at: number; bytes: number }> = [];
  const rssTimer = setInterval(() => {
    const bytes = op.rssBytes();
    if (bytes !== undefined) rssSamples.push({ at: Date.now(), bytes });
  }, RSS_SAMPLE_MS);

  // ---------------------------------------------------------------------------------------------------------
  // 1. Create every policy; wait until each is reconciled once.
  // ---------------------------------------------------------------------------------------------------------
  say(`creating ${options.policies} FailoverPolicies (${options.createConcurrency} in parallel)`);
  const createStarted = Date.now();
  const createdAt = new Map<string, number>();
  await createPolicies(customObjects, ns, groups, probe.base, options.createConcurrency, (g) =>
    createdAt.set(g.policy, Date.now()),
  );
  const createdMs = Date.now() - createStarted;
  say(`created in ${seconds(createdMs)} s; waiting until every policy is reconciled once`);

  const reconciledAt = new Map<string, number>();
  const phases: Record<string, number> = {};
  const allReconciled = await waitFor(
    'every policy reconciled once',
    options.reconcileTimeoutSeconds * 1000,
    async () => {
      if (!op.running()) throw new Error(`the operator exited:\n${op.tail()}`);
      const list = (await customObjects.listNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        plural: POLICY_PLURAL,
        namespace: ns,
      })) as { items: Array<{ metadata: { name: string; generation?: number }; status?: Record<string, unknown> }> };
      const now = Date.now();
      for (const p of list.items) {
        if (reconciledAt.has(p.metadata.name)) continue;
        if (p.status?.observedGeneration !== undefined && p.status.observedGeneration === p.metadata.generation) {
          reconciledAt.set(p.metadata.name, now);
          const phase = String(p.status.phase ?? '(none)');
          phases[phase] = (phases[phase] ?? 0) + 1;
        }
      }
      return reconciledAt.size >= options.policies;
    },
    2000,
    (elapsed) => say(`  ${reconciledAt.size}/${options.policies} reconciled after ${seconds(elapsed)} s`),
  );
  const initialSyncEnd = Date.now();
  const allReconciledMs = (allReconciled ? Math.max(...reconciledAt.values()) : Date.now()) - createStarted;
  const perPolicyReconcile = [...reconciledAt].map(([name, at]) => at - (createdAt.get(name) ?? createStarted));
  say(
    allReconciled
      ? `all ${options.policies} reconciled once ${seconds(allReconciledMs)} s after the first create`
      : `only ${reconciledAt.size}/${options.policies} reconciled within ${options.reconcileTimeoutSeconds} s`,
  );
  await proxyLog.poll();
  const setupCalls = proxyLog.between(createStarted, Date.now());

  // ---------------------------------------------------------------------------------------------------------
  // 2. Steady state.
  // ---------------------------------------------------------------------------------------------------------
  say(`steady state for ${options.windowSeconds} s`);
  const windowStart = Date.now();
  const mStart = await op.scrape();
  const depthSamples: number[] = [];
  const windowEnd = windowStart + options.windowSeconds * 1000;
  let nextReport = windowStart + 30_000;
  while (Date.now() < windowEnd) {
    await sleep(Math.min(15_000, windowEnd - Date.now()));
    if (!op.running()) throw new Error(`the operator exited during the steady window:\n${op.tail()}`);
    const m = await op.scrape();
    depthSamples.push(sumOf(m, 'workqueue_depth'));
    if (Date.now() >= nextReport) {
      say(`  ${seconds(Date.now() - windowStart)} s of ${options.windowSeconds}; queue depth ${depthSamples.at(-1)}`);
      nextReport += 30_000;
    }
  }
  const mEnd = await op.scrape();
  const windowMs = Date.now() - windowStart;
  await proxyLog.poll();
  const windowCalls = proxyLog.between(windowStart, windowStart + windowMs);
  const steady = {
    ...steadyReport(mStart, mEnd, windowMs, windowCalls, depthSamples, rssSamples, windowStart, windowStart + windowMs),
    // Zone or region state changes the operator logged in the window (nothing fails in it: each one is a probe that
    // missed its timeout, e.g. an event loop too busy to read the answer in time).
    healthTransitions: op.transitions.filter((t) => t.at >= windowStart && t.at <= windowStart + windowMs).length,
  };

  // ---------------------------------------------------------------------------------------------------------
  // 3. Zone outage: one AZ's probe target of hosted zone 0 answers 503.
  // ---------------------------------------------------------------------------------------------------------
  const outageZone = AZS[0];
  const affected = groups.filter((g) => g.hostedZone === 0);
  const affectedKeys = new Set(affected.map((g) => `${ns}/${g.policy}`));
  const target = `hz0/${outageZone}`;
  say(`zone outage: ${probe.base}/${target} answers 503 (${affected.length} policies in ${affected[0]!.hostedZoneId})`);
  const writesBefore = op.writes.length;
  const faultAt = Date.now();
  probe.answers.set(target, 503);
  const outageDone = await waitFor(
    'a write for every affected policy',
    options.outageTimeoutSeconds * 1000,
    async () => {
      if (!op.running()) throw new Error(`the operator exited during the outage:\n${op.tail()}`);
      const wrote = new Set(
        op.writes
          .slice(writesBefore)
          .filter((w) => w.operation === 'ChangeResourceRecordSets')
          .map((w) => w.policy),
      );
      return [...affectedKeys].every((k) => wrote.has(k));
    },
    2000,
    (elapsed) => {
      const n = new Set(op.writes.slice(writesBefore).map((w) => w.policy)).size;
      say(`  ${n}/${affected.length} affected policies wrote after ${seconds(elapsed)} s`);
    },
    10_000,
  );
  await sleep(3000); // let in-flight GetChange polls and the last proxy entries land
  const outageEnd = Date.now();
  await proxyLog.poll();
  const outage = await outageReport({
    ns,
    groups,
    byPolicy,
    affected,
    affectedKeys,
    outageZone,
    faultAt,
    outageEnd,
    complete: outageDone,
    operatorWrites: op.writes.slice(writesBefore),
    transitions: op.transitions.filter((t) => t.at >= faultAt),
    proxyCalls: proxyLog.between(faultAt, outageEnd + 1),
  });
  probe.answers.delete(target);
  clearInterval(rssTimer);

  const preFaultWrites = proxyLog.between(createStarted, faultAt).filter((c) => isWrite(c.action));
  const report = {
    name: 'reconcile',
    node: process.version,
    cpus: availableParallelism(),
    /** Shared machine: other engineers' tests run alongside; compare runs only at similar load. */
    loadAverage: loadavg().map((x) => Math.round(x * 100) / 100),
    at: new Date().toISOString(),
    wallSeconds: seconds(Date.now() - benchStarted),
    command: `node bench/reconcile/reconcile.bench.ts ${process.argv.slice(2).join(' ')}`.trim(),
    operatorSettings: {
      ...(process.env.FO_OPERATOR_NODE_OPTIONS ? { nodeOptions: process.env.FO_OPERATOR_NODE_OPTIONS } : {}),
      ...(process.env.FO_OPERATOR_ENV ? { env: process.env.FO_OPERATOR_ENV } : {}),
      ...(process.env.FO_OPERATOR_ENTRY ? { entry: process.env.FO_OPERATOR_ENTRY } : {}),
      ...(process.env.FO_MAX_CONCURRENT_RECONCILES
        ? { maxConcurrentReconciles: process.env.FO_MAX_CONCURRENT_RECONCILES }
        : {}),
      ...(process.env.FO_MAX_CONCURRENT_URGENT_RECONCILES
        ? { maxConcurrentUrgentReconciles: process.env.FO_MAX_CONCURRENT_URGENT_RECONCILES }
        : {}),
    },
    source: sourceState(),
    options: { ...options, testbedDir: path.relative(repoRoot, testbedDir) || '.' },
    testbed: {
      dir: path.relative(repoRoot, testbedDir),
      shared: sharedBed,
      startedByBench: bed.startedHere,
      kubeApiserver: state.apiserver.version,
      moto: state.moto.version,
    },
    setup: {
      policies: options.policies,
      hostedZones: options.hostedZones,
      recordGroupsPerHostedZone: Math.ceil(options.policies / options.hostedZones),
      recordsPerGroup: AZS.length,
      probeTargets: options.hostedZones * AZS.length,
      createSeconds: seconds(createdMs),
      allReconciledOnce: allReconciled,
      reconciledOnce: reconciledAt.size,
      allReconciledSeconds: seconds(allReconciledMs),
      perPolicyCreateToReconciledSeconds: distribution(perPolicyReconcile, 1 / 1000),
      phases,
      awsCalls: callRates(setupCalls, Math.max(1, allReconciledMs / 1000)),
    },
    steady: { ...steady, rssWithoutPoliciesMiB },
    memory: memoryReport(
      rssSamples,
      { atLeadMiB: rssWithoutPoliciesMiB, idleMiB: rssIdleMiB, idleSeconds: IDLE_SECONDS },
      [
        ['initialSync', createStarted, initialSyncEnd],
        ['steady', windowStart, windowStart + windowMs],
        ['outage', faultAt, outageEnd],
      ],
    ),
    outage,
    writesBeforeFault: preFaultWrites.length,
    operator: {
      errors: op.errorCount,
      warnings: op.warnCount,
      reconcileFailures: op.reconcileFailures,
      firstErrors: op.errorLines.slice(0, 5),
    },
    proxyLog: { polls: proxyLog.polls, gaps: proxyLog.gaps },
  };

  const outDir = path.join(repoRoot, 'bench/results');
  mkdirSync(outDir, { recursive: true });
  // A smoke run never overwrites the full run's figures.
  const base = options.quick ? 'reconcile.quick' : 'reconcile';
  writeFileSync(path.join(outDir, `${base}.json`), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(path.join(outDir, `${base}.md`), renderMarkdown(report));
  say(`wrote bench/results/${base}.json and ${base}.md (${report.wallSeconds} s wall)`);
  process.stdout.write(`${JSON.stringify({ setup: report.setup, steady: report.steady, outage: report.outage })}\n`);

  if (preFaultWrites.length > 0) {
    exitCode = 1;
    const ops = preFaultWrites.map((c) => `${c.service} ${c.action} ${c.path ?? ''} at ${c.at}`).slice(0, 10);
    process.stderr.write(
      `\n!!! FAILED: ${preFaultWrites.length} AWS write(s) while every zone was healthy (steady state must write nothing):\n  ${ops.join('\n  ')}\n`,
    );
  }
} catch (err) {
  exitCode = 1;
  process.stderr.write(`\n!!! reconcile bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  if (operator) process.stderr.write(`operator log tail:\n${operator.tail()}\n`);
} finally {
  await operator?.stop();
  await proxyLog.stop().catch(() => undefined);
  await probe.stop().catch(() => undefined);
  r53.destroy();
  if (bed.startedHere && !options.keepBed) {
    say('stopping the test bed this run started (--keep-bed keeps it)');
    stopTestbed(testbedDir);
  }
}
process.exit(exitCode);

// ---------------------------------------------------------------------------------------------------------------

/** Which code was measured: the commit and how many files under src/ differ from it (read-only git). */
function sourceState(): { commit: string; uncommittedSrcFiles: number } {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: repoRoot, encoding: 'utf8' }).stdout ?? '';
  return {
    commit: git('rev-parse', '--short', 'HEAD').trim() || 'unknown',
    uncommittedSrcFiles: git('status', '--porcelain', '--', 'src').split('\n').filter(Boolean).length,
  };
}

function sumOf(samples: readonly Sample[], name: string): number {
  return samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);
}

/** Polls `check` every `everyMs` until true (→ true) or `timeoutMs` passes (→ false); errors from check propagate. */
async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  everyMs = 500,
  progress?: (elapsedMs: number) => void,
  progressEveryMs = 20_000,
): Promise<boolean> {
  const started = Date.now();
  let nextProgress = started + progressEveryMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() - started > timeoutMs) {
      say(`gave up waiting for ${what} after ${seconds(timeoutMs)} s`);
      return false;
    }
    if (progress && Date.now() >= nextProgress) {
      progress(Date.now() - started);
      nextProgress += progressEveryMs;
    }
    await sleep(everyMs);
  }
}

/**
 * The operator's RSS per phase, MiB, from the /proc samples: max (the peak a memory limit must hold), min, the last
 * sample, and for phases longer than a minute the range from 30 s in ("settled": jemalloc hands the initial sync's
 * memory back within ~20 s).
 */
function memoryReport(
  samples: Array<{ at: number; bytes: number }>,
  beforePolicies: { atLeadMiB: number; idleMiB: number; idleSeconds: number },
  phases: Array<[name: string, from: number, to: number]>,
) {
  const mib = (b: number) => Math.round(b / 1024 / 1024);
  const out: Record<
    string,
    { seconds: number; samples: number; min: number; max: number; end: number; settled?: { min: number; max: number } }
  > = {};
  for (const [name, from, to] of phases) {
    const inPhase = samples.filter((s) => s.at >= from && s.at <= to).map((s) => s.bytes);
    if (inPhase.length === 0) continue;
    const later = samples.filter((s) => s.at >= from + 30_000 && s.at <= to).map((s) => s.bytes);
    out[name] = {
      seconds: seconds(to - from),
      samples: inPhase.length,
      min: mib(Math.min(...inPhase)),
      max: mib(Math.max(...inPhase)),
      end: mib(inPhase.at(-1)!),
      ...(to - from >= 60_000 && later.length > 0
        ? { settled: { min: mib(Math.min(...later)), max: mib(Math.max(...later)) } }
        : {}),
    };
  }
  return { source: `/proc/PID/status VmRSS every ${RSS_SAMPLE_MS} ms`, beforePolicies, phases: out };
}

function steadyReport(
  before: Sample[],
  after: Sample[],
  windowMs: number,
  calls: Parameters<typeof callRates>[0],
  depthSamples: number[],
  rssSamples: Array<{ at: number; bytes: number }>,
  windowStart: number,
  windowEnd: number,
) {
  const windowS = windowMs / 1000;
  const reconcile = histogramDelta(before, after, RECONCILE_TIME, { controller: 'failoverpolicy' });
  const work = histogramDelta(before, after, 'workqueue_work_duration_seconds', { name: 'failoverpolicy' });
  const results: Record<string, number> = {};
  for (const s of after.filter((x) => x.name === RECONCILE_TOTAL)) {
    const r = s.labels.result ?? '';
    results[r] = counterDelta(before, after, RECONCILE_TOTAL, { controller: 'failoverpolicy', result: r });
  }
  const reconciles = reconcile?.count ?? 0;
  const cpuSeconds = counterDelta(before, after, 'process_cpu_seconds_total');
  const windowRss = rssSamples.filter((s) => s.at >= windowStart && s.at <= windowEnd).map((s) => s.bytes);
  const mib = (b: number) => Math.round(b / 1024 / 1024);
  const q = (h: typeof reconcile, p: number) => (h ? Math.round(histogramQuantile(h, p) * 1000) / 1000 : null);
  const watchEvents: Record<string, number> = {};
  for (const sample of after.filter((x) => x.name === `${PREFIX}informer_watch_events_total`)) {
    const type = sample.labels.type ?? '';
    watchEvents[type] = counterDelta(before, after, `${PREFIX}informer_watch_events_total`, sample.labels);
  }
  const policiesTracked = after.filter((s) => s.name === `${PREFIX}zone_state`).length / AZS.length || undefined;
  return {
    windowSeconds: Math.round(windowS),
    reconciles,
    reconcilesPerMinute: Math.round((reconciles * 600) / windowS) / 10,
    /** How often each policy is actually looked at, given the reconciles the operator managed. */
    effectiveResyncSeconds: reconciles > 0 ? Math.round((options.policies * windowS * 10) / reconciles) / 10 : null,
    reconcileResults: results,
    /** Keys added to the queue (deduplicated adds excluded) and watch events received, in the window. */
    queueAdds: counterDelta(before, after, 'workqueue_adds_total', { name: 'failoverpolicy' }),
    watchEvents,
    reconcileSeconds: {
      source: `${RECONCILE_TIME} (histogram, interpolated like histogram_quantile)`,
      p50: q(reconcile, 0.5),
      p90: q(reconcile, 0.9),
      p99: q(reconcile, 0.99),
      mean: reconcile && reconcile.count > 0 ? Math.round((reconcile.sum / reconcile.count) * 1000) / 1000 : null,
      buckets: reconcile?.buckets.map((b) => ({ le: Number.isFinite(b.le) ? b.le : '+Inf', count: b.count })),
    },
    workSeconds: { p50: q(work, 0.5), p99: q(work, 0.99) },
    workqueueDepth: {
      samples: depthSamples.length,
      max: depthSamples.length ? Math.max(...depthSamples) : null,
      last: depthSamples.at(-1) ?? null,
    },
    rssMiB: {
      fromProcStatus: {
        min: windowRss.length ? mib(Math.min(...windowRss)) : null,
        max: windowRss.length ? mib(Math.max(...windowRss)) : null,
        end: windowRss.length ? mib(windowRss.at(-1)!) : null,
      },
      processResidentMemoryBytes: mib(sumOf(after, 'process_resident_memory_bytes')),
      heapUsed: mib(sumOf(after, 'nodejs_heap_size_used_bytes')),
    },
    operatorCpu: {
      seconds: Math.round(cpuSeconds * 10) / 10,
      utilisation: Math.round((cpuSeconds / windowS) * 100) / 100,
    },
    policiesTracked,
    awsCalls: callRates(calls, windowS),
  };
}

interface OutageInput {
  ns: string;
  groups: RecordGroup[];
  byPolicy: Map<string, RecordGroup>;
  affected: RecordGroup[];
  affectedKeys: Set<string>;
  outageZone: string;
  faultAt: number;
  outageEnd: number;
  complete: boolean;
  operatorWrites: OperatorChild['writes'];
  transitions: OperatorChild['transitions'];
  proxyCalls: Parameters<typeof callRates>[0];
}

async function outageReport(input: OutageInput) {
  const { affected, affectedKeys, outageZone, faultAt } = input;
  const decisionAt = new Map<string, number>();
  for (const t of input.transitions) {
    if (t.scope !== 'zone' || t.name !== outageZone || t.from !== 'Healthy' || !affectedKeys.has(t.policy)) continue;
    if (!decisionAt.has(t.policy)) decisionAt.set(t.policy, t.at);
  }
  const { firstWriteAt, paired, unpaired } = firstWritePerPolicy(
    input.operatorWrites.filter((w) => affectedKeys.has(w.policy)),
    input.proxyCalls,
    (policy) => input.byPolicy.get(policy)?.hostedZoneId,
  );
  const faultToDecision: number[] = [];
  const decisionToWrite: number[] = [];
  const faultToWrite: number[] = [];
  for (const key of affectedKeys) {
    const d = decisionAt.get(key);
    const w = firstWriteAt.get(key);
    if (d !== undefined) faultToDecision.push(d - faultAt);
    if (w !== undefined) faultToWrite.push(w - faultAt);
    if (d !== undefined && w !== undefined) decisionToWrite.push(w - d);
  }
  const zoneId = affected[0]!.hostedZoneId;
  const crrs = input.proxyCalls.filter((c) => c.action === 'ChangeResourceRecordSets');
  const inZone = crrs.filter((c) => c.path?.includes(zoneId));
  const elsewhere = crrs.length - inZone.length;
  const firstProxyWrite = inZone.length ? Math.min(...inZone.map((c) => Date.parse(c.at))) : undefined;
  const lastProxyWrite = inZone.length ? Math.max(...inZone.map((c) => Date.parse(c.at))) : undefined;

  // What moto holds now: groups of the affected hosted zone with the failed AZ drained to 0.
  const records = await listAllRecords(r53, zoneId);
  const drainedSet = setIdentifierOf(outageZone);
  const affectedNames = new Set(affected.map((g) => g.recordName));
  // Distinct names: moto's pagination repeats the record a page ends on.
  const drained = new Set(
    records
      .filter((r) => affectedNames.has(r.Name ?? '') && r.SetIdentifier === drainedSet && r.Weight === 0)
      .map((r) => r.Name),
  ).size;

  return {
    zone: outageZone,
    hostedZoneId: zoneId,
    affectedPolicies: affected.length,
    complete: input.complete,
    decided: decisionAt.size,
    wrote: firstWriteAt.size,
    drainedInMoto: drained,
    /** Operator-logged writes paired with their proxy log entry (else the operator's time is used). */
    writesPairedWithProxyLog: { paired, unpaired },
    faultToDecisionSeconds: distribution(faultToDecision, 1 / 1000),
    decisionToFirstWriteSeconds: distribution(decisionToWrite, 1 / 1000),
    faultToFirstWriteSeconds: distribution(faultToWrite, 1 / 1000),
    proxy: {
      changeResourceRecordSetsInZone: inZone.length,
      changeResourceRecordSetsElsewhere: elsewhere,
      faultToFirstWriteInZoneSeconds: firstProxyWrite === undefined ? null : seconds(firstProxyWrite - faultAt),
      faultToLastWriteInZoneSeconds: lastProxyWrite === undefined ? null : seconds(lastProxyWrite - faultAt),
      awsCalls: callRates(input.proxyCalls, Math.max(1, (input.outageEnd - faultAt) / 1000)),
    },
    observedSeconds: seconds(input.outageEnd - faultAt),
  };
}
