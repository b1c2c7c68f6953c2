#!/usr/bin/env node
// failoverctl: the operator's command line for people. `validate` is the offline twin of the apiserver's schema and
// CEL checks; the other commands read and steer policies and drills in the cluster through the user's kubeconfig.
// This file parses arguments and wires; each command group lives in src/cli/ctl/.

import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { parse } from 'yaml';
import { formatFieldErrors, loadManifests } from '../api/index.ts';
import { notPermittedMessage, parseGrants, policyGrantViolations, type TenancyGrants } from '../api/tenancy.ts';
import { KUBE_API_TIMEOUT_MS } from '../runtime/kube-api-timeout.ts';
import { listBuiltinScenarios } from '../scenarios/index.ts';
import {
  addCompletionCommand,
  applyConventions,
  completeWords,
  EXIT_USAGE,
  exitQuietlyOnClosedPipe,
  isStructured,
  outputOption,
  renderStructured,
  UsageProblem,
  unexpectedFailureMessage,
} from './conventions.ts';
import { type CtlDeps, globalOptions } from './ctl/context.ts';
import { registerDrillCommands } from './ctl/drill-commands.ts';
import { CtlError } from './ctl/errors.ts';
import { registerManualCommands } from './ctl/manual-commands.ts';
import { registerPlanCommand } from './ctl/plan-command.ts';
import { registerStatusCommand } from './ctl/status-command.ts';

export interface ValidateOutcome {
  file: string;
  documents: number;
  valid: number;
  messages: string[];
}

/**
 * Largest file `validate` reads. The apiserver takes at most 3 MiB per request (one object); a file of many
 * manifests may be larger, but not this much.
 */
export const MAX_MANIFEST_FILE_BYTES = 16 * 1024 * 1024;

/** Namespace grants to hold policies to (`validate --grants`), and the namespace of a policy that names none. */
export interface ValidateTenancy {
  grants: TenancyGrants;
  namespace: string;
}

/**
 * Validates every FailoverPolicy and FailoverDrill in the files; other kinds are passed over. With `tenancy`, a valid
 * policy must also name only AWS resources its namespace is granted, as the chart's admission policy and the
 * operator require (docs/tenancy.md).
 */
export function validateFiles(files: string[], tenancy?: ValidateTenancy): ValidateOutcome[] {
  return files.map((file) => {
    let text: string;
    try {
      const size = statSync(file).size;
      if (size > MAX_MANIFEST_FILE_BYTES) {
        return {
          file,
          documents: 0,
          valid: 0,
          messages: [`${file}: the file has ${size} bytes, more than the ${MAX_MANIFEST_FILE_BYTES} validate reads`],
        };
      }
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      return { file, documents: 0, valid: 0, messages: [`${file}: cannot read the file (${code})`] };
    }
    const outcome: ValidateOutcome = { file, documents: 0, valid: 0, messages: [] };
    for (const doc of loadManifests(text, file)) {
      if (doc.type === 'Other') continue;
      outcome.documents++;
      if (doc.type === 'Invalid') {
        outcome.messages.push(formatFieldErrors(doc.errors, { file }));
      } else if (!doc.result.ok) {
        outcome.messages.push(
          `${doc.type} ${doc.name ?? '(unnamed)'}:\n${formatFieldErrors(doc.result.errors, { file })}`,
        );
      } else {
        const namespace =
          doc.type === 'FailoverPolicy' && tenancy ? (doc.result.value.metadata.namespace ?? tenancy.namespace) : '';
        const violations =
          doc.type === 'FailoverPolicy' && tenancy
            ? policyGrantViolations(doc.result.value, namespace, tenancy.grants)
            : [];
        if (violations.length > 0) {
          outcome.messages.push(
            `${file}: ${doc.type} ${doc.name ?? '(unnamed)'} is not permitted in namespace ${namespace}: ${notPermittedMessage(violations)}`,
          );
          continue;
        }
        outcome.valid++;
        outcome.messages.push(
          `${file}: ${doc.type} ${doc.name ?? '(unnamed)'} is valid${tenancy ? ` and permitted in namespace ${namespace}` : ''}`,
        );
      }
    }
    if (outcome.documents === 0) outcome.messages.push(`${file}: no FailoverPolicy or FailoverDrill found`);
    return outcome;
  });
}

