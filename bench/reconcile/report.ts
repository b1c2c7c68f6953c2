// bench/results/reconcile.md from the JSON report: the figures first, then how they were taken.

import type { CallRates, Distribution } from './measure.ts';

export interface ReconcileReportView {
  node: string;
  cpus: number;
  loadAverage: number[];
  at: string;
  wallSeconds: number;
  command: string;
  /** What the operator child was given beyond the test bed's environment. */
  operatorSettings?: {
    nodeOptions?: string;
    env?: string;
    entry?: string;
    maxConcurrentReconciles?: string;
    maxConcurrentUrgentReconciles?: string;
  };
  source: { commit: string; uncommittedSrcFiles: number };
  testbed: { dir: string; shared: boolean; kubeApiserver: string; moto: string };
  setup: {
    policies: number;
    hostedZones: number;
    recordGroupsPerHostedZone: number;
    probeTargets: number;
    createSeconds: number;
    allReconciledOnce: boolean;
    reconciledOnce: number;
    allReconciledSeconds: number;
    perPolicyCreateToReconciledSeconds: Distribution | undefined;
    phases: Record<string, number>;
    awsCalls: CallRates;
  };
  steady: {
    healthTransitions?: number;
    windowSeconds: number;
    reconciles: number;
    reconcilesPerMinute: number;
    effectiveResyncSeconds: number | null;
    reconcileResults: Record<string, number>;
    queueAdds: number;
    watchEvents: Record<string, number>;
    rssWithoutPoliciesMiB: number;
    reconcileSeconds: { p50: number | null; p90: number | null; p99: number | null; mean: number | null };
    workSeconds: { p50: number | null; p99: number | null };
    workqueueDepth: { max: number | null; last: number | null };
    rssMiB: {
      fromProcStatus: { min: number | null; max: number | null; end: number | null };
      processResidentMemoryBytes: number;
      heapUsed: number;
    };
    operatorCpu: { seconds: number; utilisation: number };
    awsCalls: CallRates;
  };
  outage: {
    zone: string;
    hostedZoneId: string;
    affectedPolicies: number;
    complete: boolean;
    decided: number;
    wrote: number;
    drainedInMoto: number;
    writesPairedWithProxyLog: { paired: number; unpaired: number };
    faultToDecisionSeconds: Distribution | undefined;
    decisionToFirstWriteSeconds: Distribution | undefined;
    faultToFirstWriteSeconds: Distribution | undefined;
    proxy: {
      changeResourceRecordSetsInZone: number;
      changeResourceRecordSetsElsewhere: number;
      faultToFirstWriteInZoneSeconds: number | null;
      faultToLastWriteInZoneSeconds: number | null;
      awsCalls: CallRates;
    };
    observedSeconds: number;
  };
  /** RSS per phase (absent in reports from before it was recorded). */
  memory?: {
    source: string;
    beforePolicies: { atLeadMiB: number; idleMiB: number; idleSeconds: number };
    phases: Record<
      string,
      {
        seconds: number;
        samples: number;
        min: number;
        max: number;
        end: number;
        settled?: { min: number; max: number };
      }
    >;
  };
  writesBeforeFault: number;
  operator: { errors: number; warnings: number; reconcileFailures: number };
  proxyLog: { polls: number; gaps: number };
}

/** A figure, or — when there was nothing to measure (null, NaN). */
const fig = (x: number | null | undefined, unit = '') =>
  x === null || x === undefined || Number.isNaN(x) ? '—' : `${x}${unit}`;

const dist = (d: Distribution | undefined) => (d ? `${d.p50} | ${d.p99} | ${d.max} | ${d.n}` : '— | — | — | 0');

function callTable(c: CallRates): string {
  const rows = Object.entries(c.perMinute).map(([op, perMin]) => `| ${op} | ${perMin} |`);
  return ['| service operation | calls/min |', '|---|---|', ...rows, `| **total** | **${c.totalPerMinute}** |`].join(
    '\n',
  );
}

function readsPerReconcile(st: ReconcileReportView['steady']): string {
  const reads = Object.entries(st.awsCalls.perMinute)
    .filter(([op]) => op.startsWith('route53 ') && /^(List|Get)/.test(op.slice('route53 '.length)))
    .reduce((a, [, perMin]) => a + perMin, 0);
  return st.reconcilesPerMinute > 0 ? String(Math.round((reads / st.reconcilesPerMinute) * 100) / 100) : '—';
}

