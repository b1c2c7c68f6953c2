// The scenario file format: a named timeline of effects on the simulated cloud, plus what a good controller does
// with it (`expect`). Times are minutes after the start (decimals allowed). The schema is the single source of the
// format; each field carries a `fix` hint the loader shows with an error on that field.
//
// An effect is one of four kinds, told apart by its keys:
//   endpoints:  {zone|region, endpoints: ok|down|slow|erroring, latencyMs?, latencyJitterMs?, errorRate?}   what probes
//               of the zone see
//   zoneState:  {zone|region, zoneState: available|information|impaired|unavailable, message?}   DescribeAvailabilityZones
//   service:    {zone|region, service, api?, apiErrorRate?, latencyMs?, hangs?, exceptZone?, ...}   control-plane faults,
//               plus service data-plane fields: connectivity (ec2, rds), ioLatencyMs (rds), ebsBacked (ec2),
//               multiAzFailover (rds), replicaLagSeconds / lagGrowthSecondsPerMinute (rds replicas in scope), and
//               what CloudWatch ReplicaLag shows of them: replicationRunning: false (−1), lagMetricDelaySeconds,
//               lagMetricStopped.
// Vantage points (#14, policies with spec.vantagePoints; several operators, each with its own view): an event may
// also carry
//   partition:   {vantage, regions, scope?: endpoints|aws|all, forMinutes?}   the vantage cannot reach those regions:
//                endpoints: its probes of them time out (http, database connect); aws: its AWS API calls there fail
//                (CloudWatch, RDS, EC2, the promotion lock; Route 53 is global); all (default): both
//   heal:        {vantage, regions?}   ends the vantage's partitions (of those regions; absent: all)
//   vantageDown: {vantage}   the vantage's operator dies: its engine stops, its verdicts go stale
// and the scenario may say where each vantage runs (`vantages: [{name, region}]`; otherwise derived from the name,
// use1 → us-east-1). Vantage names must be members of the simulated policy's spec.vantagePoints.
// A zone-wide `ebs` effect without `api` is an EBS stall in that zone: besides API errors and latency on EBS-touching
// EC2 calls there, instance status checks fail and the zone's endpoints slow down and fail (as in April 2011).

import { type Static, type TLiteral, type TSchema, type TUnion, Type } from '@sinclair/typebox';

type FieldOptions = { description?: string; fix?: string };

/**
 * Bounds on a scenario, so that a hostile or mistaken file fails fast with a clear error instead of running for
 * hours or filling the heap: the simulator steps every simulated second, and its cost grows with the duration and
 * the number of events. The largest built-in (us-east-1-2011) has 15 events over 1830 minutes; a week-long
 * simulation is the longest we support.
 */
export const SCENARIO_LIMITS = {
  /** Size of a scenario file. The largest built-in is under 6 KiB. */
  fileBytes: 1024 * 1024,
  /** A week of simulated time. */
  durationMinutes: 7 * 24 * 60,
  events: 1000,
  effectsPerEvent: 100,
  expectations: 100,
  /** Vantages a scenario places (spec.vantagePoints allows 2..7 members). */
  vantages: 7,
  /** Any string field (a note, a description, a zone name). */
  stringLength: 4096,
} as const;

function StringEnum<const T extends readonly [string, ...string[]]>(
  values: T,
  options: FieldOptions,
): TUnion<TLiteral<T[number]>[]> {
  return Type.Union(
    values.map((v) => Type.Literal(v)),
    { ...options, fix: options.fix ?? `Use one of: ${values.join(', ')}.` },
  ) as unknown as TUnion<TLiteral<T[number]>[]>;
}

const Share = (description: string) =>
  Type.Number({ minimum: 0, maximum: 1, description, fix: 'Use a share between 0 and 1, e.g. 0.4 for 40%.' });
const Millis = (description: string) =>
  Type.Number({ minimum: 0, maximum: 3_600_000, description, fix: 'Use milliseconds, a number >= 0, e.g. 2500.' });
const Zone = (description: string) =>
  Type.String({
    pattern: '^[a-z]{2}(-[a-z]+)+-\\d+[a-z]$',
    description,
    fix: 'Use an availability zone name such as us-east-1a.',
  });
