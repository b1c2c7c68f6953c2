// docs/iam-policy.json allows exactly the IAM actions the operator can issue: what each planned action kind may send
// and what the observation paths read (src/act/aws-operations.ts, the single source), plus what those imply — no
// more, no less. The declaration is held to the code: every command the adapters in src/cloud/aws/ send is declared,
// or is one whose adapter method nothing outside the adapters calls; every operation the executor and the engine
// name in their pipeline calls is declared.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  ACTION_OPERATIONS,
  IMPLIED_ACTIONS,
  OBSERVATION_OPERATIONS,
  requiredIamActions,
} from '../../../src/act/aws-operations.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const awsDir = path.join(repoRoot, 'src/cloud/aws');

/** SDK client package → IAM service prefix. */
const SERVICE_PREFIX: Record<string, string> = {
  '@aws-sdk/client-route-53': 'route53',
  '@aws-sdk/client-rds': 'rds',
  '@aws-sdk/client-ec2': 'ec2',
  '@aws-sdk/client-cloudwatch': 'cloudwatch',
  '@aws-sdk/client-dynamodb': 'dynamodb',
};

/**
 * Adapter operations no action kind or observation path issues, with the adapter method that sends each: the
 * document does not grant them, so nothing outside src/cloud may call those methods.
 */
const NOT_ISSUED: Record<string, string> = {
  'ec2:StopInstances': 'stopInstances',
  'ec2:DetachVolume': 'detachVolume',
  'rds:CreateDBSnapshot': 'createSnapshot',
};

/** Non-test sources under `dir`, recursively. */
function sourcesUnder(dir: string): Array<{ file: string; text: string }> {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts'))
    .map((e) => {
      const file = path.join(e.parentPath, e.name);
      return { file: path.relative(repoRoot, file), text: readFileSync(file, 'utf8') };
    });
}

/**
 * Mutating actions that IAM authorizes on Resource "*" only (no required resource type in the Service Authorization
 * Reference), with the condition that must narrow each one (undefined: none exists).
 *  - route53:CreateHealthCheck has no resource type (list_amazonroute53).
 *  - cloudwatch:PutMetricData has no required resource type; the cloudwatch:namespace condition key limits it to the
 *    operator's namespace (AmazonCloudWatch/latest/monitoring/iam-cw-condition-keys-namespace.html).
 */
const UNSCOPED_WRITES: Record<string, unknown> = {
  'route53:CreateHealthCheck': undefined,
  'cloudwatch:PutMetricData': {
    StringEquals: { 'cloudwatch:namespace': ['FailoverOperator', 'FailoverOperator/Vantages'] },
  },
};

interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: unknown;
}

const asList = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

/** `service:Operation` for every `new XxxCommand(` in the adapter sources, by the package it is imported from. */
function actionsCalled(sources: Array<{ file: string; text: string }>): Set<string> {
  const actions = new Set<string>();
  for (const { file, text } of sources) {
    const importedFrom = new Map<string, string>();
    for (const m of text.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'(@aws-sdk\/client-[a-z0-9-]+)'/g)) {
      for (const name of m[1]!.split(',')) {
        const local = name
          .trim()
          .split(/\s+as\s+/)[0]!
          .trim();
        if (local) importedFrom.set(local, m[2]!);
      }
    }
    for (const m of text.matchAll(/new\s+([A-Z][A-Za-z0-9]*)Command\(/g)) {
      const pkg = importedFrom.get(`${m[1]}Command`);
      if (!pkg) throw new Error(`${file}: ${m[1]}Command is not imported from an @aws-sdk client package`);
      const prefix = SERVICE_PREFIX[pkg];
      if (!prefix) throw new Error(`${file}: no IAM service prefix known for ${pkg}; add it to SERVICE_PREFIX`);
      actions.add(`${prefix}:${m[1]}`);
    }
  }
  return actions;
}

