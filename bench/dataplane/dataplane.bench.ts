// Data-plane benchmark (not a timed test; nothing asserts): how long, after a zone's endpoints go down, until no DNS
// answer points at the dead zone — record edits with Route 53's control plane healthy, record edits with
// ChangeResourceRecordSets failing, and the data-plane path (Route 53 health checks that follow CloudWatch verdict
// alarms), side by side, same seed, same zone failure. Route 53's own endpoint health checks are added as
// baseline rows computed from AWS's documented figures (not simulated).
//
// The scenario is the built-in route53-writes-failing-7h in full (450 simulated minutes: ChangeResourceRecordSets
// fails from minute 0 to 420, us-east-1a's endpoints go down at minute 120 and stay down); row (a) runs the same
// scenario with its two Route 53 events removed. Runs on the virtual clock, so the seconds are virtual and exact.
//
// "Drained" is judged from the simulated Route 53 itself, not from the operator: after the run the bench replays
// what resolvers answered, second by second — the records served at that second (the topology's records plus every
// change INSYNC by then, from sim.dns.changes()) and each attached health check's status at that second
// (sim.healthChecks.healthStatus(id, at)) — through the resolvers' own choice (trafficShareOf, sim-dns.ts). The
// replay is checked against the live sim.trafficShare() at the end of the run and against the drill report's
// trafficShiftedSeconds.
//
// Writes bench/results/dataplane.md and prints it. About 15 s of wall time.
//
//   node bench/dataplane/dataplane.bench.ts [--seed N]

import { execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { parse, stringify } from 'yaml';
import { type FailoverPolicy, loadManifests } from '../../src/api/index.ts';
import { trafficShareOf } from '../../src/cloud/sim/sim-dns.ts';
import { topologyFromPolicy } from '../../src/cloud/sim/sim-topology.ts';
import type { DnsRecord } from '../../src/cloud/types.ts';
import { loadScenario } from '../../src/scenarios/index.ts';
import type { Scenario } from '../../src/scenarios/scenario-schema.ts';
import { runSimulation, SIMULATION_EPOCH_MS, type SimulationResult } from '../../src/simulate/run-simulation.ts';

const args = process.argv.slice(2);
const seedArg = args.indexOf('--seed');
const SEED = seedArg >= 0 ? Number(args[seedArg + 1]) : 1;
const COMMAND = `node bench/dataplane/dataplane.bench.ts${seedArg >= 0 ? ` --seed ${SEED}` : ''}`;
const wallStart = performance.now();

// ---- inputs -------------------------------------------------------------------------------------------------------

const POLICY_FILE = 'examples/two-region-rds.yaml';
const DEAD_ZONE = 'us-east-1a';

/**
 * The example policy with its dataPlane set explicitly (whatever the file says), parsed and defaulted by the
 * project's own loader.
 */
function loadPolicy(dataPlane: boolean): FailoverPolicy {
  const object = parse(readFileSync(POLICY_FILE, 'utf8'));
  object.spec.traffic.route53.dataPlane = dataPlane
    ? { mechanism: 'HealthChecks', signalRegion: 'us-west-2' }
    : { mechanism: 'RecordEdits' };
  const [doc] = loadManifests(stringify(object), POLICY_FILE);
  if (doc?.type !== 'FailoverPolicy' || !doc.result.ok) {
    throw new Error(`${POLICY_FILE}${dataPlane ? ' + dataPlane' : ''} is not a valid FailoverPolicy`);
  }
  return doc.result.value;
}

const recordEdits = loadPolicy(false);
const healthChecks = loadPolicy(true);
const r53 = recordEdits.spec.traffic!.route53;
const deadIds = r53.records.filter((r) => r.zone === DEAD_ZONE).map((r) => r.setIdentifier);
const initialRecords: DnsRecord[] = (topologyFromPolicy(recordEdits.spec).hostedZones ?? [])
  .filter((hz) => hz.id === r53.hostedZoneId)
  .flatMap((hz) => hz.records ?? [])
  .filter((r) => r.name.toLowerCase() === r53.recordName.toLowerCase() && r.type === r53.type);
const TTL = initialRecords.find((r) => r.setIdentifier === deadIds[0])?.ttl ?? Number.NaN;

const failing = loadScenario('route53-writes-failing-7h');
const isRoute53Event = (e: Scenario['events'][number]) => (e.effects ?? []).some((x) => x.service === 'route53');
const healthy: Scenario = {
  ...failing,
  name: `${failing.name} without its Route 53 events`,
  description: `${DEAD_ZONE} endpoints down from minute 120; Route 53 healthy.`,
  events: failing.events.filter((e) => !isRoute53Event(e)),
};
const zoneFaultMin = failing.events.find((e) =>
  (e.effects ?? []).some((x) => x.zone === DEAD_ZONE && x.endpoints === 'down'),
)!.at;
const r53BackMin = failing.events.find((e) => isRoute53Event(e) && e.at > 0)?.at ?? failing.durationMinutes;
const FAULT_S = zoneFaultMin * 60;
/** The event window: from the zone fault until Route 53 accepts changes again (rows (b), (c)); same window for (a). */
const EVENT_END_S = r53BackMin * 60;
const EVENT_MIN = r53BackMin - zoneFaultMin;

// ---- measuring ----------------------------------------------------------------------------------------------------

interface Measured {
  label: string;
  scenario: string;
  /** Scenario seconds when the dead zone's share became 0 for good (within the event window); undefined: never. */
  drainedAt: number | undefined;
  /** When it became 0 for good within the whole run (for rows that drain only after the event). */
  drainedInRunAt: number | undefined;
  reportShifted: number | null;
  detection: number | null;
  crrsEvent: number;
  crrsEventFailed: number;
  crrsRun: number;
  putMetricEvent: number;
  putMetricRun: number;
  /** Other Route 53 calls in the event window, by operation (reads included). */
  otherRoute53Event: string;
  liveCheck: string;
  /** drainedInRunAt from the runner's live samples; 'n/a' when the runner does not return them. */
  liveSampled: number | undefined | 'n/a';
  failedChecks: string[];
  breakdown?: Breakdown;
  wallMs: number;
}

interface Breakdown {
  degradedAt: number;
  publishedAt: number;
  alarmAt: number;
  periodEndAt: number;
  checkUnhealthyAt: number;
  answersMovedAt: number;
}

const toMs = (s: number) => SIMULATION_EPOCH_MS + s * 1000;
const toS = (ms: number) => Math.round((ms - SIMULATION_EPOCH_MS) / 1000);

/** What resolvers answered at scenario second `s`, replayed from the simulated Route 53's own history. */
function shareAt(run: SimulationResult, s: number): Record<string, number> {
  const at = toMs(s);
  const served = new Map(initialRecords.map((r) => [r.setIdentifier ?? '', r]));
  const changes = run.sim.dns
    .changes()
    .filter((c) => c.hostedZoneId === r53.hostedZoneId && c.insyncAt <= at)
    .sort((a, b) => a.insyncAt - b.insyncAt);
  for (const c of changes) {
    for (const r of c.records) {
      if (r.name.toLowerCase() === r53.recordName.toLowerCase() && r.type === r53.type) {
        served.set(r.setIdentifier ?? '', r);
      }
    }
  }
  return trafficShareOf([...served.values()], (id) => run.sim.healthChecks.healthStatus(id, at) !== 'Unhealthy');
}

const deadShare = (share: Record<string, number>) => deadIds.reduce((sum, id) => sum + (share[id] ?? 0), 0);

/** First second in [from, to] after which the dead zone's share stays 0 through `to`; undefined if not at `to`. */
function drainedFor(run: SimulationResult, from: number, to: number): number | undefined {
  let drained: number | undefined;
  for (let s = from; s <= to; s++) {
    if (deadShare(shareAt(run, s)) === 0) drained ??= s;
    else drained = undefined;
  }
  return drained;
}

/**
 * The same, from the runner's own live samples of sim.trafficShare() (one per change, checked every simulated
 * second) when the runner returns them (SimulationResult.answers; older runners do not): undefined samples → 'n/a'.
 */
function drainedFromLiveSamples(run: SimulationResult, from: number, to: number): number | undefined | 'n/a' {
  const samples = (run as { answers?: Array<{ at: number; share: Record<string, number> }> }).answers;
  if (samples === undefined) return 'n/a';
  const shareAt = (s: number) => [...samples].reverse().find((x) => x.at <= s)?.share ?? {};
  const starts = [from, ...samples.map((x) => x.at).filter((t) => t > from && t <= to)];
  let drained: number | undefined;
  for (const s of starts) {
    if (deadShare(shareAt(s)) === 0) drained ??= s;
    else drained = undefined;
  }
  return drained;
}

function countBy(calls: Array<{ operation: string; ok: boolean }>): string {
  const n = new Map<string, number>();
  for (const c of calls) {
    const key = `${c.operation}${c.ok ? '' : ' (failed)'}`;
    n.set(key, (n.get(key) ?? 0) + 1);
  }
  return n.size === 0 ? 'none' : [...n].map(([op, k]) => `${op} ${k}`).join(', ');
}

async function measure(label: string, policy: FailoverPolicy, scenario: Scenario): Promise<Measured> {
  const t0 = performance.now();
  // Every call kept: the event-window counts below read the Route 53 reads too, which the default log only counts.
  const run = await runSimulation({
    policy,
    scenario,
    seed: SEED,
    callLog: { recentCapacity: Number.MAX_SAFE_INTEGER },
  });
  const wallMs = Math.round(performance.now() - t0);
  const { report, timeline, sim } = run;
  const endS = report.durationSeconds;

  const inEvent = (ms: number) => ms >= toMs(FAULT_S) && ms < toMs(EVENT_END_S);
  const crrs = sim.calls.writes().filter((c) => c.service === 'route53' && c.operation === 'ChangeResourceRecordSets');
  const pmd = sim.calls.writes().filter((c) => c.service === 'cloudwatch' && c.operation === 'PutMetricData');

  // The replay agrees with the live resolvers at the end of the run (the clock stands 60 s past the end).
  const live = sim.trafficShare(r53.hostedZoneId, r53.recordName, r53.type);
  const replayed = shareAt(run, toS(sim.clock.now()));
  const liveCheck = JSON.stringify(live) === JSON.stringify(replayed) ? 'agrees' : 'DIFFERS';

  const m: Measured = {
    label,
    scenario: scenario.name,
    drainedAt: drainedFor(run, FAULT_S, Math.min(EVENT_END_S, endS)),
    drainedInRunAt: drainedFor(run, FAULT_S, endS),
    reportShifted: report.trafficShiftedSeconds,
    detection: report.detectionSeconds,
    crrsEvent: crrs.filter((c) => inEvent(c.at)).length,
    crrsEventFailed: crrs.filter((c) => inEvent(c.at) && !c.ok).length,
    crrsRun: crrs.length,
    putMetricEvent: pmd.filter((c) => inEvent(c.at)).length,
    putMetricRun: pmd.length,
    otherRoute53Event: countBy(
      sim.calls
        .recent()
        .filter((c) => c.service === 'route53' && c.operation !== 'ChangeResourceRecordSets' && inEvent(c.at)),
    ),
    liveCheck,
    liveSampled: drainedFromLiveSamples(run, FAULT_S, endS),
    failedChecks: [
      ...report.expectations.filter((e) => !e.passed).map((e) => `${e.check}: ${e.detail}`),
      ...report.violations.map((v) => `${v.rule}: ${v.message}`),
    ],
    wallMs,
  };

  // Data-plane breakdown, each step read from the timeline or the simulated cloud's own history.
  const published = timeline.find((e) => e.kind === 'action' && e.action?.kind === 'SetVerdicts' && e.at >= FAULT_S);
  if (published) {
    const degradedAt = timeline.find(
      (e) =>
        e.kind === 'health' && e.scope === 'zone' && e.name === DEAD_ZONE && e.state !== 'Healthy' && e.at >= FAULT_S,
    )!.at;
    const hcId = sim.dns
      .servedRecords(r53.hostedZoneId, r53.recordName, r53.type)
      .find((r) => r.setIdentifier === deadIds[0])?.healthCheckId;
    const check = sim.healthChecks.checks().find((c) => c.id === hcId);
    if (check) {
      const transition = sim.verdicts
        .history(check.alarm.region, check.alarm.name)
        .find((t) => t.state === 'ALARM' && t.at >= toMs(published.at));
      const period = (healthChecks.spec.traffic?.route53.dataPlane?.periodSeconds ?? 60) * 1000;
      let unhealthyAt: number | undefined;
      for (let s = published.at; s <= endS && unhealthyAt === undefined; s++) {
        if (sim.healthChecks.healthStatus(check.id, toMs(s)) === 'Unhealthy') unhealthyAt = s;
      }
      let movedAt: number | undefined;
      for (let s = published.at; s <= endS && movedAt === undefined; s++) {
        if (deadShare(shareAt(run, s)) === 0) movedAt = s;
      }
      if (transition && unhealthyAt !== undefined && movedAt !== undefined) {
        m.breakdown = {
          degradedAt,
          publishedAt: published.at,
          periodEndAt: toS((Math.floor(toMs(published.at) / period) + 1) * period),
          alarmAt: toS(transition.at),
          checkUnhealthyAt: unhealthyAt,
          answersMovedAt: movedAt,
        };
      }
    }
  }
  process.stderr.write(`${label}: ${wallMs} ms wall\n`);
  return m;
}

const rows = [
  await measure('(a) record edits, Route 53 healthy', recordEdits, healthy),
  await measure('(b) record edits, ChangeResourceRecordSets failing', recordEdits, failing),
  await measure('(c) data plane (HealthChecks), ChangeResourceRecordSets failing', healthChecks, failing),
];

// ---- baseline: Route 53 endpoint health checks, from AWS's documented figures (not simulated) --------------------

// Route 53 Developer Guide, "How Amazon Route 53 determines whether a health check is healthy": each checker sends a
// request every RequestInterval (10 or 30 s), checkers in different locations do not coordinate; a checker calls
// the endpoint unhealthy after FailureThreshold consecutive failed requests; an HTTP(S) request fails when no TCP
// connection within 4 s (or no 2xx/3xx within 2 s after connecting); Route 53 calls the endpoint unhealthy when 18%
// or fewer of the checkers report it healthy. So, for a fault at phase-random time:
//   one checker:  U·I + (T − 1)·I (+ up to 4 s connect timeout), U uniform in [0, 1);
//   Route 53:     when > 82% of checkers have flipped ≈ (T − 1)·I + 0.82·I (+ ≤ 4 s); bounds (T − 1)·I … T·I + 4 s.
// How long resolvers take to act on a changed status is not documented: counted as 0.
const CONNECT_TIMEOUT_S = 4;
const baselines = [10, 30].map((interval) => {
  const threshold = 3;
  const min = (threshold - 1) * interval;
  const typical = Math.round(((threshold - 1) * interval + 0.82 * interval + CONNECT_TIMEOUT_S) * 10) / 10;
  const max = threshold * interval + CONNECT_TIMEOUT_S;
  return { interval, threshold, min, typical, max };
});

// ---- report -------------------------------------------------------------------------------------------------------

const fmt = (s: number | null | undefined) => (s === null || s === undefined ? '—' : `${s}`);
const sinceFault = (at: number | undefined) => (at === undefined ? undefined : at - FAULT_S);
const drainedCell = (m: Measured) => {
  const d = sinceFault(m.drainedAt);
  if (d !== undefined) return `**${d} s**`;
  const late = sinceFault(m.drainedInRunAt);
  return `**never (${EVENT_MIN} min)**${late === undefined ? '' : `; ${late} s = ${Math.round((late / 60) * 10) / 10} min after the fault, once Route 53 took changes again`}`;
};
const ttlCell = (m: Measured) => {
  const d = sinceFault(m.drainedAt);
  return d === undefined ? '—' : `${d + TTL} s`;
};

const at = new Date().toISOString();
const git = (cmd: string) => execSync(`git ${cmd}`, { encoding: 'utf8' }).trimEnd();
const HEAD = git('rev-parse --short HEAD');
const DIRTY = git('status --porcelain -- src examples')
  .split('\n')
  .filter(Boolean)
  .map((l) => l.slice(3));
const load = loadavg().map((x) => Math.round(x * 100) / 100);
const wallSeconds = Math.round((performance.now() - wallStart) / 100) / 10;
const dp = rows[2]!;
const b = dp.breakdown;

const md = [
  '# Data-plane benchmark: fault → no DNS answer points at the dead zone',
  '',
  `\`${COMMAND}\` — ${at}, Node ${process.version}, ${availableParallelism()} CPUs (load average ${load.join(' / ')} at the end: shared machine), ${wallSeconds} s wall. Seed ${SEED}.`,
  '',
  `Code: commit ${HEAD}${DIRTY.length ? ` plus uncommitted changes to ${DIRTY.join(', ')}` : ''}.`,
  '',
  `Policy \`${POLICY_FILE}\` (loaded and defaulted by \`loadManifests\`) with \`spec.traffic.route53.dataPlane\` set`,
  'explicitly, whatever the file says: rows (a), (b) `{ mechanism: RecordEdits }`; row (c) `{ mechanism: HealthChecks,',
  'signalRegion: us-west-2 }` (defaults: periodSeconds 60, insufficientDataHealthStatus LastKnownStatus). Scenario: the built-in `route53-writes-failing-7h`, in full',
  `(${failing.durationMinutes} simulated minutes; ChangeResourceRecordSets error rate 1.0 from minute 0 to ${r53BackMin};`,
  `${DEAD_ZONE} endpoints down from minute ${zoneFaultMin} to the end). Row (a): the same scenario with its two Route 53`,
  'events removed. Virtual clock: the seconds are simulated and exact for this seed.',
  '',
  `"Event" = minute ${zoneFaultMin} (zone fault) to minute ${r53BackMin} (Route 53 takes changes again), ${EVENT_MIN} min, for every row.`,
  '',
  `| row | fault → dead zone gets no answers | + TTL (${TTL} s) | detection | ChangeResourceRecordSets attempts in the event (failed) / whole run | PutMetricData calls in the event / whole run | drill report trafficShiftedSeconds |`,
  '|---|---|---|---|---|---|---|',
  ...rows.map(
    (m) =>
      `| ${m.label} | ${drainedCell(m)} | ${ttlCell(m)} | ${fmt(m.detection)} s | ${m.crrsEvent} (${m.crrsEventFailed}) / ${m.crrsRun} | ${m.putMetricEvent} / ${m.putMetricRun} | ${fmt(m.reportShifted)} |`,
  ),
  ...baselines.map(
    (x) =>
      `| (d) Route 53 endpoint health check, ${x.interval} s interval × threshold ${x.threshold} — **computed, not simulated** | ≈ ${x.typical} s (bounds ${x.min}–${x.max} s) | ≈ ${Math.round((x.typical + TTL) * 10) / 10} s | (the same) | 0 | 0 | — |`,
  ),
  '',
  ...(b
    ? [
        `### Row (c), step by step (scenario seconds; fault at ${FAULT_S})`,
        '',
        '| step | at | + seconds |',
        '|---|---|---|',
        `| ${DEAD_ZONE} endpoints down (scenario) | ${FAULT_S} | — |`,
        `| detection: operator holds ${DEAD_ZONE} Degraded (interval 5 s × failureThreshold 2) | ${b.degradedAt} | +${b.degradedAt - FAULT_S} |`,
        `| SetVerdicts: verdict "drain" published (PutMetricData, us-west-2) | ${b.publishedAt} | +${b.publishedAt - b.degradedAt} |`,
        `| alarm: its 60 s period ends at ${b.periodEndAt}, evaluated ${b.alarmAt - b.periodEndAt} s later → ALARM | ${b.alarmAt} | +${b.alarmAt - b.publishedAt} |`,
        `| health check follows the alarm (simulated lag) → Unhealthy | ${b.checkUnhealthyAt} | +${b.checkUnhealthyAt - b.alarmAt} |`,
        `| resolvers skip the record: ${DEAD_ZONE}'s share 0 | ${b.answersMovedAt} | +${b.answersMovedAt - b.checkUnhealthyAt} |`,
        `| total | | **${b.answersMovedAt - FAULT_S} s** (+ TTL ${TTL} s = ${b.answersMovedAt - FAULT_S + TTL} s) |`,
        '',
        'The alarm step depends on where in its minute the verdict lands: published at second p of a period, it waits',
        '60 − p s for the period to end plus 10 s of evaluation delay, so 10–70 s; with detection ~10 s and the 30 s',
        'health-check lag the data-plane path takes about 50–110 s from fault to no answers (+ TTL), ≈ 80 s on average',
        "for a fault at a random phase. The scenario's fault falls on a whole minute, so the verdict lands ~10 s into a",
        'period: close to the worst case (seeds 1–3 all give 100 s). Record edits take detection + 30–60 s to INSYNC.',
        '',
      ]
    : ['Row (c) has no breakdown: no SetVerdicts after the fault, or its health check never turned Unhealthy.', '']),
  '### How it is measured',
  '',
  `- "fault → dead zone gets no answers": the first second after which the share of ${DEAD_ZONE}'s record(s)`,
  `  (${deadIds.join(', ')}) in resolvers' answers stays 0 until the end of the event; "never (${EVENT_MIN} min)" if it is not`,
  "  0 by then. Replayed per second after the run from the simulated Route 53's own history: the records served at",
  "  that second (the topology's records + every change INSYNC by then) and each attached health check's status then,",
  "  through the resolvers' choice `trafficShareOf` (src/cloud/sim/sim-dns.ts). Checks of the replay, per row:",
  ...rows.map(
    (m) =>
      `  ${m.label.slice(0, 3)} replay ${fmt(sinceFault(m.drainedInRunAt))} s; runner's live 1 s samples of \`sim.trafficShare()\` ${m.liveSampled === 'n/a' ? 'not returned by this runner' : `${fmt(sinceFault(m.liveSampled))} s`}; drill report trafficShiftedSeconds ${fmt(m.reportShifted)} s; replay vs live \`sim.trafficShare()\` at the end of the run: ${m.liveCheck}.`,
  ),
  '  The report rounds INSYNC to the nearest second; the samples are whole seconds at or after it (1 s apart at most).',
  `- "+ TTL": the weighted records' TTL in the simulated topology (${TTL} s, src/cloud/sim/sim-topology.ts; the policy`,
  '  has no TTL field for them): a client that resolved just before the drain can keep the old answer that long.',
  "- Detection: the drill report's detectionSeconds (fault → the zone leaves Healthy).",
  '- Call counts: `sim.calls` (every attempt logged, failed ones included), in the event window and over the whole run',
  '  (the run includes 2 min of warm-up, when row (c) prepares its health checks). Other Route 53 calls in the event:',
  ...rows.map((m) => `  ${m.label.slice(0, 3)} ${m.otherRoute53Event}.`),
  '- Row (d), computed from AWS documentation, not simulated — Route 53 Developer Guide, "How Amazon Route 53',
  '  determines whether a health check is healthy": checkers in several locations each send a request every',
  '  RequestInterval I (10 or 30 s) and are not coordinated; a checker calls the endpoint unhealthy after',
  '  FailureThreshold T consecutive failures; an HTTP(S) check fails when no TCP connection within 4 s; Route 53 calls',
  "  the endpoint unhealthy when 18% or fewer checkers report it healthy. With each checker's phase uniform in the",
  '  interval, Route 53 flips once > 82% of checkers have: ≈ (T − 1)·I + 0.82·I + 4 s; bounds (T − 1)·I (fast refusal,',
  '  all checkers just after the fault) to T·I + 4 s. How long resolvers take to act on a changed status is not',
  '  documented and counted as 0; detection and "no answers" coincide, since the health check IS the detector.',
  '',
  '### Drill-report checks that failed',
  '',
  ...rows.flatMap((m) =>
    m.failedChecks.length === 0 ? [`- ${m.label}: none`] : [`- ${m.label}:`, ...m.failedChecks.map((c) => `  - ${c}`)],
  ),
  '',
].join('\n');

writeFileSync('bench/results/dataplane.md', md);
process.stdout.write(md);
