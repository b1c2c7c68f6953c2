/**
 * Invalid FailoverPolicy and FailoverDrill manifests, each with the error the apiserver and the offline validator
 * must report. The unit tests run the table through validatePolicy/validateDrill; the integration tests send it to
 * the real apiserver. Each case starts from one of the examples and breaks one thing.
 *
 * `path` is where both report the error. `message` is a substring of both messages when they share it (CEL rules:
 * the very same text); schema errors are worded differently by the two, hence `server` and `offline`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const EXAMPLES_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../examples');

export type ExampleName = 'single-region-web' | 'two-region-rds' | 'drill-zone-outage' | 'drill-us-east-1-2011';

// biome-ignore lint/suspicious/noExplicitAny: test manifests are edited freely before validation.
export type Manifest = Record<string, any>;

export function loadExample(name: ExampleName): Manifest {
  return parse(readFileSync(path.join(EXAMPLES_DIR, `${name}.yaml`), 'utf8')) as Manifest;
}

export interface InvalidCase {
  name: string;
  base: ExampleName;
  mutate: (manifest: Manifest) => void;
  /** Field path both report, apiserver notation. */
  path: string;
  /**
   * The apiserver's path when it is less precise than ours: it names a label or annotation map (metadata.labels),
   * the offline validator the key too (metadata.labels["app/x"]).
   */
  serverPath?: string;
  /** Substring of both messages. */
  message?: string;
  /** Substring of the apiserver's message (when it words it differently). */
  server?: string;
  /** Substring of the offline validator's message (when it words it differently). */
  offline?: string;
}

