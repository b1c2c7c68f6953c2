// `failoverctl drill start | status | abort`: FailoverDrills, the rehearsals of an outage against a policy (PB-12).

import { type Command, InvalidArgumentError, Option } from 'commander';
import { API_VERSION, DRILL_KIND, type FailoverDrill, formatFieldErrors, validateDrill } from '../../api/index.ts';
import { type CtlDeps, globalOptions, printJson } from './context.ts';
import { formatDrillDetail, formatDrillTable } from './format.ts';
import { CtlError } from './kube.ts';

export const SCENARIO_TYPES = ['zone-outage', 'region-outage', 'replay', 'manual-failover'] as const;
export const DRILL_MODES = ['DryRun', 'Live'] as const;

interface StartOptions {
  scenario: (typeof SCENARIO_TYPES)[number];
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
        '  failoverctl drill abort orders-zone-outage-3f2a1c',
      ].join('\n'),
    );

  drill
    .command('start')
    .description('create a FailoverDrill (checked locally with the apiserver rules before it is sent)')
    .argument('<policy>', 'the FailoverPolicy to rehearse')
    .addOption(new Option('--scenario <type>', 'what fails').choices(SCENARIO_TYPES).makeOptionMandatory())
    .option('--zone <zone>', 'the zone that fails (zone-outage)')
    .option('--region <region>', 'the region that fails (region-outage) or the target (manual-failover)')
    .option('--timeline <name>', 'the timeline to replay (replay), e.g. us-east-1-2011')
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
        '  failoverctl drill start orders --scenario replay --timeline us-east-1-2011 --mode DryRun',
        '  failoverctl drill start orders --scenario manual-failover --region us-west-2 --mode Live --no-auto-failback',
      ].join('\n'),
    )
    .action(async (policy: string, opts: StartOptions, cmd: Command) => {
      const g = globalOptions(cmd);
      const kube = deps.kube(g);
      const name = opts.name ?? drillName(policy, opts.scenario, deps.randomSuffix());
      const manifest = drillManifest(policy, name, kube.namespace, opts);
      const checked = validateDrill(manifest);
      if (!checked.ok) {
        throw new CtlError(`the drill is not valid, nothing was sent:\n${formatFieldErrors(checked.errors)}`, 1);
      }
      const created = await kube.createDrill(manifest);
      if (g.output === 'json') printJson(deps.io, created);
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
      const kube = deps.kube(g);
      if (name === undefined) {
        const drills = await kube.listDrills();
        if (g.output === 'json') printJson(deps.io, drills);
        else deps.io.out(`${formatDrillTable(drills)}\n`);
        return;
      }
      const found = await kube.getDrill(name);
      if (g.output === 'json') printJson(deps.io, { name, spec: found.spec, status: found.status ?? null });
      else deps.io.out(`${formatDrillDetail(found)}\n`);
    });

  drill
    .command('abort')
    .description('stop a running drill (sets spec.abort; cannot be undone)')
    .argument('<name>', 'the FailoverDrill')
    .addHelpText('after', ['', 'Examples:', '  failoverctl drill abort orders-zone-outage-3f2a1c'].join('\n'))
    .action(async (name: string, _opts: unknown, cmd: Command) => {
      const g = globalOptions(cmd);
      const kube = deps.kube(g);
      const patched = await kube.patchDrill(name, { spec: { abort: true } });
      if (g.output === 'json') printJson(deps.io, { name, abort: patched.spec.abort });
      else deps.io.out(`FailoverDrill ${kube.namespace}/${name}: abort requested\n`);
    });
}