const sources = readdirSync(awsDir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
  .map((f) => ({ file: f, text: readFileSync(path.join(awsDir, f), 'utf8') }));
const policy = JSON.parse(readFileSync(path.join(repoRoot, 'docs/iam-policy.json'), 'utf8')) as {
  Version: string;
  Statement: Statement[];
};
const allowed = new Set(policy.Statement.flatMap((s) => asList(s.Action)));
const called = actionsCalled(sources);
const required = requiredIamActions();
const implied = new Set<string>(Object.values(IMPLIED_ACTIONS).flat());

describe('docs/iam-policy.json', () => {
  it('finds the commands the adapters send (the parser is not vacuous)', () => {
    expect(called.size).toBeGreaterThanOrEqual(15);
    expect(called).toContain('route53:ChangeResourceRecordSets');
    expect(called).toContain('rds:PromoteReadReplica');
    expect(called).toContain('ec2:RunInstances');
    expect(called).toContain('cloudwatch:GetMetricStatistics');
  });

  it('allows exactly what the action kinds and observation paths declare, and what those imply', () => {
    expect([...allowed].sort()).toEqual([...required].sort());
  });

  it('never grants the operations the planner cannot issue', () => {
    for (const action of Object.keys(NOT_ISSUED)) expect(allowed, action).not.toContain(action);
  });

  it('declares every command the adapters send, except the ones nothing outside the adapters asks for', () => {
    const undeclared = [...called].filter((a) => !required.has(a as never) && !(a in NOT_ISSUED)).sort();
    expect(undeclared).toEqual([]);
    // …and declares nothing the adapters cannot send.
    const unsendable = [...required].filter((a) => !called.has(a) && !implied.has(a)).sort();
    expect(unsendable).toEqual([]);
  });

  it('the adapter methods behind the operations not granted are called from nowhere outside src/cloud', () => {
    const callers = sourcesUnder(path.join(repoRoot, 'src')).filter(({ file }) => !file.startsWith('src/cloud/'));
    expect(callers.length).toBeGreaterThan(50);
    for (const method of Object.values(NOT_ISSUED)) {
      const calling = callers.filter(({ text }) => new RegExp(`\\.${method}\\(`).test(text)).map((s) => s.file);
      expect(calling, method).toEqual([]);
    }
  });

  it('every operation the executor and the engine name in a pipeline call is declared for them', () => {
    const operationsIn = (files: string[]) =>
      new Set(
        files.flatMap((f) =>
          [...readFileSync(path.join(repoRoot, f), 'utf8').matchAll(/operation: '([A-Za-z0-9]+)'/g)].map((m) => m[1]!),
        ),
      );
    const names = (actions: readonly string[]) => new Set(actions.map((a) => a.split(':')[1]));
    const byActions = names(Object.values(ACTION_OPERATIONS).flat());
    const byObservation = names(Object.values(OBSERVATION_OPERATIONS).flat());
    const executor = operationsIn(['src/act/perform-action.ts', 'src/act/change-coalescer.ts']);
    expect(executor.size).toBeGreaterThanOrEqual(8);
    expect([...executor].filter((op) => !byActions.has(op))).toEqual([]);
    const engine = sourcesUnder(path.join(repoRoot, 'src/engine')).map((s) => s.file);
    expect([...operationsIn(engine)].filter((op) => !byObservation.has(op))).toEqual([]);
  });

  it('has no wildcard actions and only Allow statements', () => {
    expect(policy.Version).toBe('2012-10-17');
    for (const statement of policy.Statement) {
      expect(statement.Effect).toBe('Allow');
      for (const action of asList(statement.Action)) expect(action).toMatch(/^[a-z0-9-]+:[A-Za-z0-9]+$/);
      expect(statement).not.toHaveProperty('NotAction');
    }
  });

  it('scopes mutating calls to resources (only describe-style calls use Resource "*", and the documented exceptions)', () => {
    for (const statement of policy.Statement) {
      if (!asList(statement.Resource).includes('*')) continue;
      for (const action of asList(statement.Action)) {
        if (action in UNSCOPED_WRITES) {
          const condition = UNSCOPED_WRITES[action];
          if (condition !== undefined) expect(statement.Condition, `${statement.Sid}: ${action}`).toEqual(condition);
          continue;
        }
        expect(action, `${statement.Sid}: ${action} on "*"`).toMatch(/:(Describe|Get|List)[A-Za-z]+$/);
      }
    }
  });

  it('binds the data-plane path to health checks, to failover-operator-* alarms and to the operator namespace', () => {
    const statementsOf = (action: string) => policy.Statement.filter((s) => asList(s.Action).includes(action));
    const resourcesOf = (action: string) => statementsOf(action).flatMap((s) => asList(s.Resource));
    for (const action of ['route53:ChangeTagsForResource', 'route53:ListTagsForResources']) {
      expect(resourcesOf(action), action).toEqual(['arn:aws:route53:::healthcheck/*']);
    }
    for (const action of ['cloudwatch:PutMetricAlarm', 'cloudwatch:DescribeAlarms']) {
      expect(resourcesOf(action), action).toEqual(['arn:aws:cloudwatch:*:ACCOUNT_ID:alarm:failover-operator-*']);
    }
    const publish = statementsOf('cloudwatch:PutMetricData');
    expect(publish).toHaveLength(1);
    expect(publish[0]?.Condition).toEqual({
      StringEquals: { 'cloudwatch:namespace': ['FailoverOperator', 'FailoverOperator/Vantages'] },
    });
  });

  it('narrows the writes with the condition keys AWS offers for them', () => {
    const statementsOf = (action: string) => policy.Statement.filter((s) => asList(s.Action).includes(action));
    const conditionOf = (action: string) => {
      const statements = statementsOf(action);
      expect(statements, action).toHaveLength(1);
      return statements[0]?.Condition;
    };
    expect(conditionOf('route53:ChangeResourceRecordSets')).toEqual({
      'ForAllValues:StringEquals': {
        'route53:ChangeResourceRecordSetsActions': ['UPSERT'],
        'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['RECORD_NAME', 'WRITER_RECORD_NAME'],
      },
    });
    for (const action of ['rds:PromoteReadReplica', 'rds:RebootDBInstance']) {
      expect(conditionOf(action), action).toEqual({ StringEquals: { 'rds:db-tag/failover-operator': 'managed' } });
    }
    expect(conditionOf('ec2:RebootInstances')).toEqual({
      StringEquals: { 'aws:ResourceTag/failover-operator': 'managed' },
    });
    expect(conditionOf('ec2:RunInstances')).toEqual({
      ArnLike: { 'ec2:LaunchTemplate': 'arn:aws:ec2:*:ACCOUNT_ID:launch-template/*' },
    });
    expect(conditionOf('ec2:CreateTags')).toEqual({ StringEquals: { 'ec2:CreateAction': 'RunInstances' } });
    // Reads stay unconditioned: a tag condition on a describe would hide the instances the operator must see.
    expect(conditionOf('rds:DescribeDBInstances')).toBeUndefined();
    expect(conditionOf('route53:ListResourceRecordSets')).toBeUndefined();
  });

  it('grants Route 53 changes on hosted zones and GetChange on change ARNs', () => {
    const resourcesOf = (action: string) =>
      policy.Statement.filter((s) => asList(s.Action).includes(action)).flatMap((s) => asList(s.Resource));
    expect(resourcesOf('route53:ChangeResourceRecordSets')).toEqual(['arn:aws:route53:::hostedzone/*']);
    expect(resourcesOf('route53:GetChange')).toEqual(['arn:aws:route53:::change/*']);
    expect(resourcesOf('ec2:RunInstances')).toEqual(
      expect.arrayContaining([
        expect.stringContaining(':launch-template/'),
        expect.stringContaining(':instance/'),
        expect.stringContaining(':network-interface/'),
        expect.stringContaining(':subnet/'),
        expect.stringContaining(':security-group/'),
        expect.stringContaining('::image/'),
      ]),
    );
  });
});

describe('actionsCalled', () => {
  it('maps a command to its client package prefix and rejects unknown imports', () => {
    const text = "import { GetChangeCommand } from '@aws-sdk/client-route-53';\nnew GetChangeCommand({ Id: 'x' });";
    expect([...actionsCalled([{ file: 'a.ts', text }])]).toEqual(['route53:GetChange']);
    expect(() => actionsCalled([{ file: 'b.ts', text: 'new FooCommand({});' }])).toThrow(/not imported/);
  });
});