/** Grants from chart values (`tenancy.grants`) or from the grants file itself (namespace → grant). */
function loadGrantsFile(file: string): TenancyGrants {
  let doc: unknown;
  try {
    doc = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message.split('\n')[0];
    throw new CtlError(`${file}: cannot read the grants (${reason})`, 2);
  }
  // Chart values hold the grants under tenancy.grants; a grants file maps namespaces (one may be called tenancy,
  // but its grant never has a `grants` or `enforce` key).
  const tenancy = (doc as { tenancy?: unknown } | null)?.tenancy;
  const values = tenancy !== null && typeof tenancy === 'object' && ('grants' in tenancy || 'enforce' in tenancy);
  const parsed = parseGrants(values ? ((tenancy as { grants?: unknown }).grants ?? {}) : doc);
  if (!parsed.ok) throw new CtlError(`${file}: invalid grants: ${parsed.errors.join('; ')}`, 2);
  return parsed.grants;
}

/** `--request-timeout` as kubectl spells it: 30s, 2m, 500ms, or a bare number of seconds; more than 0. */
export function parseRequestTimeout(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  const ms = match ? Number(match[1]) * { ms: 1, s: 1000, m: 60_000 }[(match[2] ?? 's') as 'ms' | 's' | 'm'] : NaN;
  if (!(ms > 0 && ms <= 3_600_000)) {
    throw new InvalidArgumentError('expected a duration from 1ms to 1h, such as 30s, 2m or 500ms');
  }
  return ms;
}