const Region = (description: string) =>
  Type.String({ pattern: '^[a-z]{2}(-[a-z]+)+-\\d+$', description, fix: 'Use a region name such as us-east-1.' });

export const SCENARIO_SERVICES = ['route53', 'rds', 'ec2', 'ebs', 'cloudwatch'] as const;

export const EffectSchema = Type.Object(
  {
    zone: Type.Optional(Zone('The zone the effect hits.')),
    region: Type.Optional(Region('The region the effect hits (every zone of it, or region-wide calls).')),
    exceptZone: Type.Optional(Zone('A zone of the region the effect leaves alone.')),
    service: Type.Optional(StringEnum(SCENARIO_SERVICES, { description: 'The AWS service whose behaviour changes.' })),
    api: Type.Optional(
      Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1 })], {
        description: 'AWS operation name(s) the fault applies to; absent: every operation of the service.',
        fix: 'Use an operation name such as CreateVolume, or a list of them.',
      }),
    ),
    apiErrorRate: Type.Optional(Share('Share of matching API calls that fail.')),
    latencyMs: Type.Optional(Millis('Added latency of matching API calls (or endpoint answers, for endpoints).')),
    hangs: Type.Optional(
      Type.Boolean({
        description: 'Matching calls never answer until the caller gives up.',
        fix: 'Use true or false.',
      }),
    ),
    connectivity: Type.Optional(
      StringEnum(['ok', 'degraded', 'down'], { description: 'Network reachability of instances/databases in scope.' }),
    ),
    ioLatencyMs: Type.Optional(Millis('Added database IO latency (rds).')),
    ebsBacked: Type.Optional(
      StringEnum(['ok', 'delayed', 'failing'], { description: 'What happens to EBS-backed launches (ec2).' }),
    ),
    multiAzFailover: Type.Optional(
      StringEnum(['ok', 'slow'], { description: 'How long Multi-AZ failovers take in the region (rds).' }),
    ),
    replicaLagSeconds: Type.Optional(
      Type.Number({
        minimum: 0,
        description: 'ReplicaLag of the read replicas in scope (rds).',
        fix: 'Use seconds, a number >= 0.',
      }),
    ),
    lagGrowthSecondsPerMinute: Type.Optional(
      Type.Number({
        description: 'How fast that lag grows (negative: shrinks) per minute.',
        fix: 'Use a number of seconds per minute, e.g. 30 or -10.',
      }),
    ),
    replicationRunning: Type.Optional(
      Type.Boolean({
        description: 'false: replication of the replicas in scope stops, and RDS reports ReplicaLag −1 (rds).',
        fix: 'Use true or false.',
      }),
    ),
    lagMetricDelaySeconds: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: 86400,
        description: 'The newest ReplicaLag datapoint of the replicas in scope is this old: CloudWatch lags (rds).',
        fix: 'Use seconds, a number >= 0 (0: no delay).',
      }),
    ),
    lagMetricStopped: Type.Optional(
      Type.Boolean({
        description:
          'true: no new ReplicaLag datapoints for the replicas in scope; the last one ages (false: published again) (rds).',
        fix: 'Use true or false.',
      }),
    ),
    endpoints: Type.Optional(
      StringEnum(['ok', 'slow', 'down', 'erroring'], { description: "What probes of the zone's endpoint see." }),
    ),
    errorRate: Type.Optional(Share('Share of endpoint requests answered 503 (endpoints: erroring).')),
    latencyJitterMs: Type.Optional(
      Millis(
        'A further 0..latencyJitterMs ms on each endpoint answer, uniform (endpoints: slow or erroring), e.g. latency that straddles a probe timeout.',
      ),
    ),
    zoneState: Type.Optional(
      StringEnum(['available', 'information', 'impaired', 'unavailable'], {
        description: 'Zone state reported by DescribeAvailabilityZones.',
      }),
    ),
    message: Type.Optional(
      Type.String({
        maxLength: SCENARIO_LIMITS.stringLength,
        description: 'Zone message shown with zoneState.',
        fix: `Use a string of at most ${SCENARIO_LIMITS.stringLength} characters.`,
      }),
    ),
  },
  { additionalProperties: false, fix: 'Write the effect as a mapping, e.g. {zone: us-east-1a, endpoints: down}.' },
);

