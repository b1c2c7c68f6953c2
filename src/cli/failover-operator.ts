#!/usr/bin/env node
// failover-operator: `run` (the controller) and `simulate` (the embedded default: the real engine against a
// simulated AWS). This file only parses arguments and wires; the work happens in src/simulate and src/main.ts.

import { readFileSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { type FailoverPolicy, formatFieldErrors, loadManifests } from '../api/index.ts';
import { listBuiltinScenarios, loadScenario, ScenarioError } from '../scenarios/index.ts';
import { formatReport, formatTimeline } from '../simulate/format-report.ts';
import { renderHtmlReport } from '../simulate/report-html.ts';
import { runSimulation } from '../simulate/run-simulation.ts';
import {
  addCompletionCommand,
  applyConventions,
  EXIT_USAGE,
  exitQuietlyOnClosedPipe,
  isStructured,
  type OutputFormat,
  outputOption,
  renderStructured,
  UsageProblem,
  unexpectedFailureMessage,
} from './conventions.ts';

/** A mistake the user can fix: printed as one clear message, exit code 2, never a stack trace. */
export class UsageError extends Error {}

export function readPolicies(files: string[]): FailoverPolicy[] {
  const policies: FailoverPolicy[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    for (const doc of loadManifests(text, file)) {
      if (doc.type === 'Invalid') throw new UsageError(formatFieldErrors(doc.errors, { file }));
      if (doc.type !== 'FailoverPolicy') continue;
      if (!doc.result.ok) throw new UsageError(formatFieldErrors(doc.result.errors, { file }));
      policies.push(doc.result.value);
    }
  }
  if (policies.length === 0) throw new UsageError(`no FailoverPolicy found in ${files.join(', ')}`);
  return policies;
}

/** One page per policy: with several policies, `report.html` becomes `report-<policy>.html`. */
export function htmlReportPath(file: string, policyName: string, policyCount: number): string {
  if (policyCount <= 1) return file;
  const ext = extname(file);
  return `${file.slice(0, file.length - ext.length)}-${policyName}${ext || '.html'}`;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a whole number ≥ 0');
  return n;
}

/** The flags of `run`, each beside the environment variable it overrides (flags win). */
export interface RunFlags {
  kubeconfig?: string;
  leaderElect?: boolean;
  leaderElectionId?: string;
  leaderElectionNamespace?: string;
  metricsBindAddress?: string;
  healthProbeBindAddress?: string;
  watchNamespace?: string;
  logLevel?: string;
  logFormat?: string;
  vantage?: string;
  vantageRegion?: string;
  maxConcurrentReconciles?: string;
  maxConcurrentUrgentReconciles?: string;
  route53RequestsPerSecond?: string;
}

/**
 * A bind address as controller-runtime spells it (`:8080`, `0.0.0.0:8080`, or a bare port) → the port. `0` means
 * "disabled" there, but here the port 0 picks a free one, and the endpoints cannot be turned off: refused.
 */
export function bindAddressPort(flag: string, value: string): string {
  if (value === '0') {
    throw new UsageError(`--${flag} 0: the endpoint cannot be disabled; give a port, e.g. :8080 (:0 picks a free one)`);
  }
  const match = /^(?:(?:\d{1,3}(?:\.\d{1,3}){3}|\[::\]|0\.0\.0\.0)?:)?(\d{1,5})$/.exec(value);
  const port = match ? Number(match[1]) : NaN;
  if (!(port >= 0 && port <= 65_535)) {
    throw new UsageError(`--${flag} ${value}: expected [host]:port, e.g. :8080`);
  }
  return String(port);
}

/** The environment `run` reads, with the flags laid over it: main.ts reads configuration from one place. */
export function runEnvironment(env: NodeJS.ProcessEnv, flags: RunFlags): NodeJS.ProcessEnv {
  const set = (key: string, value: string | undefined) => (value === undefined ? {} : { [key]: value });
  return {
    ...env,
    ...set('KUBECONFIG', flags.kubeconfig),
    ...set('FO_LEADER_ELECT', flags.leaderElect === undefined ? undefined : String(flags.leaderElect)),
    ...set('FO_LEADER_ELECTION_ID', flags.leaderElectionId),
    ...set('FO_VANTAGE', flags.vantage),
    ...set('FO_VANTAGE_REGION', flags.vantageRegion),
    ...set('FO_LEADER_ELECTION_NAMESPACE', flags.leaderElectionNamespace),
    ...set(
      'FO_METRICS_PORT',
      flags.metricsBindAddress === undefined
        ? undefined
        : bindAddressPort('metrics-bind-address', flags.metricsBindAddress),
    ),
    ...set(
      'FO_HEALTH_PORT',
      flags.healthProbeBindAddress === undefined
        ? undefined
        : bindAddressPort('health-probe-bind-address', flags.healthProbeBindAddress),
    ),
    ...set('FO_WATCH_NAMESPACE', flags.watchNamespace),
    ...set('FO_LOG_LEVEL', flags.logLevel),
    ...set('FO_LOG_FORMAT', flags.logFormat),
    ...set('FO_MAX_CONCURRENT_RECONCILES', flags.maxConcurrentReconciles),
    ...set('FO_MAX_CONCURRENT_URGENT_RECONCILES', flags.maxConcurrentUrgentReconciles),
    ...set('FO_ROUTE53_REQUESTS_PER_SECOND', flags.route53RequestsPerSecond),
  };
}

function booleanFlag(value: string): boolean {
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new InvalidArgumentError('expected true or false');
}

export function buildProgram(
  io: { out: (s: string) => void; err: (s: string) => void; isTTY: boolean },
  name = 'failover-operator',
): Command {
  // Output and exit behaviour first: subcommands copy them when they are added.
  const program = applyConventions(
    new Command(name).configureOutput({ writeOut: io.out, writeErr: io.err }).exitOverride(),
  )
    .description('Keeps a service up when an AWS availability zone or region fails.')
    .showHelpAfterError('(run with --help for usage)');

  program
    .command('simulate')
    .description('run the real planner, executor and health model against a simulated AWS and print a drill report')
    .argument('[policy...]', 'FailoverPolicy YAML file(s)', ['examples/two-region-rds.yaml'])
    .requiredOption(
      '-s, --scenario <name|file>',
      `built-in scenario (${listBuiltinScenarios()
        .map((s) => s.name)
        .join(', ')}) or a timeline file`,
    )
    .option('--seed <n>', 'seed for the simulated cloud and jitter (same seed, same run)', positiveInt, 1)
    .addOption(outputOption())
    .option('--quiet', 'print only the report, not the timeline')
    .option('--html <file>', 'also write the drill report as a standalone HTML page with a timeline chart')
    .addHelpText(
      'after',
      '\nExamples:\n  failover-operator simulate examples/two-region-rds.yaml --scenario us-east-1-2011\n  failover-operator simulate examples/two-region-rds.yaml --scenario region-outage --html drill.html\n  failover-operator simulate examples/single-region-web.yaml --scenario zone-outage --output json',
    )
    .action(
      async (
        files: string[],
        given: { scenario: string; seed: number; output: OutputFormat; quiet?: boolean; html?: string },
      ) => {
        // wide has no extra columns here: the text report already shows everything.
        const opts = { ...given, output: given.output === 'wide' ? ('text' as const) : given.output };
        const policies = readPolicies(files);
        const scenario = loadScenario(opts.scenario);
        const reports = [];
        for (const policy of policies) {
          const result = await runSimulation({
            policy,
            scenario,
            seed: opts.seed,
            onProgress: ({ minute, totalMinutes, phase }) => {
              if (io.isTTY && opts.output === 'text') {
                io.err(
                  `\rsimulating ${policy.metadata.name}: minute ${minute}/${totalMinutes}, phase ${phase ?? '—'}   `,
                );
              }
            },
          });
          if (io.isTTY && opts.output === 'text') io.err('\n');
          reports.push(result.report);
          if (opts.html !== undefined) {
            const file = htmlReportPath(opts.html, policy.metadata.name ?? 'policy', policies.length);
            try {
              writeFileSync(file, renderHtmlReport({ report: result.report, timeline: result.timeline, policy }));
            } catch (err) {
              throw new UsageError(
                `cannot write --html ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
              );
            }
            if (opts.output === 'text') io.err(`wrote the HTML report to ${file}\n`);
          }
          if (opts.output === 'text') {
            if (!opts.quiet) io.out(`${formatTimeline(result.timeline)}\n\n`);
            io.out(
              `${formatReport(result.report)}\n(simulated ${Math.round(scenario.durationMinutes)} minutes in ${(result.wallMs / 1000).toFixed(1)}s)\n`,
            );
          }
        }
        if (isStructured(opts.output))
          io.out(renderStructured(opts.output, reports.length === 1 ? reports[0] : reports));
        if (!reports.every((r) => r.passed)) process.exitCode = 1;
      },
    );

  program
    .command('scenarios')
    .description('list the built-in scenarios that --scenario names (a timeline file path works too)')
    .addOption(outputOption())
    .action((opts: { output: OutputFormat }) => {
      const scenarios = listBuiltinScenarios().map((s) => ({ name: s.name, description: s.description ?? '' }));
      if (isStructured(opts.output)) io.out(renderStructured(opts.output, scenarios));
      else for (const s of scenarios) io.out(`${s.name.padEnd(28)} ${s.description}\n`);
    });

  program
    .command('run')
    .description('run the controller: watch FailoverPolicies and act on AWS')
    .option('--kubeconfig <file>', 'kubeconfig file [KUBECONFIG; unset: in-cluster, then ~/.kube/config]')
    .option(
      '--leader-elect <bool>',
      'elect a leader with a Lease; false only for a single replica [FO_LEADER_ELECT] (default: true)',
      booleanFlag,
    )
    .option(
      '--leader-election-id <name>',
      'name of the Lease; give each release in a namespace its own [FO_LEADER_ELECTION_ID] (default: failover-operator)',
    )
    .option(
      '--leader-election-namespace <ns>',
      "namespace of the Lease [FO_LEADER_ELECTION_NAMESPACE] (default: the pod's namespace, else default)",
    )
    .option(
      '--metrics-bind-address <addr>',
      '/metrics address, e.g. :8443 (:0 picks a free port) [FO_METRICS_PORT] (default: :8443 secure, :8080 plain)',
    )
    .option(
      '--health-probe-bind-address <addr>',
      '/healthz and /readyz address, plain HTTP, e.g. :8081 [FO_HEALTH_PORT] (default: :8081)',
    )
    .option('--watch-namespace <ns>', 'watch only this namespace [FO_WATCH_NAMESPACE] (default: all namespaces)')
    .option(
      '--vantage <name>',
      "this operator's vantage-point name; policies with spec.vantagePoints act on agreement [FO_VANTAGE] (default: none)",
    )
    .option('--vantage-region <region>', 'the AWS region this cluster runs in [FO_VANTAGE_REGION]')
    .option(
      '--max-concurrent-reconciles <n>',
      'FailoverPolicies reconciled at once, each policy one at a time [FO_MAX_CONCURRENT_RECONCILES] (default: 16)',
    )
    .option(
      '--max-concurrent-urgent-reconciles <n>',
      'reconciles woken by a health transition that may run on top of those, ahead of resyncs; 0: none [FO_MAX_CONCURRENT_URGENT_RECONCILES] (default: 128)',
    )
    .option(
      '--route53-requests-per-second <n>',
      "this operator's share of the AWS account's 5 Route 53 requests/s; N operators in one account: floor(4/N) each [FO_ROUTE53_REQUESTS_PER_SECOND] (default: 4)",
    )
    .addOption(
      new Option('--log-level <level>', 'log level [FO_LOG_LEVEL] (default: info)').choices([
        'trace',
        'debug',
        'info',
        'warn',
        'error',
        'fatal',
        'silent',
      ]),
    )
    .addOption(
      new Option(
        '--log-format <format>',
        'json lines, or console: one readable line each [FO_LOG_FORMAT] (default: json)',
      ).choices(['json', 'console']),
    )
    .addHelpText(
      'after',
      [
        '',
        'Each flag overrides the environment variable in brackets. Also read from the environment only: AWS_REGION,',
        'AWS credentials (the SDK default chain), FO_AWS_ENDPOINT, POD_NAME, FO_METRICS_SECURE, FO_METRICS_CERT_DIR,',
        'FO_DRILL_SIMULATIONS, FO_DRILL_HEAP_MB, FO_DRILL_NAMESPACE_LIMIT, FO_PROMOTION_LOCK_TABLE and',
        'FO_PROMOTION_LOCK_REGIONS, FO_TENANCY_GRANTS_FILE or FO_TENANCY=Unrestricted (one is required; docs/tenancy.md).',
        '',
        'Without a cluster (no --kubeconfig, KUBECONFIG, ~/.kube/config or in-cluster service account) run exits 2.',
        '',
        'Examples:',
        '  FO_TENANCY=Unrestricted failover-operator run --kubeconfig ~/.kube/config --log-format console',
        '  failover-operator run --leader-election-id orders-failover --watch-namespace shop',
      ].join('\n'),
    )
    // -o is what every printing command takes; run prints logs, so say which flag it means.
    .addOption(new Option('-o, --output <format>').hideHelp())
    .action(async (flags: RunFlags & { output?: string }) => {
      if (flags.output !== undefined) {
        throw new UsageError(
          `run prints logs, not a report: -o ${flags.output} does not apply; use --log-format json|console`,
        );
      }
      const env = runEnvironment(process.env, flags);
      const { ConfigError, runOperator } = await import('../main.ts');
      try {
        process.exitCode = await runOperator(env);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        io.err(`error: ${err.message}\n`);
        process.exitCode = EXIT_USAGE;
      }
    });

  addCompletionCommand(program, io.out);
  return program;
}

/**
 * Runs one command line and returns the exit code: 0 done, 1 a drill report that failed, 2 input the user can fix
 * (a bad policy or scenario file — also one that names a zone the simulated cloud does not have), 1 anything else.
 * Every error is printed as one message without a stack trace, unless `debug` (FO_DEBUG=1) asks for it.
 */
export async function runFailoverOperator(
  argv: string[],
  io: { out: (s: string) => void; err: (s: string) => void; isTTY: boolean },
  options: { debug?: boolean; name?: string } = {},
): Promise<number> {
  // Commands report failure through process.exitCode (commander's way); read it as this run's and put it back.
  const previousExitCode = process.exitCode;
  process.exitCode = undefined;
  try {
    await buildProgram(io, options.name).parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    // commander already printed its message (unknown option, missing argument) or the help/version it was asked for.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
    if (err instanceof UsageError || err instanceof ScenarioError || err instanceof UsageProblem) {
      io.err(`error: ${err.message}\n`);
      return 2;
    }
    io.err(unexpectedFailureMessage(err, options.debug));
    return 1;
  } finally {
    process.exitCode = previousExitCode;
  }
}

/** The entry point: bin/failover-operator.mjs calls it, and so does running this file. */
export async function main(argv: string[], options: { name?: string } = {}): Promise<void> {
  exitQuietlyOnClosedPipe(process.stdout, (code) => process.exit(code));
  const io = {
    out: (s: string) => process.stdout.write(s),
    err: (s: string) => process.stderr.write(s),
    isTTY: process.stderr.isTTY === true,
  };
  process.exitCode = await runFailoverOperator(argv, io, {
    debug: process.env.FO_DEBUG === '1',
    name: options.name ?? (process.env.FO_PROGRAM_NAME || 'failover-operator'),
  });
}

if (import.meta.main) await main(process.argv);
