// The RDS data-plane probe (rds-connect) and its real connector (DescribeDBInstances for the endpoint, then TCP),
// against fakes; plus the subject the instance-status probe puts on its results.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Databases, DbInstance } from '../cloud/types.ts';
import { createRdsStatusProbe } from './probe-rds.ts';
import {
  createRdsConnectProbe,
  createTcpDatabaseConnector,
  type DatabaseConnectAnswer,
  ENDPOINT_REFRESH_MS,
} from './probe-rds-connect.ts';

const instance = { region: 'us-east-1', dbInstanceIdentifier: 'orders' };
const ctx = () => ({ signal: new AbortController().signal, now: () => 1000 });

function db(o: Partial<DbInstance> & { port?: number } = {}): DbInstance {
  return {
    region: 'us-east-1',
    id: 'orders',
    arn: 'arn:aws:rds:us-east-1:123456789012:db:orders',
    status: 'available',
    zone: 'us-east-1a',
    endpoint: '127.0.0.1',
    backupRetentionPeriod: 7,
    multiAz: false,
    ...o,
  };
}

describe('rds-connect probe', () => {
  const probeAnswering = (answer: DatabaseConnectAnswer) =>
    createRdsConnectProbe({ instance, timeoutMs: 2000 }, { now: () => 1000, connect: async () => answer });

  it('is region-wide and names its instance, so scheduler timeouts carry the subject too', () => {
    const probe = probeAnswering({ outcome: 'answered', latencyMs: 3, detail: 'ok' });
    expect(probe).toMatchObject({ kind: 'rds-connect', region: 'us-east-1', subject: 'orders', timeoutMs: 2000 });
    expect(probe.zone).toBeUndefined();
  });

  it('maps outcomes: answered ok; an error or an unknown endpoint degraded; refused or no answer down', async () => {
    const verdict = async (outcome: DatabaseConnectAnswer['outcome']) => {
      const [r] = await probeAnswering({ outcome, latencyMs: 7, detail: outcome }).run(ctx());
      return [r!.ok, r!.severity, r!.timedOut ?? false, r!.subject];
    };
    expect(await verdict('answered')).toEqual([true, undefined, false, 'orders']);
    expect(await verdict('answered-with-error')).toEqual([false, 'degraded', false, 'orders']);
    expect(await verdict('unknown')).toEqual([false, 'degraded', false, 'orders']);
    expect(await verdict('refused')).toEqual([false, 'down', false, 'orders']);
    expect(await verdict('no-answer')).toEqual([false, 'down', true, 'orders']);
  });
});

describe('TCP database connector', () => {
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const opts = () => ({ timeoutMs: 1000, signal: AbortSignal.timeout(1000) });
  const flush = () => new Promise((r) => setTimeout(r, 0));

  it('learns the endpoint in the background, connects to it, and keeps it when DescribeDBInstances fails', async () => {
    let clock = 0;
    let describe: () => Promise<DbInstance | undefined> = async () => db({ port });
    let calls = 0;
    const databases: Pick<Databases, 'describeInstance'> = {
      describeInstance: () => {
        calls++;
        return describe();
      },
    };
    const connect = createTcpDatabaseConnector({ databases, now: () => clock });
    // The first run never waits on the control plane: the address is not known yet.
    expect(await connect('us-east-1', 'orders', opts())).toMatchObject({ outcome: 'unknown' });
    await flush();
    expect(await connect('us-east-1', 'orders', opts())).toMatchObject({ outcome: 'answered' });
    expect(calls).toBe(1); // refreshed at most once per ENDPOINT_REFRESH_MS
    describe = () => Promise.reject(new Error('InternalFailure'));
    clock += ENDPOINT_REFRESH_MS;
    expect(await connect('us-east-1', 'orders', opts())).toMatchObject({ outcome: 'answered' });
    await flush();
    expect(calls).toBe(2);
    expect(await connect('us-east-1', 'orders', opts())).toMatchObject({ outcome: 'answered' });
  });

  it('a describe failure with nothing cached is unknown, not down; so is an endpoint without a port', async () => {
    const failing = createTcpDatabaseConnector({
      databases: { describeInstance: () => Promise.reject(new Error('Throttling')) },
      now: () => 0,
    });
    await failing('us-east-1', 'orders', opts());
    await flush();
    const answer = await failing('us-east-1', 'orders', opts());
    expect(answer.outcome).toBe('unknown');
    expect(answer.detail).toContain('DescribeDBInstances failed: Throttling');

    const noPort = createTcpDatabaseConnector({ databases: { describeInstance: async () => db() }, now: () => 0 });
    await noPort('us-east-1', 'orders', opts());
    await flush();
    expect(await noPort('us-east-1', 'orders', opts())).toMatchObject({ outcome: 'unknown' });
  });

  it('refused is refused, and a connect that does not finish before the signal is no answer', async () => {
    const refused = createTcpDatabaseConnector({
      databases: { describeInstance: async () => db({ port }) },
      now: () => 0,
      connect: async () => 'connect ECONNREFUSED 127.0.0.1:5432',
    });
    await refused('us-east-1', 'orders', opts());
    await flush();
    expect(await refused('us-east-1', 'orders', opts())).toMatchObject({ outcome: 'refused' });
    const hanging = createTcpDatabaseConnector({
      databases: { describeInstance: async () => db({ port }) },
      now: () => 0,
      connect: async () => 'aborted',
    });
    await hanging('us-east-1', 'orders', opts());
    await flush();
    expect(await hanging('us-east-1', 'orders', opts())).toMatchObject({ outcome: 'no-answer' });
  });
});

describe('rds instance-status probe subject', () => {
  it('a refused or unanswered connect while the instance is rebooting or modifying is a planned change, not down', async () => {
    const probeAnswering = (answer: DatabaseConnectAnswer) =>
      createRdsConnectProbe({ instance, timeoutMs: 2000 }, { now: () => 1000, connect: async () => answer });
    for (const outcome of ['refused', 'no-answer'] as const) {
      for (const instanceStatus of ['rebooting', 'modifying']) {
        const [r] = await probeAnswering({ outcome, latencyMs: 0, detail: 'refused', instanceStatus }).run(ctx());
        expect(r).toMatchObject({ ok: true, detail: expect.stringContaining('a planned change') });
      }
      const [dead] = await probeAnswering({ outcome, latencyMs: 0, detail: 'x', instanceStatus: 'available' }).run(
        ctx(),
      );
      expect(dead).toMatchObject({ ok: false, severity: 'down' });
    }
  });

  it('names the instance on every result, so two instances never share a streak', async () => {
    const databases = { describeInstance: async () => db({ status: 'failed' }) } as unknown as Databases;
    const probe = createRdsStatusProbe({ instance, timeoutMs: 2000 }, { databases, now: () => 1000 });
    expect(probe.subject).toBe('orders');
    const [r] = await probe.run(ctx());
    expect(r).toMatchObject({ kind: 'rds', subject: 'orders', zone: 'us-east-1a', ok: false, severity: 'down' });
    expect(r!.timedOut).toBeUndefined();
    expect(r!.callFailed).toBeUndefined();
  });
});
