// Loads scenario files (built-in by name, or any path) and explains what is wrong with a bad one: every problem
// comes back as a field path, what is wrong and how to fix it — never a stack trace. Structure is checked against
// the schema (scenario-schema.ts); the rules a schema cannot say (which fields fit which service, known operation
// names, zone-or-region) are checked here.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TSchema } from '@sinclair/typebox';
import { Value, ValueErrorType } from '@sinclair/typebox/value';
import { parseDocument } from 'yaml';
import { formatPath, type PathSegment, pointerToSegments } from '../api/field-path.ts';
import { documentToJS, KUBECTL_YAML_OPTIONS } from '../api/kubectl-yaml.ts';
import { operationsOf } from '../cloud/sim/sim-faults.ts';
import type { AwsService } from '../cloud/types.ts';
import {
  atMinutes,
  type Effect,
  EXPECT_CHECKS,
  type ExpectCheck,
  fixOf,
  SCENARIO_LIMITS,
  type Scenario,
  ScenarioSchema,
  type ScenarioSpec,
} from './scenario-schema.ts';

export interface ScenarioIssue {
  /** Field path, e.g. events[3].effects[0].apiErrorRate ('' for the whole file). */
  path: string;
  message: string;
  fix: string;
}

export class ScenarioError extends Error {
  readonly source: string;
  readonly issues: ScenarioIssue[];

  constructor(source: string, issues: ScenarioIssue[]) {
    const lines = issues.map((i) => `  ${i.path || '(file)'}: ${i.message}\n    fix: ${i.fix}`);
    super(`scenario ${source} is not valid:\n${lines.join('\n')}`);
    this.name = 'ScenarioError';
    this.source = source;
    this.issues = issues;
  }
}

const BUILTIN_DIR = fileURLToPath(new URL('./builtin/', import.meta.url));
const MAX_ISSUES = 20;

/** Fields each kind of effect may carry besides zone/region. */
const API_FAULT_FIELDS = ['api', 'apiErrorRate', 'latencyMs', 'hangs', 'exceptZone'];
const SERVICE_FIELDS: Record<AwsService, string[]> = {
  ec2: [...API_FAULT_FIELDS, 'connectivity', 'ebsBacked'],
  rds: [
    ...API_FAULT_FIELDS,
    'connectivity',
    'ioLatencyMs',
    'multiAzFailover',
    'replicaLagSeconds',
    'lagGrowthSecondsPerMinute',
    'replicationRunning',
    'lagMetricDelaySeconds',
    'lagMetricStopped',
  ],
  ebs: API_FAULT_FIELDS,
  route53: API_FAULT_FIELDS,
  cloudwatch: API_FAULT_FIELDS,
  dynamodb: API_FAULT_FIELDS,
};
const ENDPOINT_FIELDS = ['endpoints', 'latencyMs', 'latencyJitterMs', 'errorRate', 'exceptZone'];
const ZONE_STATE_FIELDS = ['zoneState', 'message', 'exceptZone'];
const SCOPE_FIELDS = new Set(['zone', 'region', 'service']);

export interface BuiltinScenarioInfo {
  name: string;
  description: string;
  path: string;
}

/** The scenarios shipped in src/scenarios/builtin, by name. */
export function listBuiltinScenarios(): BuiltinScenarioInfo[] {
  return readdirSync(BUILTIN_DIR)
    .filter((f) => extname(f) === '.yaml')
    .sort()
    .map((f) => {
      const path = `${BUILTIN_DIR}${f}`;
      const scenario = parseScenario(readFileSync(path, 'utf8'), f);
      return { name: scenario.name, description: scenario.description ?? '', path };
    });
}