export const INVALID_POLICIES: InvalidCase[] = [
  // CEL: regions
  {
    name: 'two primary regions',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.regions[1].role = 'primary';
    },
    path: 'spec.regions',
    message: 'regions must contain exactly one region with role primary, but us-east-1 and us-west-2 both have it',
  },
  {
    name: 'no primary region',
    base: 'single-region-web',
    mutate: (p) => {
      p.spec.regions[0].role = 'standby';
    },
    path: 'spec.regions',
    message: 'regions must contain exactly one region with role primary, but none has it',
  },
  {
    name: 'a region listed twice',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.regions.push({ name: 'us-west-2', role: 'standby', zones: ['us-west-2c'] });
    },
    path: 'spec.regions',
    message: 'region us-west-2 is listed more than once',
  },
  {
    name: 'zone outside its region',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.regions[1].zones[1] = 'us-east-1d';
    },
    path: 'spec.regions[1].zones',
    message: 'zone us-east-1d does not belong to region us-west-2',
  },
  {
    name: 'zone listed twice',
    base: 'single-region-web',
    mutate: (p) => {
      p.spec.regions[0].zones.push('us-east-1a');
    },
    path: 'spec.regions[0].zones',
    message: 'zone us-east-1a is listed more than once in region us-east-1',
  },
  // CEL: database
  {
    name: 'replica in the primary region',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.database.rds.replicas[0].region = 'us-east-1';
    },
    path: 'spec.database.rds.replicas',
    message: 'replica orders-usw2 is in us-east-1, the region of the primary',
  },
  {
    name: 'replica region not in spec.regions',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.database.rds.replicas[0].region = 'eu-west-1';
    },
    path: 'spec.database.rds.replicas',
    message: 'replica orders-usw2 is in region eu-west-1, which is not listed in spec.regions',
  },
  {
    name: 'RDS primary outside the primary region',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.database.rds.primary.region = 'eu-west-1';
    },
    path: 'spec.database.rds.primary.region',
    message: 'database.rds.primary.region eu-west-1 must be the primary region us-east-1',
  },
  // CEL: compute
  {
    name: 'volume restore without a tag selector',
    base: 'two-region-rds',
    mutate: (p) => {
      delete p.spec.compute.ec2.tagSelector;
      delete p.spec.compute.ec2.replaceInHealthyZones;
    },
    path: 'spec.compute.ec2.tagSelector',
    message: 'restoreVolumesFromSnapshots needs a non-empty tagSelector',
  },
  {
    name: 'volume restore with an empty tag selector',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.compute.ec2.tagSelector = {};
    },
    path: 'spec.compute.ec2.tagSelector',
    message: 'restoreVolumesFromSnapshots needs a non-empty tagSelector',
  },
  {
    name: 'capacity replacement without a tag selector',
    base: 'two-region-rds',
    mutate: (p) => {
      delete p.spec.compute.ec2.tagSelector;
      p.spec.compute.ec2.restoreVolumesFromSnapshots = false;
    },
    path: 'spec.compute.ec2.tagSelector',
    message: 'replaceInHealthyZones needs a non-empty tagSelector',
  },
  // CEL + schema: traffic
  {
    name: 'weight above 255',
    base: 'single-region-web',
    mutate: (p) => {
      p.spec.traffic.route53.records[0].weight = 256;
    },
    path: 'spec.traffic.route53.records[0].weight',
    server: 'should be less than or equal to 255',
    offline: 'must be at most 255',
  },
  {
    name: 'negative weight',
    base: 'single-region-web',
    mutate: (p) => {
      p.spec.traffic.route53.records[2].weight = -1;
    },
    path: 'spec.traffic.route53.records[2].weight',
    server: 'should be greater than or equal to 0',
    offline: 'must be at least 0',
  },
  {
    name: 'every weight zero',
    base: 'single-region-web',
    mutate: (p) => {
      for (const record of p.spec.traffic.route53.records) record.weight = 0;
    },
    path: 'spec.traffic.route53.records',
    message: 'at least one record needs a non-zero weight',
  },
  {
    name: 'duplicate setIdentifier',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.traffic.route53.records[2].setIdentifier = 'use1-a';
    },
    path: 'spec.traffic.route53.records',
    message: 'setIdentifier use1-a is used by more than one record',
  },
  {
    name: 'record with both zone and region',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.traffic.route53.records[0].region = 'us-east-1';
    },
    path: 'spec.traffic.route53.records[0]',
    message: 'record use1-a must set exactly one of zone or region, not both',
  },
  {
    name: 'record for an unlisted zone',
    base: 'single-region-web',
    mutate: (p) => {
      p.spec.traffic.route53.records[2].zone = 'us-east-1d';
    },
    path: 'spec.traffic.route53.records',
    message: 'record use1-c targets a zone or region that is not listed in spec.regions',
  },
  {
    name: 'verdicts published in the region they protect',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.traffic.route53.dataPlane = { mechanism: 'HealthChecks', signalRegion: 'us-east-1' };
    },
    path: 'spec.traffic.route53.dataPlane.signalRegion',
    message:
      'traffic.route53.dataPlane.signalRegion us-east-1 is the primary region: verdicts published there fail with it',
  },
  {
    name: 'verdicts published in an unlisted region',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.traffic.route53.dataPlane = { signalRegion: 'eu-west-1' };
    },
    path: 'spec.traffic.route53.dataPlane.signalRegion',
    message: 'traffic.route53.dataPlane.signalRegion eu-west-1 is not listed in spec.regions',
  },
  {
    name: 'a verdict alarm period CloudWatch has no alarms for',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.traffic.route53.dataPlane = { periodSeconds: 90 };
    },
    path: 'spec.traffic.route53.dataPlane.periodSeconds',
    message: 'dataPlane.periodSeconds must be 60, 120 or 300',
  },
  // CEL + schema: health and durations
  {
    name: 'failureThreshold zero',
    base: 'single-region-web',
    mutate: (p) => {
      p.spec.health.failureThreshold = 0;
    },
    path: 'spec.health.failureThreshold',
    server: 'should be greater than or equal to 1',
    offline: 'must be at least 1',
  },
  {
    name: 'recoveryThreshold below failureThreshold',
    base: 'single-region-web',
    mutate: (p) => {
      p.spec.health.recoveryThreshold = 2;
    },
    path: 'spec.health.recoveryThreshold',
    message: 'recoveryThreshold must be at least failureThreshold',
  },
  {
    name: 'intervalSeconds zero',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.health.intervalSeconds = 0;
    },
    path: 'spec.health.intervalSeconds',
    server: 'should be greater than or equal to 1',
    offline: 'must be at least 1',
  },
  {
    name: 'negative cooldown',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.guardrails.cooldownSeconds = -300;
    },
    path: 'spec.guardrails.cooldownSeconds',
    server: 'should be greater than or equal to 1',
    offline: 'must be at least 1',
  },
  {
    name: 'zero RPO budget',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.database.rds.maxLagSeconds = 0;
    },
    path: 'spec.database.rds.maxLagSeconds',
    server: 'should be greater than or equal to 1',
    offline: 'must be at least 1',
  },
  {
    name: 'probe timeout longer than the interval',
    base: 'single-region-web',
    mutate: (p) => {
      p.spec.probes[0].http.timeoutSeconds = 10;
    },
    path: 'spec.probes',
    message: 'probe web has a timeout longer than health.intervalSeconds',
  },
  {
    name: 'region impairment threshold above the zone count',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.health.regionImpairedWhen.impairedZones = 4;
    },
    path: 'spec.health.regionImpairedWhen.impairedZones',
    message: 'impairedZones exceeds the number of zones listed for primary region us-east-1',
  },
  {
    name: 'probe URL with credentials in it',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.probes[0].http.url = 'https://probe:hunter2@api-{zone}.orders.example.com/healthz';
    },
    path: 'spec.probes[0].http.url',
    server: 'should match',
    offline: 'does not have the expected format',
  },
  // CEL: probes
  {
    name: 'probe with two kinds',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.probes[0].tcp = { host: 'api-{zone}.orders.example.com', port: 443 };
    },
    path: 'spec.probes[0]',
    message: 'probe api must set exactly one of http, tcp, ec2, rds or awsApiErrors',
  },
  {
    name: 'probe with no kind',
    base: 'single-region-web',
    mutate: (p) => {
      p.spec.probes.push({ name: 'empty' });
    },
    path: 'spec.probes[3]',
    message: 'probe empty must set exactly one of http, tcp, ec2, rds or awsApiErrors',
  },
  {
    name: 'duplicate probe names',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.probes[1].name = 'api';
    },
    path: 'spec.probes',
    message: 'probe name api is used more than once',
  },
  {
    name: 'rds probe without a database',
    base: 'single-region-web',
    mutate: (p) => {
      p.spec.probes.push({ name: 'db', rds: {} });
    },
    path: 'spec.probes',
    message: 'an rds probe watches the instances in spec.database.rds',
  },
  {
    name: 'nothing to fail over',
    base: 'single-region-web',
    mutate: (p) => {
      delete p.spec.traffic;
      delete p.spec.compute;
    },
    path: 'spec',
    message: 'spec must manage at least one of traffic, database or compute',
  },
  {
    name: 'manual failover without a target',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.manual = { id: 'req-1', action: 'Failover' };
    },
    path: 'spec.manual.targetRegion',
    message: 'a Failover or Failback request must name its targetRegion',
  },
  // Required fields
  {
    name: 'missing spec',
    base: 'single-region-web',
    mutate: (p) => {
      delete p.spec;
    },
    path: 'spec',
    server: 'Required value',
    offline: 'is required',
  },
  {
    name: 'missing regions',
    base: 'single-region-web',
    mutate: (p) => {
      delete p.spec.regions;
    },
    path: 'spec.regions',
    server: 'Required value',
    offline: 'is required',
  },
  {
    name: 'missing hostedZoneId',
    base: 'two-region-rds',
    mutate: (p) => {
      delete p.spec.traffic.route53.hostedZoneId;
    },
    path: 'spec.traffic.route53.hostedZoneId',
    server: 'Required value',
    offline: 'is required',
  },
  {
    name: 'missing record weight',
    base: 'single-region-web',
    mutate: (p) => {
      delete p.spec.traffic.route53.records[1].weight;
    },
    path: 'spec.traffic.route53.records[1].weight',
    server: 'Required value',
    offline: 'is required',
  },
  {
    name: 'missing replica identifier',
    base: 'two-region-rds',
    mutate: (p) => {
      delete p.spec.database.rds.replicas[0].dbInstanceIdentifier;
    },
    path: 'spec.database.rds.replicas[0].dbInstanceIdentifier',
    server: 'Required value',
    offline: 'is required',
  },
  // Wrong types, formats and enums
  {
    name: 'interval as a string with a unit',
    base: 'single-region-web',
    mutate: (p) => {
      p.spec.health.intervalSeconds = '5s';
    },
    path: 'spec.health.intervalSeconds',
    server: 'must be of type integer',
    offline: 'must be a whole number, got the string "5s"',
  },
  {
    name: 'regions as a string',
    base: 'single-region-web',
    mutate: (p) => {
      p.spec.regions = 'us-east-1';
    },
    path: 'spec.regions',
    server: 'must be of type array',
    offline: 'must be a list, got the string "us-east-1"',
  },
  {
    name: 'suspend as a string',
    base: 'single-region-web',
    mutate: (p) => {
      p.spec.suspend = 'yes';
    },
    path: 'spec.suspend',
    server: 'must be of type boolean',
    offline: 'must be true or false',
  },
  {
    name: 'promotion in the wrong case',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.database.rds.promotion = 'automatic';
    },
    path: 'spec.database.rds.promotion',
    server: 'Unsupported value: "automatic"',
    offline: 'must be one of Automatic, Manual',
  },
  {
    name: 'zone ID instead of zone name',
    base: 'single-region-web',
    mutate: (p) => {
      p.spec.regions[0].zones[0] = 'use1-az1';
    },
    path: 'spec.regions[0].zones[0]',
    server: 'should match',
    offline: 'does not have the expected format',
  },
  {
    name: 'error rate threshold of zero',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.probes[3].awsApiErrors.errorRateThreshold = 0;
    },
    path: 'spec.probes[3].awsApiErrors.errorRateThreshold',
    server: 'should be greater than 0',
    offline: 'must be greater than 0',
  },
  // Unknown fields (kubectl and our clients send fieldValidation=Strict)
  {
    name: 'misspelled spec field',
    base: 'single-region-web',
    mutate: (p) => {
      p.spec.helth = p.spec.health;
      delete p.spec.health;
    },
    path: 'spec.helth',
    server: 'unknown field "spec.helth"',
    offline: 'is not a known field',
  },
  {
    name: 'misspelled nested field',
    base: 'two-region-rds',
    mutate: (p) => {
      p.spec.traffic.route53.records[0].wieght = 5;
    },
    path: 'spec.traffic.route53.records[0].wieght',
    server: 'unknown field "spec.traffic.route53.records[0].wieght"',
    offline: 'is not a known field',
  },
  // metadata, as apimachinery's ValidateObjectMeta checks it
  {
    name: 'a name that is not a DNS-1123 subdomain',
    base: 'single-region-web',
    mutate: (p) => {
      p.metadata.name = 'Web_Tier';
    },
    path: 'metadata.name',
    server: 'a lowercase RFC 1123 subdomain must consist of',
    offline: 'must be a DNS-1123 subdomain',
  },
  {
    name: 'a name of 254 characters',
    base: 'single-region-web',
    mutate: (p) => {
      p.metadata.name = 'w'.repeat(254);
    },
    path: 'metadata.name',
    message: 'must be no more than 253 characters',
  },
  {
    name: 'a label key with a space',
    base: 'single-region-web',
    mutate: (p) => {
      p.metadata.labels = { 'team name': 'web' };
    },
    path: 'metadata.labels["team name"]',
    serverPath: 'metadata.labels',
    server: 'name part must consist of alphanumeric characters',
    offline: "name part must consist of letters, digits, '-', '_' or '.'",
  },
  {
    name: 'a label key with an empty prefix',
    base: 'single-region-web',
    mutate: (p) => {
      p.metadata.labels = { '/tier': 'web' };
    },
    path: 'metadata.labels["/tier"]',
    serverPath: 'metadata.labels',
    message: 'prefix part must be non-empty',
  },
  {
    name: 'a label value of 64 characters',
    base: 'single-region-web',
    mutate: (p) => {
      p.metadata.labels = { tier: 'v'.repeat(64) };
    },
    path: 'metadata.labels["tier"]',
    serverPath: 'metadata.labels',
    message: 'must be no more than 63 characters',
  },
  {
    name: 'an annotation key with two slashes',
    base: 'single-region-web',
    mutate: (p) => {
      p.metadata.annotations = { 'example.com/a/b': 'x' };
    },
    path: 'metadata.annotations["example.com/a/b"]',
    serverPath: 'metadata.annotations',
    message: 'a qualified name',
  },
  {
    name: 'annotations over 256 KiB in total',
    base: 'single-region-web',
    mutate: (p) => {
      p.metadata.annotations = { 'example.com/a': 'a'.repeat(200_000), 'example.com/b': 'b'.repeat(70_000) };
    },
    path: 'metadata.annotations',
    server: 'Too long',
    offline: 'may not be more than 262144 bytes',
  },
  // nulls: a null field is dropped (a required one is then missing), a null list item keeps its type error
  {
    name: 'regions: null',
    base: 'single-region-web',
    mutate: (p) => {
      p.spec.regions = null;
    },
    path: 'spec.regions',
    server: 'Required value',
    offline: 'is required',
  },
  {
    name: 'a null zone in a list',
    base: 'single-region-web',
    mutate: (p) => {
      p.spec.regions[0].zones[0] = null;
    },
    path: 'spec.regions[0].zones[0]',
    server: 'must be of type string',
    offline: 'must be a string, got null',
  },
  // bounds that stop the CEL rules (and their cost): 10,000 zones report maxItems only
  {
    name: '10,000 zones in one region',
    base: 'single-region-web',
    mutate: (p) => {
      p.spec.regions[0].zones = Array.from({ length: 10_000 }, (_, i) => `us-east-1${'abc'[i % 3]}`);
    },
    path: 'spec.regions[0].zones',
    server: 'must have at most 10 items',
    offline: 'must have at most 10 items',
  },
];

