// `failoverctl status [policy]`: policies at a glance, or one policy in detail.

import type { Command } from 'commander';
import { isStructured } from '../conventions.ts';
import { type CtlDeps, globalOptions, printStructured } from './context.ts';
import { formatPolicyDetail, formatPolicyTable, policySummary } from './format.ts';

export function registerStatusCommand(program: Command, deps: CtlDeps): void {
  program
    .command('status')
    .description('show policies at a glance: phase, active region, writer, degraded zones, weights, approvals')
    .argument('[policy]', 'one FailoverPolicy to show in detail (default: every policy in the namespace)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  failoverctl status                      # every policy in the current namespace',
        '  failoverctl status orders -n shop       # one policy in detail',
        '  failoverctl status --output json | jq \'.[] | select(.phase != "Healthy")\'',
      ].join('\n'),
    )
    .action(async (name: string | undefined, _opts: unknown, cmd: Command) => {
      const opts = globalOptions(cmd);
      const kube = await deps.kube(opts);
      if (name === undefined) {
        const policies = await kube.listPolicies();
        if (isStructured(opts.output)) printStructured(deps.io, opts.output, policies.map(policySummary));
        else deps.io.out(`${formatPolicyTable(policies, opts.output === 'wide')}\n`);
        return;
      }
      const policy = await kube.getPolicy(name);
      if (isStructured(opts.output)) printStructured(deps.io, opts.output, policySummary(policy));
      else deps.io.out(`${formatPolicyDetail(policy)}\n`);
    });
}