const VantageName = (description: string) =>
  Type.String({
    pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
    maxLength: 63,
    description,
    fix: "Use a vantage name from the policy's spec.vantagePoints.members, e.g. use1.",
  });
const VantageRegions = (description: string) =>
  Type.Array(Region('A region of the policy.'), {
    minItems: 1,
    maxItems: 30,
    description,
    fix: 'Give a list of 1 to 30 regions, e.g. [us-east-1].',
  });

export const PARTITION_SCOPES = ['endpoints', 'aws', 'all'] as const;
export type PartitionScope = (typeof PARTITION_SCOPES)[number];

export const PartitionSchema = Type.Object(
  {
    vantage: VantageName('The vantage that is cut off.'),
    regions: VantageRegions('The regions it cannot reach.'),
    scope: Type.Optional(
      StringEnum(PARTITION_SCOPES, {
        description:
          'endpoints: its probes time out; aws: its AWS API calls in those regions fail (CloudWatch included); all (default): both.',
      }),
    ),
    forMinutes: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: SCENARIO_LIMITS.durationMinutes,
        description: 'Heals by itself after this many minutes; absent: until a heal event.',
        fix: `Use minutes, a number > 0 and at most ${SCENARIO_LIMITS.durationMinutes}.`,
      }),
    ),
  },
  {
    additionalProperties: false,
    fix: 'Write a partition as {vantage: use1, regions: [us-east-1], scope: endpoints}.',
  },
);

export const HealSchema = Type.Object(
  {
    vantage: VantageName('The vantage whose partitions end.'),
    regions: Type.Optional(VantageRegions('The regions it reaches again; absent: every region.')),
  },
  { additionalProperties: false, fix: 'Write a heal as {vantage: use1} or {vantage: use1, regions: [us-east-1]}.' },
);

export const VantageDownSchema = Type.Object(
  { vantage: VantageName('The vantage whose operator dies (its engine stops; its verdicts go stale).') },
  { additionalProperties: false, fix: 'Write it as {vantage: use1}.' },
);

export const EventSchema = Type.Object(
  {
    at: Type.Union(
      [
        Type.Number({ minimum: 0, maximum: SCENARIO_LIMITS.durationMinutes }),
        Type.String({ pattern: '^(?=\\d)(\\d+h)?(\\d+m)?(\\d+s)?$', maxLength: 32 }),
      ],
      {
        description: 'When, after the scenario starts: minutes (a number) or a duration such as 2m25s or 90s.',
        fix: `Use minutes after the start (a number from 0 to ${SCENARIO_LIMITS.durationMinutes}, decimals allowed) or a duration such as 2m25s, 90s or 1h5m.`,
      },
    ),
    note: Type.Optional(
      Type.String({
        maxLength: SCENARIO_LIMITS.stringLength,
        description: 'What happened, for the timeline.',
        fix: `Use a string of at most ${SCENARIO_LIMITS.stringLength} characters.`,
      }),
    ),
    effects: Type.Optional(
      Type.Array(EffectSchema, {
        minItems: 1,
        maxItems: SCENARIO_LIMITS.effectsPerEvent,
        description: 'What changes at that time.',
        fix: 'Give a list of at least one effect.',
      }),
    ),
    partition: Type.Optional(PartitionSchema),
    heal: Type.Optional(HealSchema),
    vantageDown: Type.Optional(VantageDownSchema),
  },
  {
    additionalProperties: false,
    fix: 'Write each event as {at: <minutes>, effects: [...]} (or with partition, heal or vantageDown).',
  },
);