export const INVALID_DRILLS: InvalidCase[] = [
  {
    name: 'zone outage without a zone',
    base: 'drill-zone-outage',
    mutate: (d) => {
      delete d.spec.scenario.zone;
    },
    path: 'spec.scenario.zone',
    message: 'a zone-outage scenario must name the zone that goes down',
  },
  {
    name: 'replay without a timeline',
    base: 'drill-us-east-1-2011',
    mutate: (d) => {
      delete d.spec.scenario.timeline;
    },
    path: 'spec.scenario.timeline',
    message: 'a replay scenario must name the timeline to replay',
  },
  {
    name: 'timeline on a zone outage',
    base: 'drill-zone-outage',
    mutate: (d) => {
      d.spec.scenario.timeline = 'us-east-1-2011';
    },
    path: 'spec.scenario.timeline',
    message: 'timeline is only used by replay scenarios',
  },
  {
    name: 'region outage without a region',
    base: 'drill-zone-outage',
    mutate: (d) => {
      d.spec.scenario = { type: 'region-outage' };
    },
    path: 'spec.scenario.region',
    message: 'a region-outage scenario must name the region that goes down',
  },
  {
    name: 'zone outside the scenario region',
    base: 'drill-zone-outage',
    mutate: (d) => {
      d.spec.scenario.region = 'us-west-2';
    },
    path: 'spec.scenario.zone',
    message: 'zone us-east-1a does not belong to region us-west-2',
  },
  {
    name: 'time scale of zero',
    base: 'drill-us-east-1-2011',
    mutate: (d) => {
      d.spec.timeScale = 0;
    },
    path: 'spec.timeScale',
    server: 'should be greater than 0',
    offline: 'must be greater than 0',
  },
  {
    name: 'unknown scenario type',
    base: 'drill-zone-outage',
    mutate: (d) => {
      d.spec.scenario.type = 'az-outage';
    },
    path: 'spec.scenario.type',
    server: 'Unsupported value: "az-outage"',
    offline: 'must be one of zone-outage, region-outage, replay, manual-failover',
  },
  {
    name: 'mode in the wrong case',
    base: 'drill-zone-outage',
    mutate: (d) => {
      d.spec.mode = 'live';
    },
    path: 'spec.mode',
    server: 'Unsupported value: "live"',
    offline: 'must be one of DryRun, Live',
  },
  {
    name: 'missing policyRef',
    base: 'drill-zone-outage',
    mutate: (d) => {
      delete d.spec.policyRef;
    },
    path: 'spec.policyRef',
    server: 'Required value',
    offline: 'is required',
  },
];

/** Updates the apiserver must refuse on an existing drill (transition rules; offline validation cannot see them). */
export interface InvalidUpdate {
  name: string;
  base: ExampleName;
  /** Applied to the manifest before it is created. */
  create?: (manifest: Manifest) => void;
  /** Applied to the stored object; the update must be rejected. */
  update: (manifest: Manifest) => void;
  message: string;
}

export const INVALID_DRILL_UPDATES: InvalidUpdate[] = [
  {
    name: 'changing the scenario of an existing drill',
    base: 'drill-zone-outage',
    update: (d) => {
      d.spec.scenario.zone = 'us-east-1b';
    },
    message: 'policyRef, scenario, mode and timeScale cannot change once a drill exists',
  },
  {
    name: 'resuming an aborted drill',
    base: 'drill-zone-outage',
    create: (d) => {
      d.spec.abort = true;
    },
    update: (d) => {
      d.spec.abort = false;
    },
    message: 'an aborted drill cannot be resumed',
  },
];
