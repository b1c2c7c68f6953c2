// `failoverctl drill start | status | abort`: FailoverDrills, the rehearsals of an outage against a policy (PB-12).

import { type Command, InvalidArgumentError, Option } from 'commander';
import { API_VERSION, DRILL_KIND, type FailoverDrill, formatFieldErrors, validateDrill } from '../../api/index.ts';
import { listBuiltinScenarios } from '../../scenarios/index.ts';
import { isStructured } from '../conventions.ts';
import { type CtlDeps, globalOptions, printStructured } from './context.ts';
import { CtlError } from './errors.ts';
import { drillReport, formatDrillDetail, formatDrillTable } from './format.ts';

export const SCENARIO_TYPES = ['zone-outage', 'region-outage', 'replay', 'manual-failover'] as const;
export const DRILL_MODES = ['DryRun', 'Live'] as const;
type ScenarioType = (typeof SCENARIO_TYPES)[number];

/**
 * `--scenario` as every command reads it: a built-in scenario name (the list `failoverctl scenarios` prints), or
 * one of the drill's own types. A built-in timeline becomes `replay` of it; `zone-outage` and `region-outage` are both
 * (the drill's type, which the operator parameterises with --zone/--region). The old spelling `--scenario replay
 * --timeline <name>` still works. A file cannot be sent: the operator replays only the timelines it has built in.
 */
export function drillScenario(
  scenario: string,
  timeline: string | undefined,
  builtins: readonly string[],
): { type: ScenarioType; timeline?: string } {
  if ((SCENARIO_TYPES as readonly string[]).includes(scenario)) {
    return { type: scenario as ScenarioType, ...(timeline === undefined ? {} : { timeline }) };
  }
  if (builtins.includes(scenario)) {
    if (timeline !== undefined && timeline !== scenario) {
      throw new CtlError(`--scenario ${scenario} already names the timeline; drop --timeline ${timeline}`, 2);
    }
    return { type: 'replay', timeline: scenario };
  }
  if (/[/.]/.test(scenario)) {
    throw new CtlError(
      `--scenario ${scenario}: a FailoverDrill replays only the operator's built-in timelines (failoverctl scenarios); run a file with failoverctl plan or failover-operator simulate`,
      2,
    );
  }
  throw new CtlError(
    `--scenario ${scenario} is neither a drill type (${SCENARIO_TYPES.join(', ')}) nor a built-in scenario (${builtins.join(', ')})`,
    2,
  );
}

interface StartOptions {
  scenario: ScenarioType;
  zone?: string;
  region?: string;
  timeline?: string;
  duration?: number;
  mode: (typeof DRILL_MODES)[number];
  timeScale?: number;
  autoFailback?: boolean;
  name?: string;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number greater than 0');
  return n;
}

/** The FailoverDrill a `drill start` describes; unset options are left to the schema defaults. */
export function drillManifest(policy: string, name: string, namespace: string, o: StartOptions): FailoverDrill {
  const spec: Record<string, unknown> = {
    policyRef: { name: policy },
    scenario: {
      type: o.scenario,
      ...(o.zone === undefined ? {} : { zone: o.zone }),
      ...(o.region === undefined ? {} : { region: o.region }),
      ...(o.timeline === undefined ? {} : { timeline: o.timeline }),
      ...(o.duration === undefined ? {} : { durationSeconds: o.duration }),
    },
    mode: o.mode,
    ...(o.timeScale === undefined ? {} : { timeScale: o.timeScale }),
    ...(o.autoFailback === undefined ? {} : { autoFailback: o.autoFailback }),
  };
  return { apiVersion: API_VERSION, kind: DRILL_KIND, metadata: { name, namespace }, spec } as unknown as FailoverDrill;
}

/** `<policy>-<scenario>-<suffix>`, cut to a valid object name. */
export function drillName(policy: string, scenario: string, suffix: string): string {
  const stem = `${policy}-${scenario}`.slice(0, 63 - suffix.length - 1).replace(/-+$/, '');
  return `${stem}-${suffix}`;
}