export function buildProgram(deps: CtlDeps, name = 'failoverctl'): Command {
  const { io } = deps;
  // Output and exit behaviour first: subcommands copy them when they are added.
  const program = applyConventions(
    new Command(name).configureOutput({ writeOut: io.out, writeErr: io.err }).exitOverride(),
  )
    .description('Inspect, rehearse and steer failover-operator policies.')
    .addOption(outputOption())
    .option('-n, --namespace <namespace>', 'namespace (default: the kubeconfig context namespace, else default)')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)')
    .option(
      '--request-timeout <duration>',
      `how long to wait for each Kubernetes API call, e.g. 30s (default ${KUBE_API_TIMEOUT_MS / 1000}s)`,
      parseRequestTimeout,
    )
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  failoverctl status',
        '  failoverctl failover orders --to us-west-2',
        '  failoverctl drill start orders --scenario zone-outage --zone us-east-1a',
        '  failoverctl plan orders --scenario us-east-1-2011',
        '  failoverctl drill report orders-zone-outage-3f2a1c -o yaml',
        '  failoverctl validate examples/*.yaml -o json',
        '  source <(failoverctl completion bash)',
        '',
        'As a kubectl plugin (kubectl-failover on PATH, e.g. after npm link): kubectl failover status',
      ].join('\n'),
    );
  registerStatusCommand(program, deps);
  registerManualCommands(program, deps);
  registerDrillCommands(program, deps);
  registerPlanCommand(program, deps);
  program
    .command('validate')
    .description('check FailoverPolicy and FailoverDrill files offline, with the same rules the apiserver enforces')
    .argument('<file...>', 'YAML files (several documents per file are fine)')
    .option(
      '--grants <file>',
      'also check each policy against namespace grants: the chart values (tenancy.grants) or the grants ConfigMap data',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  failoverctl validate examples/*.yaml\n  failoverctl validate policy.yaml drill.yaml\n  failoverctl validate -n team-orders --grants values.yaml policy.yaml',
    )
    .action((files: string[], opts: { grants?: string }, command: Command) => {
      const g = globalOptions(command);
      const tenancy = opts.grants
        ? { grants: loadGrantsFile(opts.grants), namespace: g.namespace ?? 'default' }
        : undefined;
      const outcomes = validateFiles(files, tenancy);
      const passed = (o: ValidateOutcome) => o.documents > 0 && o.valid === o.documents;
      if (isStructured(g.output)) {
        io.out(
          renderStructured(
            g.output,
            outcomes.map((o) => ({ ...o, passed: passed(o) })),
          ),
        );
      } else {
        for (const o of outcomes) for (const m of o.messages) (passed(o) ? io.out : io.err)(`${m}\n`);
      }
      if (!outcomes.every(passed)) process.exitCode = 1;
    });
  program
    .command('scenarios')
    .description('list the built-in scenarios that --scenario names (plan, drill start; a file path works too)')
    .action((_opts: unknown, command: Command) => {
      const g = globalOptions(command);
      const scenarios = listBuiltinScenarios().map((s) => ({ name: s.name, description: s.description ?? '' }));
      if (isStructured(g.output)) io.out(renderStructured(g.output, scenarios));
      else for (const s of scenarios) io.out(`${s.name.padEnd(28)} ${s.description}\n`);
    });
  addCompletionCommand(program, io.out);
  return program;
}

/** Runs one command line; returns the exit code. Errors become one line on stderr, never a stack trace. */
export async function runFailoverctl(argv: string[], deps: CtlDeps): Promise<number> {
  // Commands report failure through process.exitCode (commander's way); read it as this run's and put it back.
  const previousExitCode = process.exitCode;
  process.exitCode = undefined;
  try {
    // kubectl's plugin completion (kubectl_complete-failover) and cobra-style shells ask this hidden command.
    if (argv[2] === '__complete') {
      deps.io.out(completeWords(buildProgram(deps, deps.programName), argv.slice(3)));
      return 0;
    }
    await buildProgram(deps, deps.programName).parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    // commander already printed its message (unknown option, missing argument) or the help/version it was asked for.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    if (error instanceof UsageProblem) {
      deps.io.err(`error: ${error.message}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof CtlError) {
      deps.io.err(`error: ${error.message}\n`);
      return error.exitCode;
    }
    // Not ours: a bug, or a library failing in a way we did not map.
    deps.io.err(unexpectedFailureMessage(error, deps.debug));
    return 1;
  } finally {
    process.exitCode = previousExitCode;
  }
}

/** The entry point: bin/failoverctl.mjs and bin/kubectl-failover.mjs call it, and so does running this file. */
export async function main(argv: string[], options: { name?: string } = {}): Promise<void> {
  exitQuietlyOnClosedPipe(process.stdout, (code) => process.exit(code));
  const io: CtlDeps['io'] = {
    out: (s) => process.stdout.write(s),
    err: (s) => process.stderr.write(s),
    isTTY: process.stdin.isTTY === true,
    async confirm(question) {
      const rl = createInterface({ input: process.stdin, output: process.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(question)).trim());
      } finally {
        rl.close();
      }
    },
  };
  process.exitCode = await runFailoverctl(argv, {
    io,
    programName: options.name ?? (process.env.FO_PROGRAM_NAME || 'failoverctl'),
    debug: process.env.FO_DEBUG === '1',
    // Loaded by the commands that talk to a cluster only: @kubernetes/client-node costs about 80 MiB of RSS and most
    // of a second to import, which validate, scenarios, plan from a file and completion never need.
    kube: async (g) => {
      const { createPolicyKube, loadKubeConfig } = await import('./ctl/kube.ts');
      return createPolicyKube(loadKubeConfig(g.kubeconfig), {
        ...(g.namespace === undefined ? {} : { namespace: g.namespace }),
        ...(g.requestTimeout === undefined ? {} : { timeoutMs: g.requestTimeout }),
      });
    },
    now: () => Date.now(),
    randomSuffix: () => randomBytes(3).toString('hex'),
  });
}

if (import.meta.main) await main(process.argv);