export function renderMarkdown(r: ReconcileReportView): string {
  const s = r.setup;
  const st = r.steady;
  const o = r.outage;
  const errors = Object.entries(st.awsCalls.errors)
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');
  return `# Reconcile benchmark

\`${r.command}\` — ${r.at}, Node ${r.node}, ${r.cpus} CPUs (load average ${r.loadAverage.join(' / ')} at the end: shared machine), ${r.wallSeconds} s wall.
Code: ${r.source.commit} with ${r.source.uncommittedSrcFiles} uncommitted files under src/ (work in progress at the time).
Real kube-apiserver ${r.testbed.kubeApiserver} + etcd, moto ${r.testbed.moto} behind the fault proxy (test bed \`${r.testbed.dir}\`${r.testbed.shared ? ', shared with integration runs' : ', private'}), the operator as a child process (\`failover-operator run\`, log level debug${operatorSettingsText(r)}).

**Steady-state AWS writes: ${r.writesBeforeFault}** (must be 0; the run exits 1 otherwise).

## Setup: ${s.policies} policies, ${s.hostedZones} hosted zones × ${s.recordGroupsPerHostedZone} weighted record groups × 3 AZs, ${s.probeTargets} probe targets

| step | seconds |
|---|---|
| create ${s.policies} FailoverPolicies | ${s.createSeconds} |
| first create → ${s.allReconciledOnce ? 'all' : `only ${s.reconciledOnce}`} reconciled once (observedGeneration set) | ${s.allReconciledSeconds} |
| per policy, created → reconciled: p50 / p99 / max | ${s.perPolicyCreateToReconciledSeconds ? `${s.perPolicyCreateToReconciledSeconds.p50} / ${s.perPolicyCreateToReconciledSeconds.p99} / ${s.perPolicyCreateToReconciledSeconds.max}` : '—'} |

Phases after the first reconcile: ${Object.entries(s.phases)
    .map(([p, n]) => `${p} ${n}`)
    .join(
      ', ',
    )}. AWS calls while reconciling them: ${s.awsCalls.total} (${s.awsCalls.totalPerMinute}/min), writes ${s.awsCalls.writes}.

## Steady state (${st.windowSeconds} s window)

| reconciles | per minute | effective resync | p50 | p90 | p99 | mean | queue depth max / last |
|---|---|---|---|---|---|---|---|
| ${st.reconciles} | ${st.reconcilesPerMinute} | ${fig(st.effectiveResyncSeconds, ' s')} | ${fig(st.reconcileSeconds.p50, ' s')} | ${fig(st.reconcileSeconds.p90, ' s')} | ${fig(st.reconcileSeconds.p99, ' s')} | ${fig(st.reconcileSeconds.mean, ' s')} | ${fig(st.workqueueDepth.max)} / ${fig(st.workqueueDepth.last)} |

Reconcile durations are the runtime's \`controller_runtime_reconcile_time_seconds\` histogram (buckets 5 ms … 60 s),
start-of-window to end-of-window delta, interpolated as \`histogram_quantile\` does. Results: ${Object.entries(
    st.reconcileResults,
  )
    .map(([k, n]) => `${k} ${n}`)
    .join(', ')}; ${st.queueAdds} keys added to the queue, watch events ${
    Object.entries(st.watchEvents)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ') || 'none'
  }. "Effective resync" = policies × window ÷ reconciles: how often each policy was actually looked at
(the engine asks for 60 s when quiet).

Operator RSS ${st.rssMiB.fromProcStatus.min}–${st.rssMiB.fromProcStatus.max} MiB over the window (${st.rssWithoutPoliciesMiB} MiB before any policy existed; /proc; \`process_resident_memory_bytes\` ${st.rssMiB.processResidentMemoryBytes} MiB at the end, heap used ${st.rssMiB.heapUsed} MiB); CPU ${st.operatorCpu.seconds} s (${st.operatorCpu.utilisation} of a core).${st.healthTransitions === undefined ? '' : ` Health transitions logged in the window: ${st.healthTransitions} (nothing failed in it).`}

AWS calls at the fault proxy (writes: **${st.awsCalls.writes}**${errors ? `; non-2xx: ${errors}` : ''}):

${callTable(st.awsCalls)}

## Zone outage: ${o.zone} of hosted zone ${o.hostedZoneId} fails its probe (${o.affectedPolicies} policies)

| interval (s) | p50 | p99 | max | n |
|---|---|---|---|---|
| fault → decision (\`zone ${o.zone} changed from Healthy to …\`) | ${dist(o.faultToDecisionSeconds)} |
| decision → first ChangeResourceRecordSets at the proxy | ${dist(o.decisionToFirstWriteSeconds)} |
| fault → first ChangeResourceRecordSets at the proxy | ${dist(o.faultToFirstWriteSeconds)} |

${o.complete ? 'Every affected policy wrote' : `**Incomplete**: ${o.wrote}/${o.affectedPolicies} affected policies wrote within the timeout`} (observed ${o.observedSeconds} s); ${o.decided} decided, ${o.drainedInMoto} record groups drained to weight 0 in moto.
At the proxy: ${o.proxy.changeResourceRecordSetsInZone} ChangeResourceRecordSets to the hosted zone, first ${o.proxy.faultToFirstWriteInZoneSeconds} s and last ${o.proxy.faultToLastWriteInZoneSeconds} s after the fault; ${o.proxy.changeResourceRecordSetsElsewhere} to other hosted zones (must be 0).
Writes are attributed to policies by pairing the operator's \`completed AWS call\` lines with proxy entries of the same hosted zone; the policies of one change batch (same change id, latency and batch size in their lines) share its one request's proxy time (${o.writesPairedWithProxyLog.paired} paired, ${o.writesPairedWithProxyLog.unpaired} fell back to the operator's time, which is when the answer came: later than the request).

${callTable(o.proxy.awsCalls)}

${memorySection(r)}## Notes

- Operator log: ${r.operator.errors} errors, ${r.operator.warnings} warnings, ${r.operator.reconcileFailures} failed reconciles. Proxy log polled ${r.proxyLog.polls} times, ${r.proxyLog.gaps} gaps (a gap = calls may have been missed between polls; the proxy keeps its last 500).
- Route 53 allows 5 requests/s per account; the operator's share is at most 4 in any second, one every 250 ms (a
  sliding window, src/act/rate-limit.ts): 240 calls/min for reads and writes together, whatever the CPU. Steady state used ${st.awsCalls.totalPerMinute}/min, ${readsPerReconcile(st)}
  Route 53 reads per reconcile; the outage used ${o.proxy.awsCalls.totalPerMinute}/min. Reads take only idle grants
  beyond their half: a waiting write is never overtaken.
- The machine is shared (see the load average): wall-clock figures move with it; the AWS call counts do not.
`;
}