export function registerDrillCommands(program: Command, deps: CtlDeps): void {
  const drill = program
    .command('drill')
    .description('rehearse an outage against a policy (FailoverDrill) and read its report')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  failoverctl drill start orders --scenario zone-outage --zone us-east-1a',
        '  failoverctl drill status',
        '  failoverctl drill report orders-zone-outage-3f2a1c -o json',
        '  failoverctl drill abort orders-zone-outage-3f2a1c',
      ].join('\n'),
    );

  drill
    .command('start')
    .description('create a FailoverDrill (checked locally with the apiserver rules before it is sent)')
    .argument('<policy>', 'the FailoverPolicy to rehearse')
    .requiredOption(
      '--scenario <name>',
      `what fails: a built-in scenario (failoverctl scenarios), or ${SCENARIO_TYPES.join(', ')}`,
    )
    .option('--zone <zone>', 'the zone that fails (zone-outage)')
    .option('--region <region>', 'the region that fails (region-outage) or the target (manual-failover)')
    .addOption(
      new Option('--timeline <name>', 'deprecated: use --scenario <name>, e.g. --scenario us-east-1-2011').hideHelp(),
    )
    .option('--duration <seconds>', 'how long the outage lasts, in scenario seconds', positiveNumber)
    .addOption(
      new Option('--mode <mode>', 'DryRun plans only; Live acts on AWS').choices(DRILL_MODES).default('DryRun'),
    )
    .option('--time-scale <n>', 'scenario seconds per real second (default 60)', positiveNumber)
    .option('--auto-failback', 'return traffic once the drill ends (the default)')
    .option('--no-auto-failback', 'leave traffic where the drill put it')
    .option('--name <name>', 'drill name (default: <policy>-<scenario>-<random>)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  failoverctl drill start orders --scenario zone-outage --zone us-east-1a',
        '  failoverctl drill start orders --scenario region-outage --region us-east-1 --time-scale 120',
        '  failoverctl drill start orders --scenario us-east-1-2011 --mode DryRun',
        '  failoverctl drill start orders --scenario manual-failover --region us-west-2 --mode Live --no-auto-failback',
      ].join('\n'),
    )
    .action(async (policy: string, given: Omit<StartOptions, 'scenario'> & { scenario: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      if (given.timeline !== undefined && given.scenario === 'replay') {
        deps.io.err(
          `warning: --scenario replay --timeline ${given.timeline} is deprecated; use --scenario ${given.timeline}\n`,
        );
      }
      const builtins = listBuiltinScenarios().map((s) => s.name);
      const { type, timeline } = drillScenario(given.scenario, given.timeline, builtins);
      const opts: StartOptions = { ...given, scenario: type, ...(timeline === undefined ? {} : { timeline }) };
      const kube = await deps.kube(g);
      const name = opts.name ?? drillName(policy, timeline ?? opts.scenario, deps.randomSuffix());
      const manifest = drillManifest(policy, name, kube.namespace, opts);
      const checked = validateDrill(manifest);
      if (!checked.ok) {
        throw new CtlError(`the drill is not valid, nothing was sent:\n${formatFieldErrors(checked.errors)}`, 2);
      }
      const created = await kube.createDrill(manifest);
      if (isStructured(g.output)) printStructured(deps.io, g.output, created);
      else {
        deps.io.out(
          `FailoverDrill ${kube.namespace}/${name} created (${opts.scenario}, ${opts.mode}); follow it with: failoverctl drill status ${name} -n ${kube.namespace}\n`,
        );
      }
    });

  drill
    .command('status')
    .description('show the drill report (from the drill status), or list drills')
    .argument('[name]', 'the FailoverDrill (default: list every drill in the namespace)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  failoverctl drill status',
        '  failoverctl drill status orders-zone-outage-3f2a1c -o json',
      ].join('\n'),
    )
    .action(async (name: string | undefined, _opts: unknown, cmd: Command) => {
      const g = globalOptions(cmd);
      const kube = await deps.kube(g);
      if (name === undefined) {
        const drills = await kube.listDrills();
        if (isStructured(g.output)) printStructured(deps.io, g.output, drills);
        else deps.io.out(`${formatDrillTable(drills)}\n`);
        return;
      }
      const found = await kube.getDrill(name);
      if (isStructured(g.output))
        printStructured(deps.io, g.output, { name, spec: found.spec, status: found.status ?? null });
      else deps.io.out(`${formatDrillDetail(found)}\n`);
    });

  drill
    .command('report')
    .description("print a finished drill's report (exit 1 when the drill failed)")
    .argument('<name>', 'the FailoverDrill')
    .addHelpText(
      'after',
      [
        '',
        'The report comes from the drill status the operator wrote; a drill still running is an error (exit 2): follow',
        'it with failoverctl drill status <name>.',
        '',
        'Examples:',
        '  failoverctl drill report orders-zone-outage-3f2a1c',
        '  failoverctl drill report orders-zone-outage-3f2a1c -o yaml > drill-report.yaml',
      ].join('\n'),
    )
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const g = globalOptions(cmd);
      const kube = await deps.kube(g);
      const found = await kube.getDrill(name);
      const report = drillReport(found);
      if (report === undefined) {
        throw new CtlError(
          `FailoverDrill ${kube.namespace}/${name} has not finished (phase ${found.status?.phase ?? 'Pending'}); follow it with: failoverctl drill status ${name}`,
          2,
        );
      }
      if (isStructured(g.output)) printStructured(deps.io, g.output, report);
      else deps.io.out(`${formatDrillDetail(found)}\n`);
      if (report.result !== 'Passed') process.exitCode = 1;
    });

  drill
    .command('abort')
    .description('stop a running drill (sets spec.abort; cannot be undone)')
    .argument('<name>', 'the FailoverDrill')
    .addHelpText('after', ['', 'Examples:', '  failoverctl drill abort orders-zone-outage-3f2a1c'].join('\n'))
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const g = globalOptions(cmd);
      const kube = await deps.kube(g);
      const patched = await kube.patchDrill(name, { spec: { abort: true } });
      if (isStructured(g.output)) printStructured(deps.io, g.output, { name, abort: patched.spec.abort });
      else deps.io.out(`FailoverDrill ${kube.namespace}/${name}: abort requested\n`);
    });
}
