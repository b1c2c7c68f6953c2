// One writer, provably (issue 12): two `failover-operator run` processes share one Lease. The leader is paused
// (SIGSTOP) while its Route 53 weight change hangs in the fault proxy, and stays paused past its lease, so the
// follower takes over and drains the zone itself. Then the old leader resumes (SIGCONT) with its write still "in
// flight" and every timer overdue: it must send nothing more to AWS — its leadership ran out while it slept, so
// the leader guard refuses any retry and the leadership signal aborts what is left — and it must exit.
//
// Each process reaches AWS through its own recording relay in front of the fault proxy, so every AWS request is
// attributed to the process that sent it, whatever the fault proxy's log (which cannot tell them apart) shows.

import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Route53Client } from '@aws-sdk/client-route-53';
import type { KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createNamespace, testbed } from '../../env/testbed.ts';
import {
  createPolicy,
  createWeightedZone,
  eventually,
  type LogLine,
  leaseHolder,
  motoWeights,
  operatorEnv,
  operatorProcessSuite,
  policyBody,
  sleep,
  statusOf,
  waitHealthy,
} from '../support/operator-fixture.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const RECORD = 'api.paused.test.';
let kc: KubeConfig;
let ns: string;
let r53: Route53Client;
let zoneId: string;
const suite = operatorProcessSuite();
const { probes } = suite;

/** One AWS request as a relay saw it: when it arrived, and how it ended (0: never answered). */
interface RelayedCall {
  at: number;
  method: string;
  path: string;
  status?: number;
}

/** A loopback HTTP relay to the fault proxy that records every request one operator process sends. */
class AwsRelay {
  readonly calls: RelayedCall[] = [];
  #server: Server | undefined;
  endpoint = '';