/** A built-in scenario by name (`zone-outage`, `us-east-1-2011`, ...) or a scenario file by path. */
export function loadScenario(nameOrPath: string): Scenario {
  const builtin = `${BUILTIN_DIR}${nameOrPath}.yaml`;
  const isPath = nameOrPath.includes('/') || extname(nameOrPath) !== '';
  const path = !isPath && existsSync(builtin) ? builtin : nameOrPath;
  if (!existsSync(path)) {
    const names = readdirSync(BUILTIN_DIR)
      .filter((f) => extname(f) === '.yaml')
      .map((f) => basename(f, '.yaml'))
      .sort();
    throw new ScenarioError(nameOrPath, [
      {
        path: '',
        message: isPath ? `no file at ${nameOrPath}` : `no built-in scenario named ${nameOrPath}`,
        fix: `Use a built-in scenario (${names.join(', ')}) or the path of a scenario .yaml file.`,
      },
    ]);
  }
  const source = path === builtin ? `${nameOrPath} (built-in)` : path;
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) throw new ScenarioError(source, [notAFile(`${path} is not a file`)]);
    size = stat.size;
  } catch (err) {
    if (err instanceof ScenarioError) throw err;
    throw new ScenarioError(source, [notAFile(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? err})`)]);
  }
  if (size > SCENARIO_LIMITS.fileBytes) throw new ScenarioError(source, [tooLarge(size)]);
  return parseScenario(readFileSync(path, 'utf8'), source);
}

function notAFile(message: string): ScenarioIssue {
  return { path: '', message, fix: 'Give the path of a scenario .yaml file, or the name of a built-in scenario.' };
}

function tooLarge(bytes: number): ScenarioIssue {
  return {
    path: '',
    message: `the file has ${bytes} bytes, more than the ${SCENARIO_LIMITS.fileBytes} a scenario may have`,
    fix: `Keep a scenario under ${SCENARIO_LIMITS.fileBytes / 1024} KiB: at most ${SCENARIO_LIMITS.events} events over at most ${SCENARIO_LIMITS.durationMinutes} minutes.`,
  };
}

/** Parses and checks scenario YAML; throws ScenarioError listing every problem found. */
export function parseScenario(text: string, source: string): Scenario {
  if (text.length > SCENARIO_LIMITS.fileBytes) throw new ScenarioError(source, [tooLarge(Buffer.byteLength(text))]);
  // Read as kubectl reads YAML (yes/on are booleans, aliases bounded), like the manifests a drill may embed.
  const doc = parseDocument(text, { ...KUBECTL_YAML_OPTIONS, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      source,
      doc.errors.slice(0, MAX_ISSUES).map((e) => ({
        path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '',
        message: e.message.split('\n')[0] ?? e.message,
        fix: 'Fix the YAML syntax (indentation, a missing colon or an unclosed bracket or quote).',
      })),
    );
  }
  const read = documentToJS(doc);
  if (!read.ok) throw new ScenarioError(source, [{ path: '', message: read.message, fix: read.fix }]);
  const data = read.value;
  const structural = structuralIssues(data);
  if (structural.length > 0) throw new ScenarioError(source, structural);
  const spec = data as ScenarioSpec;
  const semantic = semanticIssues(spec);
  if (semantic.length > 0) throw new ScenarioError(source, semantic.slice(0, MAX_ISSUES));
  const given = spec.events.map((e) => ({ ...e, at: atMinutes(e.at) }));
  const last = given.reduce((latest, e) => Math.max(latest, e.at), 0);
  // A partition with forMinutes heals by itself: one more event (it does not move the default duration).
  const heals = given.flatMap((e) =>
    e.partition?.forMinutes === undefined
      ? []
      : [
          {
            at: e.at + e.partition.forMinutes,
            note: `partition of ${e.partition.vantage} ends after ${e.partition.forMinutes} minutes`,
            heal: { vantage: e.partition.vantage, regions: [...e.partition.regions] },
          },
        ],
  );
  const events = [...given, ...heals].sort((a, b) => a.at - b.at);
  return { ...spec, events, source, durationMinutes: spec.durationMinutes ?? last + 30 };
}

function structuralIssues(data: unknown): ScenarioIssue[] {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return [{ path: '', message: 'the file is not a YAML mapping', fix: fixOf(ScenarioSchema) ?? '' }];
  }
  const issues: ScenarioIssue[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(ScenarioSchema, data)) {
    const segments = pointerToSegments(error.path, data);
    const path = formatPath(segments);
    if (seen.has(path)) continue;
    seen.add(path);
    if (error.type === ValueErrorType.ObjectAdditionalProperties) {
      const allowed = Object.keys((error.schema as { properties?: Record<string, TSchema> }).properties ?? {});
      issues.push({
        path,
        message: `unknown field "${String(segments.at(-1))}"`,
        fix: `Remove it or correct its spelling; fields allowed here: ${allowed.join(', ')}.`,
      });
    } else if (error.type === ValueErrorType.ObjectRequiredProperty) {
      issues.push({ path, message: 'is required', fix: fixOf(error.schema) ?? 'Add the field.' });
    } else {
      const got = error.value === undefined ? '' : ` (got ${JSON.stringify(error.value)})`;
      issues.push({
        path,
        message: `${error.message.replace(/^Expected/, 'expected')}${got}`,
        fix: fixOf(error.schema) ?? 'See the scenario format in src/scenarios/scenario-schema.ts.',
      });
    }
    if (issues.length >= MAX_ISSUES) break;
  }
  return issues;
}

function semanticIssues(spec: ScenarioSpec): ScenarioIssue[] {
  const issues: ScenarioIssue[] = [];
  const declaredZones = new Set([...(spec.zones ?? []), ...(spec.topology?.regions.flatMap((r) => r.zones) ?? [])]);
  const declaredRegions = new Set(spec.topology?.regions.map((r) => r.name) ?? []);
  const at = (...segments: PathSegment[]) => formatPath(segments);

  spec.events.forEach((event, e) => {
    if (!event.effects && !event.partition && !event.heal && !event.vantageDown) {
      issues.push({
        path: at('events', e),
        message: 'does nothing: it has no effects, partition, heal or vantageDown',
        fix: 'Add effects: [...] (or partition, heal or vantageDown for a vantage point), or remove the event.',
      });
    }
    const partition = event.partition;
    if (
      partition?.forMinutes !== undefined &&
      atMinutes(event.at) + partition.forMinutes > SCENARIO_LIMITS.durationMinutes
    ) {
      issues.push({
        path: at('events', e, 'partition', 'forMinutes'),
        message: `heals ${atMinutes(event.at) + partition.forMinutes} minutes after the start, past the longest simulation (${SCENARIO_LIMITS.durationMinutes} minutes)`,
        fix: `Use at most ${SCENARIO_LIMITS.durationMinutes - atMinutes(event.at)} minutes, or a heal event.`,
      });
    }
    for (const [field, regions] of [
      ['partition', partition?.regions],
      ['heal', event.heal?.regions],
    ] as const) {
      regions?.forEach((region, r) => {
        if (declaredRegions.size > 0 && !declaredRegions.has(region)) {
          issues.push({
            path: at('events', e, field, 'regions', r),
            message: `region ${region} is not one of the scenario's regions`,
            fix: `Use one of ${[...declaredRegions].join(', ')}, or add it to the topology.`,
          });
        }
      });
    }
    (event.effects ?? []).forEach((effect, f) => {
      for (const issue of effectIssues(effect))
        issues.push({ ...issue, path: at('events', e, 'effects', f, ...issue.path) });
      for (const field of ['zone', 'exceptZone'] as const) {
        const zone = effect[field];
        if (zone && declaredZones.size > 0 && !declaredZones.has(zone)) {
          issues.push({
            path: at('events', e, 'effects', f, field),
            message: `zone ${zone} is not one of the scenario's zones`,
            fix: `Use one of ${[...declaredZones].join(', ')}, or add it to the scenario's zones/topology.`,
          });
        }
      }
      if (effect.region && declaredRegions.size > 0 && !declaredRegions.has(effect.region)) {
        issues.push({
          path: at('events', e, 'effects', f, 'region'),
          message: `region ${effect.region} is not one of the scenario's regions`,
          fix: `Use one of ${[...declaredRegions].join(', ')}, or add it to the topology.`,
        });
      }
    });
  });

  spec.events.forEach((event, e) => {
    if (atMinutes(event.at) > SCENARIO_LIMITS.durationMinutes) {
      issues.push({
        path: at('events', e, 'at'),
        message: `is ${atMinutes(event.at)} minutes after the start, past the longest simulation (${SCENARIO_LIMITS.durationMinutes} minutes, a week)`,
        fix: `Use a time at most ${SCENARIO_LIMITS.durationMinutes} minutes after the start.`,
      });
    }
  });
  const last = spec.events.reduce((latest, e) => Math.max(latest, atMinutes(e.at)), 0);
  if (spec.durationMinutes === undefined && last + 30 > SCENARIO_LIMITS.durationMinutes) {
    issues.push({
      path: 'durationMinutes',
      message: `defaults to 30 minutes after the last event (${last + 30}), past the longest simulation (${SCENARIO_LIMITS.durationMinutes} minutes)`,
      fix: `Set durationMinutes: ${SCENARIO_LIMITS.durationMinutes} or less, at or after the last event.`,
    });
  }
  if (spec.durationMinutes !== undefined && spec.durationMinutes < last) {
    issues.push({
      path: 'durationMinutes',
      message: `ends at ${spec.durationMinutes} minutes, before the last event at ${last}`,
      fix: `Use at least ${last}, or remove it (default: 30 minutes after the last event).`,
    });
  }

  const placed = new Set<string>();
  spec.vantages?.forEach((v, i) => {
    if (placed.has(v.name)) {
      issues.push({
        path: at('vantages', i, 'name'),
        message: `vantage ${v.name} is placed twice`,
        fix: 'Give each vantage once: one vantage runs in one region.',
      });
    }
    placed.add(v.name);
  });

  spec.expect?.forEach((entry, i) => {
    if (typeof entry === 'string') return;
    const required = EXPECT_CHECKS[entry.check as ExpectCheck] as readonly string[];
    const missing = required.filter((k) => (entry as Record<string, unknown>)[k] === undefined);
    if (missing.length > 0) {
      issues.push({
        path: at('expect', i),
        message: `check ${entry.check} needs ${missing.join(' and ')}`,
        fix: `Add ${missing.map((k) => `${k}: ...`).join(', ')} to this expectation.`,
      });
    }
    if (entry.check === 'detect' && entry.withinSeconds === undefined && entry.withinIntervals === undefined) {
      issues.push({
        path: at('expect', i),
        message: 'check detect needs a deadline',
        fix: 'Add withinSeconds: <seconds> or withinIntervals: <probe intervals>.',
      });
    }
  });
  return issues;
}

