// The vantages a scenario runs with (#14): the members of the simulated policy's spec.vantagePoints, each placed in
// a region — the scenario's `vantages` when it names one, else derived from the name (use1 → us-east-1, euw1 →
// eu-west-1). A scenario that names a vantage the policy does not list is refused, naming the field and the members.

import type { FailoverPolicySpec } from '../api/index.ts';
import type { RegionName } from '../cloud/types.ts';
import { ScenarioError, type ScenarioIssue } from './scenario-loader.ts';
import type { Scenario } from './scenario-schema.ts';

export interface ScenarioVantage {
  name: string;
  /** The region its cluster runs in, when the scenario says or the name tells. */
  region?: RegionName;
}

/** Regions whose compact names (us-east-1 → use1) a vantage name is matched against. */
const KNOWN_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
  'ca-central-1',
  'sa-east-1',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'ap-south-1',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-east-1',
  'me-south-1',
  'af-south-1',
];

/** us-east-1 → use1, ap-northeast-1 → apne1, eu-central-1 → euc1 (the first letters of the direction words). */
export function compactRegionName(region: RegionName): string {
  const parts = region.split('-');
  const words = parts
    .slice(1, -1)
    .flatMap((w) =>
      w.startsWith('north') || w.startsWith('south') ? [w[0]!, ...(w.length > 5 ? [w[5]!] : [])] : [w[0]!],
    );
  return `${parts[0]}${words.join('')}${parts.at(-1)}`;
}

/** The region a vantage name stands for, by its compact form (use1, usw2, euw1, apne1), or by containing it. */
export function regionOfVantageName(name: string, candidates: readonly RegionName[] = []): RegionName | undefined {
  const regions = [...new Set([...candidates, ...KNOWN_REGIONS])];
  return regions.find((r) => name === compactRegionName(r)) ?? regions.find((r) => name.includes(r));
}

/**
 * The policy's vantages as the scenario places them; [] for a policy without spec.vantagePoints. Throws
 * ScenarioError when the scenario names a vantage that is not a member (or names vantages for a policy with none).
 */
export function scenarioVantages(scenario: Scenario, spec: FailoverPolicySpec): ScenarioVantage[] {
  const members = spec.vantagePoints?.members ?? [];
  const issues: ScenarioIssue[] = [];
  const known =
    members.length > 0 ? `the policy's members are ${members.join(', ')}` : 'the policy has no spec.vantagePoints';
  const check = (path: string, name: string | undefined) => {
    if (name === undefined || members.includes(name)) return;
    issues.push({
      path,
      message: `vantage ${name} is not a member of the simulated policy's spec.vantagePoints: ${known}`,
      fix:
        members.length > 0
          ? `Use one of ${members.join(', ')}, or add ${name} to spec.vantagePoints.members.`
          : 'Simulate a policy with spec.vantagePoints (e.g. examples/three-vantages.yaml), or remove the vantage.',
    });
  };
  scenario.vantages?.forEach((v, i) => {
    check(`vantages[${i}].name`, v.name);
  });
  scenario.events.forEach((event, e) => {
    check(`events[${e}].partition.vantage`, event.partition?.vantage);
    check(`events[${e}].heal.vantage`, event.heal?.vantage);
    check(`events[${e}].vantageDown.vantage`, event.vantageDown?.vantage);
  });
  scenario.expect?.forEach((entry, i) => {
    if (typeof entry !== 'string') check(`expect[${i}].vantage`, entry.vantage);
  });
  if (issues.length > 0 && members.length === 0) {
    // One vantage scenario, one policy without vantages: one answer, not one per field.
    throw new ScenarioError(scenario.source, [
      {
        path: issues[0]!.path,
        message: `the scenario is about vantage points (it names ${issues.length} vantage field(s)), but the simulated policy has no spec.vantagePoints: not applicable to it`,
        fix: issues[0]!.fix,
      },
    ]);
  }
  if (issues.length > 0) throw new ScenarioError(scenario.source, issues.slice(0, 20));
  const policyRegions = spec.regions.map((r) => r.name);
  return members.map((name) => {
    const region = scenario.vantages?.find((v) => v.name === name)?.region ?? regionOfVantageName(name, policyRegions);
    return { name, ...(region === undefined ? {} : { region }) };
  });
}
