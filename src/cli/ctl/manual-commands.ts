// `failoverctl failover | failback | approve`: a person's one-shot request, written into spec.manual with a merge
// patch. The operator picks it up on its next reconcile and reports what became of it in status.manual.

import type { Command } from 'commander';
import type { FailoverPolicy, ManualRequest } from '../../api/index.ts';
import { isStructured } from '../conventions.ts';
import { type CtlDeps, type GlobalOptions, globalOptions, printStructured } from './context.ts';
import { CtlError } from './errors.ts';
import type { PolicyKube } from './kube.ts';
import { approvalIdFor, checkTargetRegion, manualMergePatch, manualRequestId } from './manual-request.ts';

interface ConfirmOptions {
  yes?: boolean;
}

/** Asks on a terminal; refuses without one unless --yes was given (a script must say it means it). */
async function confirmOrRefuse(deps: CtlDeps, opts: ConfirmOptions, what: string): Promise<void> {
  if (opts.yes) return;
  if (!deps.io.isTTY) {
    throw new CtlError(`refusing to ${what} without confirmation: stdin is not a terminal; pass --yes to confirm`, 1);
  }
  if (!(await deps.io.confirm(`${what}? [y/N] `))) throw new CtlError('aborted: nothing was changed', 1);
}

async function sendRequest(
  deps: CtlDeps,
  kube: PolicyKube,
  policy: FailoverPolicy,
  request: ManualRequest,
  g: GlobalOptions,
): Promise<void> {
  const name = policy.metadata.name ?? '';
  await kube.patchPolicy(name, manualMergePatch(request));
  if (isStructured(g.output)) {
    printStructured(deps.io, g.output, { policy: `${kube.namespace}/${name}`, manual: request });
    return;
  }
  deps.io.out(
    `${request.action} requested on FailoverPolicy ${kube.namespace}/${name} (request ${request.id}); follow it with: failoverctl status ${name} -n ${kube.namespace}\n`,
  );
}

function baseRequest(deps: CtlDeps, kube: PolicyKube, action: ManualRequest['action']) {
  return {
    id: manualRequestId(action, deps.now(), deps.randomSuffix()),
    action,
    allowDataLoss: false,
    ...(kube.user === undefined ? {} : { requestedBy: kube.user }),
  } satisfies ManualRequest;
}

export function registerManualCommands(program: Command, deps: CtlDeps): void {
  program
    .command('failover')
    .description('move traffic and the database writer of a policy to another region, now')
    .argument('<policy>', 'the FailoverPolicy')
    .requiredOption('--to <region>', 'the region to fail over to (one of the policy regions)')
    .option('--allow-data-loss', 'promote even if replica lag exceeds maxLagSeconds (overrides PB-6)', false)
    .option('--reason <text>', 'why, recorded for the audit trail')
    .option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  failoverctl failover orders --to us-west-2 --reason "us-east-1 API errors"',
        '  failoverctl failover orders --to us-west-2 --allow-data-loss --yes   # scripted, lag budget overridden',
      ].join('\n'),
    )
    .action(
      async (
        name: string,
        opts: { to: string; allowDataLoss: boolean; reason?: string; yes?: boolean },
        cmd: Command,
      ) => {
        const g = globalOptions(cmd);
        const kube = await deps.kube(g);
        const policy = await kube.getPolicy(name);
        checkTargetRegion(policy, opts.to);
        await confirmOrRefuse(
          deps,
          opts,
          `fail over FailoverPolicy ${kube.namespace}/${name} to ${opts.to}${opts.allowDataLoss ? ' ALLOWING DATA LOSS' : ''}`,
        );
        await sendRequest(
          deps,
          kube,
          policy,
          {
            ...baseRequest(deps, kube, 'Failover'),
            targetRegion: opts.to,
            allowDataLoss: opts.allowDataLoss,
            ...(opts.reason === undefined ? {} : { reason: opts.reason }),
          },
          g,
        );
      },
    );

  program
    .command('failback')
    .description('return traffic (and, with --include-database, the writer) to the primary region')
    .argument('<policy>', 'the FailoverPolicy')
    .option('--include-database', 'also move the writer back (re-seeds the old region, PB-10)', false)
    .option('--reason <text>', 'why, recorded for the audit trail')
    .option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)')
    .addHelpText(
      'after',
      ['', 'Examples:', '  failoverctl failback orders', '  failoverctl failback orders --include-database --yes'].join(
        '\n',
      ),
    )
    .action(async (name: string, opts: { includeDatabase: boolean; reason?: string; yes?: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const kube = await deps.kube(g);
      const policy = await kube.getPolicy(name);
      await confirmOrRefuse(
        deps,
        opts,
        `fail back FailoverPolicy ${kube.namespace}/${name}${opts.includeDatabase ? ' including the database writer' : ' (traffic only)'}`,
      );
      await sendRequest(
        deps,
        kube,
        policy,
        {
          ...baseRequest(deps, kube, 'Failback'),
          includeDatabase: opts.includeDatabase,
          ...(opts.reason === undefined ? {} : { reason: opts.reason }),
        },
        g,
      );
    });

  program
    .command('approve')
    .description('approve the action waiting in status.pendingApproval (e.g. a Manual database promotion)')
    .argument('<policy>', 'the FailoverPolicy')
    .argument('[approvalId]', 'the id to approve (default: status.pendingApproval.id)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  failoverctl approve orders',
        '  failoverctl approve orders promote-orders-replica-usw2   # approve only this id',
      ].join('\n'),
    )
    .action(async (name: string, given: string | undefined, _opts: unknown, cmd: Command) => {
      const g = globalOptions(cmd);
      const kube = await deps.kube(g);
      const policy = await kube.getPolicy(name);
      const approvalId = approvalIdFor(policy, given);
      await sendRequest(deps, kube, policy, { ...baseRequest(deps, kube, 'Approve'), approvalId }, g);
    });
}