type RelativeIssue = Omit<ScenarioIssue, 'path'> & { path: PathSegment[] };

function effectIssues(effect: Effect): RelativeIssue[] {
  const issues: RelativeIssue[] = [];
  const fields = Object.keys(effect).filter((k) => (effect as Record<string, unknown>)[k] !== undefined);
  if (effect.zone === undefined && effect.region === undefined) {
    issues.push({
      path: [],
      message: 'names neither a zone nor a region',
      fix: 'Add zone: <zone> or region: <region>.',
    });
  }
  if (effect.zone !== undefined && effect.region !== undefined) {
    issues.push({
      path: ['region'],
      message: 'an effect names a zone or a region, not both',
      fix: 'Keep zone for one zone, or region (with exceptZone if needed) for the whole region.',
    });
  }
  if (effect.exceptZone !== undefined) {
    if (effect.region === undefined) {
      issues.push({
        path: ['exceptZone'],
        message: 'exceptZone needs a region',
        fix: 'Use region: <region> with exceptZone.',
      });
    } else if (!effect.exceptZone.startsWith(effect.region)) {
      issues.push({
        path: ['exceptZone'],
        message: `zone ${effect.exceptZone} is not in region ${effect.region}`,
        fix: `Use a zone of ${effect.region}, e.g. ${effect.region}a.`,
      });
    }
  }

  const kinds = [effect.endpoints !== undefined, effect.zoneState !== undefined, effect.service !== undefined];
  if (kinds.filter(Boolean).length !== 1) {
    issues.push({
      path: [],
      message:
        kinds.filter(Boolean).length === 0
          ? 'says what it hits but not what happens'
          : 'mixes kinds of effect (endpoints, zoneState, service)',
      fix: 'Give exactly one of endpoints: <ok|slow|down|erroring>, zoneState: <state>, or service: <service> with its fields; split it into several effects if needed.',
    });
    return issues;
  }

  const allowed = effect.endpoints
    ? ENDPOINT_FIELDS
    : effect.zoneState
      ? ZONE_STATE_FIELDS
      : SERVICE_FIELDS[effect.service as AwsService];
  const kindName = effect.endpoints
    ? 'an endpoints effect'
    : effect.zoneState
      ? 'a zoneState effect'
      : `service ${effect.service}`;
  for (const field of fields) {
    if (SCOPE_FIELDS.has(field) || allowed.includes(field)) continue;
    issues.push({
      path: [field],
      message: `${field} does not apply to ${kindName}`,
      fix: `Remove it, or move it to its own effect; ${kindName} takes: ${allowed.join(', ')}.`,
    });
  }

  if (effect.endpoints === 'slow' && effect.latencyMs === undefined) {
    issues.push({
      path: ['latencyMs'],
      message: 'endpoints: slow needs latencyMs',
      fix: 'Add latencyMs: <ms>, e.g. 3000.',
    });
  }
  if (effect.endpoints === 'erroring' && effect.errorRate === undefined) {
    issues.push({
      path: ['errorRate'],
      message: 'endpoints: erroring needs errorRate',
      fix: 'Add errorRate: <0..1>, e.g. 0.5.',
    });
  }

  if (effect.service) {
    const service = effect.service as AwsService;
    const known = operationsOf(service);
    const apis = effect.api === undefined ? [] : Array.isArray(effect.api) ? effect.api : [effect.api];
    apis.forEach((api, i) => {
      if (!known.includes(api)) {
        issues.push({
          path: Array.isArray(effect.api) ? ['api', i] : ['api'],
          message: `${api} is not a simulated ${service} operation`,
          fix: `Use one of: ${known.join(', ')}.`,
        });
      }
    });
    const says = fields.filter((f) => !SCOPE_FIELDS.has(f) && f !== 'api' && f !== 'exceptZone');
    if (says.length === 0) {
      issues.push({
        path: [],
        message: `says which ${service} calls but not what happens to them`,
        fix: `Add one of: ${allowed.filter((f) => f !== 'api' && f !== 'exceptZone').join(', ')}.`,
      });
    }
  }
  return issues;
}