const PHASE_LABELS: Record<string, string> = {
  initialSync: 'initial sync (first create → all reconciled once)',
  steady: 'steady window',
  outage: 'zone outage (fault → last write + 3 s)',
};

function memorySection(r: ReconcileReportView): string {
  const m = r.memory;
  if (m === undefined) return '';
  const rows = Object.entries(m.phases).map(
    ([name, p]) =>
      `| ${PHASE_LABELS[name] ?? name} | ${p.seconds} | **${p.max}** | ${p.min} | ${p.end} | ${p.settled ? `${p.settled.min}–${p.settled.max}` : '—'} |`,
  );
  return `## Operator memory (RSS, MiB)

Before any policy existed: ${m.beforePolicies.atLeadMiB} MiB when it started leading, **${m.beforePolicies.idleMiB}
MiB idle** ${m.beforePolicies.idleSeconds} s later. Per phase (${m.source}; "settled" from 30 s into a phase of a
minute or more):

| phase | seconds | max | min | last | settled |
|---|---|---|---|---|---|
${rows.join('\n')}

`;
}

function operatorSettingsText(r: ReconcileReportView): string {
  const s = r.operatorSettings;
  if (s === undefined) return '';
  return [
    `, NODE_OPTIONS ${s.nodeOptions ? `\`${s.nodeOptions}\`` : '(none)'}`,
    s.env ? `, environment \`${s.env}\`` : '',
    s.entry ? `, entry point \`${s.entry}\`` : '',
    `, max concurrent reconciles ${s.maxConcurrentReconciles ?? '(the default)'}`,
    `, urgent lane ${s.maxConcurrentUrgentReconciles ?? '(the default)'}`,
  ].join('');
}
