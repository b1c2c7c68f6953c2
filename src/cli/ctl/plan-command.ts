// `failoverctl plan`: what the engine would do to a policy.
// - under a scenario (the default): worked out offline by the embedded simulation (the real planner and executor
//   against the simulated cloud). Nothing in the cluster or in AWS changes;
// - `--now`: what the LEADER would do now, from its own health (built up by its probes over time, not a fresh
//   laptop's blank slate) and a fresh read-only observation. The CLI sets the failover.io/preview-request
//   annotation to a new id; the leader plans (PolicyEngine.preview: never executed) and answers in status.preview
//   with that id. No new network path to the operator, and asking needs only `patch` on the policy.

import type { Command } from 'commander';
import {
  applyPolicyDefaults,
  type FailoverPolicy,
  type PolicyPreview,
  PREVIEW_REQUEST_ANNOTATION,
} from '../../api/index.ts';
import { loadScenario, type Scenario, ScenarioError } from '../../scenarios/index.ts';
import { runSimulation } from '../../simulate/run-simulation.ts';
import { isStructured } from '../conventions.ts';
import { type CtlDeps, globalOptions, printStructured } from './context.ts';
import { CtlError } from './errors.ts';
import { formatPlan } from './format.ts';

/** The policy as the simulation should see it: the spec only, with defaults, and no pending manual request. */
export function policyForPlan(policy: FailoverPolicy): FailoverPolicy {
  const { manual: _manual, ...spec } = policy.spec;
  return applyPolicyDefaults({
    apiVersion: policy.apiVersion,
    kind: policy.kind,
    metadata: { name: policy.metadata.name, namespace: policy.metadata.namespace },
    spec,
  });
}

export function registerPlanCommand(program: Command, deps: CtlDeps): void {
  program
    .command('plan')
    .description('dry-run a policy from the cluster against a SIMULATED cloud and print what the engine would do')
    .argument('<policy>', 'the FailoverPolicy to plan for')
    .option('--scenario <name|file>', 'built-in scenario (failoverctl scenarios) or a timeline file', 'zone-outage')
    .option('--now', 'ask the leading operator what it would do now, from its live health (planned, never executed)')
    .option('--wait <seconds>', 'with --now: how long to wait for the operator to answer', '30')
    .addHelpText(
      'after',
      [
        '',
        'The plan is made offline: the policy is read from the cluster, then the real planner and executor run against',
        'the embedded simulated cloud (not your AWS account), so it shows what the rules would do, not the live state.',
        '',
        'Examples:',
        '  failoverctl plan orders                          # zone-outage',
        '  failoverctl plan orders --scenario us-east-1-2011',
        '  failoverctl plan orders --scenario ./my-scenario.yaml --output json',
        '  failoverctl plan orders --now                    # the leader, from its live health',
      ].join('\n'),
    )
    .action(async (name: string, opts: { scenario: string; now?: boolean; wait: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      if (opts.now) {
        const waitSeconds = Number(opts.wait);
        if (!Number.isFinite(waitSeconds) || waitSeconds <= 0 || waitSeconds > 600) {
          throw new CtlError(`--wait must be a number of seconds from 1 to 600, got ${JSON.stringify(opts.wait)}`, 2);
        }
        const preview = await askLeader(deps, g, name, waitSeconds * 1000);
        if (isStructured(g.output)) printStructured(deps.io, g.output, { simulated: false, ...preview });
        else deps.io.out(`${formatPreview(name, preview)}\n`);
        return;
      }
      let scenario: Scenario;
      try {
        scenario = loadScenario(opts.scenario);
      } catch (error) {
        if (error instanceof ScenarioError) throw new CtlError(error.message, 2);
        throw error;
      }
      const policy = await (await deps.kube(g)).getPolicy(name);
      const { report } = await runSimulation({ policy: policyForPlan(policy), scenario });
      if (isStructured(g.output)) {
        printStructured(deps.io, g.output, {
          simulated: true,
          actions: report.actions,
          skipped: report.skipped,
          report,
        });
      } else deps.io.out(`${formatPlan(report)}\n`);
    });
}

/** Sets the preview-request annotation to a fresh id and waits for the leader's status.preview with that id. */
async function askLeader(
  deps: CtlDeps,
  g: ReturnType<typeof globalOptions>,
  name: string,
  waitMs: number,
): Promise<PolicyPreview> {
  const kube = await deps.kube(g);
  const requestId = `now-${deps.now().toString(36)}-${deps.randomSuffix()}`.slice(0, 64);
  await kube.patchPolicy(name, { metadata: { annotations: { [PREVIEW_REQUEST_ANNOTATION]: requestId } } });
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = deps.now() + waitMs;
  for (;;) {
    const preview = (await kube.getPolicy(name)).status?.preview;
    if (preview?.requestId === requestId) return preview;
    if (deps.now() >= deadline) {
      throw new CtlError(
        `the operator did not answer preview request ${requestId} for ${name} within ${Math.round(waitMs / 1000)}s: is it running and leading? (kubectl get lease -A | grep failover-operator; its log says why)`,
        1,
      );
    }
    await sleep(1_000);
  }
}

/** `plan --now` as text: where the plan came from, then the actions and what holds others back. */
export function formatPreview(name: string, p: PolicyPreview): string {
  const lines = [
    `Plan for ${name} now, from operator ${p.by} (planned at ${p.computedAt}${p.healthAsOf ? `, health as of ${p.healthAsOf}` : ''}; planned only, nothing was executed by this request):`,
    `Phase: ${p.phase}`,
  ];
  if (p.error) lines.push(`No plan: ${p.error}`);
  else {
    lines.push('', p.actions.length === 0 ? 'No actions would be taken now.' : 'Actions the operator would take now:');
    for (const [i, a] of p.actions.entries()) {
      lines.push(
        `  ${String(i + 1).padStart(2)}. ${a.kind} ${a.target}${a.zone ? ` zone ${a.zone}` : ''}${a.region ? ` region ${a.region}` : ''} [${a.rule}] ${a.reason}`,
      );
    }
  }
  if (p.gates.length > 0) {
    lines.push('', 'Held back by:');
    for (const gate of p.gates) lines.push(`  - ${gate.kind} [${gate.rule}] ${gate.message}`);
  }
  return lines.join('\n');
}