  async start(upstream: string): Promise<void> {
    const target = new URL(upstream);
    this.#server = createServer((req, res) => {
      const call: RelayedCall = { at: Date.now(), method: req.method ?? '', path: req.url ?? '' };
      this.calls.push(call);
      const forward = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          call.status = answer.statusCode ?? 0;
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', () => res.destroy());
      // The client gave up (its timeout, or the process ended): drop the upstream call too.
      res.on('close', () => {
        if (!res.writableFinished) forward.destroy();
      });
      req.pipe(forward);
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Route 53 ChangeResourceRecordSets: POST …/hostedzone/<id>/rrset. */
  weightWrites(): RelayedCall[] {
    return this.calls.filter((c) => c.method === 'POST' && /\/hostedzone\/[^/]+\/rrset\/?$/.test(c.path));
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }
}

/** `failover-operator run` as a child process whose AWS endpoint is its own relay. */
class Operator {
  readonly lines: LogLine[] = [];
  readonly raw: string[] = [];
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  constructor(ns: string, podName: string, awsEndpoint: string) {
    this.child = spawn(process.execPath, ['src/cli/failover-operator.ts', 'run'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? '/tmp',
        ...operatorEnv(ns, podName),
        FO_AWS_ENDPOINT: awsEndpoint,
        FO_LOG_LEVEL: 'info',
      },
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    for (const stream of [this.child.stdout, this.child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8');
      stream?.on('data', (chunk: string) => {
        const parts = (partial + chunk).split('\n');
        partial = parts.pop() ?? '';
        for (const line of parts) {
          if (line.trim() === '') continue;
          this.raw.push(line);
          try {
            const parsed = JSON.parse(line) as LogLine;
            if (typeof parsed.msg === 'string') this.lines.push(parsed);
          } catch {
            // a stack trace on stderr: kept in `raw`
          }
        }
      });
    }
  }

  identity(): string | undefined {
    return this.lines.find((l) => l.msg === 'Starting operator')?.identity as string | undefined;
  }

  running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async kill(): Promise<void> {
    if (this.running()) {
      this.child.kill('SIGCONT');
      this.child.kill('SIGKILL');
    }
    await this.exited;
  }

  tail(n = 40): string {
    return this.raw.slice(-n).join('\n');
  }
}

const started: Array<Operator | AwsRelay> = [];
afterEach(async () => {
  for (const item of started.splice(0).reverse()) {
    if (item instanceof Operator) await item.kill();
    else await item.stop();
  }
});

async function startOperator(podName: string): Promise<{ op: Operator; relay: AwsRelay }> {
  const relay = new AwsRelay();
  await relay.start(testbed().aws.endpoint);
  started.push(relay);
  const op = new Operator(ns, podName, relay.endpoint);
  started.push(op);
  return { op, relay };
}

beforeAll(async () => {
  ({ kc, r53 } = suite);
  ns = await createNamespace(kc, 'engine-paused');
  zoneId = await createWeightedZone(r53, 'paused.test.', RECORD);
}, 60_000);

describe('a leader paused past its lease while a write is in flight', () => {
  it('sends no AWS write after the new leader wrote, and exits once resumed', async () => {
    const tb = testbed();
    await tb.faults.clear();
    const { op: a, relay: ra } = await startOperator('paused-a');
    await eventually('paused-a holds the Lease', async () => {
      const holder = await leaseHolder(kc, ns).catch(() => undefined);
      return holder !== undefined && holder === a.identity() ? holder : undefined;
    });
    const { op: b, relay: rb } = await startOperator('paused-b');
    await eventually('paused-b started', async () => b.identity());
    const dump = () => `paused-a log:\n${a.tail()}\npaused-b log:\n${b.tail()}`;

    await createPolicy(
      kc,
      ns,
      policyBody(ns, 'web', { zoneId, recordName: RECORD, probeUrl: `${probes.base}/{zone}` }),
    );
    await waitHealthy(kc, ns, 'web').catch((err) => {
      throw new Error(`${err}\n${dump()}`);
    });

    // The leader's drain hangs in the fault proxy (once); then us-east-1b fails its probe.
    await tb.faults.add({ service: 'route53', action: 'ChangeResourceRecordSets', hang: true, times: 1 });
    probes.answers.set('us-east-1b', 503);
    await eventually('paused-a sent its weight change (hung at the proxy)', async () =>
      ra.weightWrites().length > 0 ? true : undefined,
    ).catch((err) => {
      throw new Error(`${err}\n${dump()}`);
    });
    a.child.kill('SIGSTOP');

    // Past the lease (15 s, seen unchanged on B's clock), the follower leads and drains the zone itself.
    await eventually(
      'paused-b holds the Lease',
      async () => ((await leaseHolder(kc, ns)) === b.identity() ? true : undefined),
      40_000,
    ).catch((err) => {
      throw new Error(`${err}\n${dump()}`);
    });
    const newLeaderWrite = await eventually(
      "the new leader's weight change answered",
      async () => rb.weightWrites().find((c) => c.status === 200),
      20_000,
    ).catch((err) => {
      throw new Error(`${err}\n${dump()}`);
    });
    expect((await motoWeights(r53, zoneId))['use1-b']).toBe(0);

    // The old leader wakes up with its write "in flight" and every timer overdue.
    a.child.kill('SIGCONT');
    const exitCode = await Promise.race([a.exited, sleep(45_000).then(() => 'still running' as const)]);
    expect(exitCode, dump()).toBe(1); // leadership-lost
    await sleep(500); // anything the relay still had in hand is recorded by now

    // At the relay: the old leader's only weight change is the one that hung before the pause; nothing after the
    // new leader's first write, not a retry, not a resend.
    expect(ra.weightWrites().filter((c) => c.at >= newLeaderWrite.at)).toEqual([]);
    expect(ra.weightWrites()).toHaveLength(1);
    expect(ra.weightWrites()[0]?.status).toBeUndefined(); // never answered: the proxy held it until A dropped it
    expect(a.lines.some((l) => /^Lost leadership/.test(l.msg))).toBe(true);
    expect(a.lines.filter((l) => /^PB-\d+ performed /.test(l.msg))).toEqual([]);

    // The new leader's drain stands, its journal entry Done; it still leads and still runs.
    const journal = (await statusOf(kc, ns, 'web')).journal?.filter((e) => e.action === 'SetWeights');
    expect(journal?.map((e) => e.state)).toEqual(['Done']);
    expect(await leaseHolder(kc, ns)).toBe(b.identity());
    expect(b.running()).toBe(true);
    expect(rb.weightWrites().filter((c) => c.status === 200)).toHaveLength(1);
  }, 120_000);
});