/** Machine-checkable expectations a drill report is judged against. */
export const EXPECT_CHECKS = {
  /** zone(s) leave Healthy within withinSeconds / withinIntervals (probe intervals) of the first effect on them. */
  detect: ['zones'],
  /** zone(s) get Route 53 weight 0 while impaired (PB-5). */
  drain: ['zones'],
  /** zone(s) keep weight > 0 throughout (no needless drain). */
  'keep-serving': ['zones'],
  /** region is declared Impaired (PB-2). */
  'region-impaired': ['region'],
  /** the replica in region is promoted, at most once (PB-6, PB-7). */
  promote: ['region'],
  /** no promotion happens. */
  'no-promotion': [],
  /** while the replica in region is over the RPO budget, promotion is skipped citing PB-6 and waits. */
  'promotion-waits-for-lag': ['region'],
  /** no zone-targeted write lands in the zone(s) while they are impaired (PB-3). */
  'no-zone-targeted-writes': ['zones'],
  /** traffic returns to zone, not before notBeforeMinutes (PB-9, PB-10). */
  'failback-traffic': ['zone', 'notBeforeMinutes'],
  /** the writable database stays in region at the end (database failback is manual, PB-10). */
  'database-stays': ['region'],
  /** at most `count` weight changes touch zone (no flapping, PB-9). */
  'max-weight-changes': ['zone', 'count'],
  /** every AWS call ends within maxSeconds (timeouts cut hangs short, PB-8). */
  'calls-bounded': ['maxSeconds'],
  /** the planner reports a gate of kind `gate` (e.g. ReplicaLag), its message containing `contains` if given. */
  gate: ['gate'],
  /** the planner never reports a gate of kind `gate` (e.g. no MultiplePrimaries for an unobservable replica). */
  'no-gate': ['gate'],
  /** at most `perMinute` attempts of the AWS operation `api` (default ChangeResourceRecordSets) in any clock minute (PB-8). */
  'max-call-rate': ['perMinute'],
  /** no AWS call was answered with throttling: the operator never ran into its own rate limits (PB-8). */
  'no-throttling': [],
  /** exactly `count` PromoteReadReplica calls reached the cloud, across every vantage (the sim's call log, PB-7). */
  'promote-calls': ['count'],
  /** the vantage reported a VantageDisagreement: it saw worse than its members agreed on, and did not act on it. */
  'vantage-disagreement': ['vantage'],
  /** the vantage performed no action from the first fault on (it was cut off or dead; the others acted). */
  'no-actions-from': ['vantage'],
} as const satisfies Record<string, readonly string[]>;

export type ExpectCheck = keyof typeof EXPECT_CHECKS;

export const ExpectSchema = Type.Union(
  [
    Type.String({ description: 'Prose only.' }),
    Type.Object(
      {
        check: StringEnum(Object.keys(EXPECT_CHECKS) as [ExpectCheck, ...ExpectCheck[]], {
          description: 'Which machine check.',
        }),
        text: Type.Optional(Type.String({ description: 'The expectation in prose.', fix: 'Use a string.' })),
        zone: Type.Optional(Zone('Zone the check is about.')),
        zones: Type.Optional(
          Type.Array(Zone('Zone the check is about.'), { minItems: 1, fix: 'Give a list of zones.' }),
        ),
        region: Type.Optional(Region('Region the check is about.')),
        withinSeconds: Type.Optional(Type.Number({ minimum: 0, fix: 'Use seconds, a number >= 0.' })),
        withinIntervals: Type.Optional(
          Type.Integer({ minimum: 1, fix: 'Use a whole number of probe intervals >= 1.' }),
        ),
        notBeforeMinutes: Type.Optional(Type.Number({ minimum: 0, fix: 'Use minutes, a number >= 0.' })),
        count: Type.Optional(Type.Integer({ minimum: 0, fix: 'Use a whole number >= 0.' })),
        maxSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, fix: 'Use seconds, a number > 0.' })),
        gate: Type.Optional(
          Type.String({
            pattern: '^[A-Z][A-Za-z]+$',
            description: 'A plan gate kind, e.g. ReplicaLag or MultiplePrimaries.',
            fix: 'Use a gate kind such as ReplicaLag, MultiplePrimaries or InsufficientEvidence.',
          }),
        ),
        contains: Type.Optional(
          Type.String({ description: 'Text the gate message must contain (gate).', fix: 'Use a string.' }),
        ),
        perMinute: Type.Optional(
          Type.Integer({
            minimum: 0,
            description: 'Most attempts in one minute (max-call-rate).',
            fix: 'Use a whole number >= 0.',
          }),
        ),
        api: Type.Optional(
          Type.String({
            pattern: '^[A-Z][A-Za-z0-9]+$',
            description: 'AWS operation the check counts (max-call-rate), e.g. ChangeResourceRecordSets.',
            fix: 'Use an operation name such as ChangeResourceRecordSets.',
          }),
        ),
        vantage: Type.Optional(VantageName('Vantage the check is about (vantage-disagreement, no-actions-from).')),
      },
      { additionalProperties: false },
    ),
  ],
  { fix: 'Write an expectation as prose, or as {check: <name>, ..., text: <prose>}.' },
);

