#!/usr/bin/env node
// failover-operator: `run` (the controller) and `simulate` (the embedded default: the real engine against a
// simulated AWS). This file only parses arguments and wires; the work happens in src/simulate and src/main.ts.

import { readFileSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { type FailoverPolicy, formatFieldErrors, loadManifests } from '../api/index.ts';
import { listBuiltinScenarios, loadScenario, ScenarioError } from '../scenarios/index.ts';
import { formatReport, formatTimeline } from '../simulate/format-report.ts';
import { renderHtmlReport } from '../simulate/report-html.ts';
import { runSimulation } from '../simulate/run-simulation.ts';

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

export function buildProgram(io: { out: (s: string) => void; err: (s: string) => void; isTTY: boolean }): Command {
  const program = new Command('failover-operator')
    .description('Keeps a service up when an AWS availability zone or region fails.')
    .showHelpAfterError();

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
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--quiet', 'print only the report, not the timeline')
    .option('--html <file>', 'also write the drill report as a standalone HTML page with a timeline chart')
    .addHelpText(
      'after',
      '\nExamples:\n  failover-operator simulate examples/two-region-rds.yaml --scenario us-east-1-2011\n  failover-operator simulate examples/two-region-rds.yaml --scenario region-outage --html drill.html\n  failover-operator simulate examples/single-region-web.yaml --scenario zone-outage --output json',
    )
    .action(
      async (
        files: string[],
        opts: { scenario: string; seed: number; output: 'text' | 'json'; quiet?: boolean; html?: string },
      ) => {
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
        if (opts.output === 'json') io.out(`${JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2)}\n`);
        if (!reports.every((r) => r.passed)) process.exitCode = 1;
      },
    );

  program
    .command('scenarios')
    .description('list the built-in scenarios')
    .action(() => {
      for (const s of listBuiltinScenarios()) io.out(`${s.name.padEnd(24)} ${s.description ?? ''}\n`);
    });

  program
    .command('run')
    .description('run the controller: watch FailoverPolicies and act on AWS (configuration from the environment)')
    .action(async () => {
      const { ConfigError, runOperator } = await import('../main.ts');
      try {
        process.exitCode = await runOperator(process.env);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        io.err(`error: ${err.message}\n`);
        process.exitCode = 2;
      }
    });

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
  options: { debug?: boolean } = {},
): Promise<number> {
  // Commands report failure through process.exitCode (commander's way); read it as this run's and put it back.
  const previousExitCode = process.exitCode;
  process.exitCode = undefined;
  try {
    await buildProgram(io).parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof UsageError || err instanceof ScenarioError) {
      io.err(`error: ${err.message}\n`);
      return 2;
    }
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    io.err(
      options.debug && err instanceof Error
        ? `error: ${err.stack}\n`
        : `error: unexpected failure (${message.split('\n')[0]}); set FO_DEBUG=1 for the stack trace\n`,
    );
    return 1;
  } finally {
    process.exitCode = previousExitCode;
  }
}

if (import.meta.main) {
  const io = {
    out: (s: string) => process.stdout.write(s),
    err: (s: string) => process.stderr.write(s),
    isTTY: process.stderr.isTTY === true,
  };
  process.exitCode = await runFailoverOperator(process.argv, io, { debug: process.env.FO_DEBUG === '1' });
}
