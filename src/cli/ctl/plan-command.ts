// `failoverctl plan`: what the engine would do to a policy under a scenario, worked out offline by the embedded
// simulation (the real planner and executor against the simulated cloud). Nothing in the cluster or in AWS changes.

import type { Command } from 'commander';
import { applyPolicyDefaults, type FailoverPolicy } from '../../api/index.ts';
import { loadScenario, type Scenario, ScenarioError } from '../../scenarios/index.ts';
import { runSimulation } from '../../simulate/run-simulation.ts';
import { isStructured } from '../conventions.ts';
import { type CtlDeps, globalOptions, printStructured } from './context.ts';
import { formatPlan } from './format.ts';
import { CtlError } from './kube.ts';

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
      ].join('\n'),
    )
    .action(async (name: string, opts: { scenario: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      let scenario: Scenario;
      try {
        scenario = loadScenario(opts.scenario);
      } catch (error) {
        if (error instanceof ScenarioError) throw new CtlError(error.message, 2);
        throw error;
      }
      const policy = await deps.kube(g).getPolicy(name);
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