export const ScenarioSchema = Type.Object(
  {
    name: Type.String({
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
      description: 'Scenario name.',
      fix: "Use lower-case letters, digits and '-', e.g. zone-outage.",
    }),
    description: Type.Optional(
      Type.String({
        maxLength: SCENARIO_LIMITS.stringLength,
        fix: `Use a string of at most ${SCENARIO_LIMITS.stringLength} characters.`,
      }),
    ),
    region: Type.Optional(Region('The region the timeline is about (informative).')),
    zones: Type.Optional(
      Type.Array(Zone('A zone the timeline is about.'), { maxItems: 100, fix: 'Give a list of at most 100 zones.' }),
    ),
    topology: Type.Optional(
      Type.Object(
        {
          regions: Type.Array(
            Type.Object(
              {
                name: Region('Region name.'),
                role: Type.Optional(StringEnum(['primary', 'standby'], { description: 'Role in the policy.' })),
                zones: Type.Array(Zone('Zone of the region.'), { minItems: 1, fix: 'Give a list of zones.' }),
              },
              { additionalProperties: false },
            ),
            { minItems: 1, fix: 'Give a list of regions.' },
          ),
        },
        { additionalProperties: false, description: 'The regions and zones the scenario is written for.' },
      ),
    ),
    vantages: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: VantageName('A vantage of the policy (spec.vantagePoints.members).'),
            region: Region('The region its cluster runs in.'),
          },
          { additionalProperties: false, fix: 'Write each as {name: use1, region: us-east-1}.' },
        ),
        {
          minItems: 1,
          maxItems: SCENARIO_LIMITS.vantages,
          description: 'Where each vantage runs; absent or unlisted: derived from its name (use1 → us-east-1).',
          fix: `Give a list of 1 to ${SCENARIO_LIMITS.vantages} vantages, e.g. [{name: use1, region: us-east-1}].`,
        },
      ),
    ),
    durationMinutes: Type.Optional(
      Type.Number({
        exclusiveMinimum: 0,
        maximum: SCENARIO_LIMITS.durationMinutes,
        fix: `Use minutes, a number > 0 and at most ${SCENARIO_LIMITS.durationMinutes} (a week), at or after the last event.`,
      }),
    ),
    events: Type.Array(EventSchema, {
      minItems: 1,
      maxItems: SCENARIO_LIMITS.events,
      fix: `Give a list of 1 to ${SCENARIO_LIMITS.events} events.`,
    }),
    expect: Type.Optional(
      Type.Array(ExpectSchema, {
        maxItems: SCENARIO_LIMITS.expectations,
        fix: `Give a list of at most ${SCENARIO_LIMITS.expectations} expectations.`,
      }),
    ),
  },
  { additionalProperties: false, fix: 'A scenario is a mapping with name, events and (optionally) expect.' },
);

export type Effect = Static<typeof EffectSchema>;
export type Partition = Static<typeof PartitionSchema>;
export type ScenarioEvent = Static<typeof EventSchema>;
export type Expectation = Static<typeof ExpectSchema>;
export type ScenarioSpec = Static<typeof ScenarioSchema>;

/** A loaded event: `at` normalised to minutes. */
export type LoadedEvent = Omit<ScenarioEvent, 'at'> & { at: number };

/** A loaded scenario: the file's content, events sorted by time (in minutes), and where it came from. */
export interface Scenario extends Omit<ScenarioSpec, 'events'> {
  events: LoadedEvent[];
  source: string;
  /** durationMinutes, or 30 minutes after the last event. */
  durationMinutes: number;
}

/** Minutes of an event's `at`: a number of minutes, or a duration such as 2m25s. */
export function atMinutes(at: number | string): number {
  if (typeof at === 'number') return at;
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(at);
  const [h, m, s] = [match?.[1], match?.[2], match?.[3]].map((v) => Number(v ?? 0));
  return h! * 60 + m! + s! / 60;
}

export function fixOf(schema: TSchema): string | undefined {
  const fix = (schema as { fix?: unknown }).fix;
  return typeof fix === 'string' ? fix : undefined;
}
