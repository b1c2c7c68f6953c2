// The client wiring against a loopback HTTP server standing in for Route 53: timeouts, no SDK retries, the call
// recorder middleware and error mapping at the adapter boundary. No AWS, no moto; milliseconds.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EC2Client } from '@aws-sdk/client-ec2';
import { RDSClient } from '@aws-sdk/client-rds';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CloudError } from '../errors.ts';
import { type AwsCallRecord, CALL_RECORDER_MIDDLEWARE, createAwsClients } from './clients.ts';
import { createAwsCloud } from './index.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const XMLNS = 'https://route53.amazonaws.com/doc/2013-04-01/';
const insync = `<?xml version="1.0" encoding="UTF-8"?>
<GetChangeResponse xmlns="${XMLNS}"><ChangeInfo><Id>/change/C1</Id><Status>INSYNC</Status><SubmittedAt>2026-01-01T00:00:00Z</SubmittedAt></ChangeInfo></GetChangeResponse>`;
const errorBody = (code: string, message: string) =>
  `<?xml version="1.0"?><ErrorResponse xmlns="${XMLNS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>r-1</RequestId></ErrorResponse>`;

let server: Server;
let endpoint: string;
let handler: Handler = (_req, res) => res.end();
let requests = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    requests++;
    req.resume();
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
afterEach(() => {
  requests = 0;
  server.closeAllConnections();
});

const credentials = { accessKeyId: 'testing', secretAccessKey: 'testing' };

function makeCloud(extra: { requestTimeoutMs?: number; onCall?: (c: AwsCallRecord) => void; now?: () => number } = {}) {
  const calls: AwsCallRecord[] = [];
  const cloud = createAwsCloud({
    endpoint,
    credentials,
    requestTimeoutMs: extra.requestTimeoutMs ?? 2_000,
    connectionTimeoutMs: 1_000,
    onCall: extra.onCall ?? ((c) => calls.push(c)),
    ...(extra.now ? { now: extra.now } : {}),
  });
  return { cloud, calls };
}

async function failure(p: Promise<unknown>): Promise<CloudError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CloudError);
    return err as CloudError;
  }
  throw new Error('expected the call to fail');
}

describe('createAwsClients', () => {
  it('caches one client per service and region; Route 53 is global in us-east-1', async () => {
    const clients = createAwsClients({ endpoint, credentials, requestTimeoutMs: 1000, connectionTimeoutMs: 1000 });
    const rds = (region: string) => clients.regional('rds', region, RDSClient);
    const ec2 = (region: string) => clients.regional('ec2', region, EC2Client);
    expect(rds('us-east-1')).toBe(rds('us-east-1'));
    expect(rds('us-east-1')).not.toBe(rds('us-west-2'));
    expect(ec2('us-west-2')).toBe(ec2('us-west-2'));
    expect(clients.route53()).toBe(clients.route53());
    expect(await clients.route53().config.region()).toBe('us-east-1');
    expect(await clients.regional('cloudwatch', 'eu-west-1', CloudWatchClient).config.region()).toBe('eu-west-1');
    expect(await ec2('us-west-2').config.maxAttempts()).toBe(1);
    clients.destroy();
  });

  it('installs the call recorder as named middleware only when onCall is given', () => {
    const withRecorder = createAwsClients({
      endpoint,
      credentials,
      requestTimeoutMs: 1000,
      connectionTimeoutMs: 1000,
      onCall: () => {},
    });
    const without = createAwsClients({ endpoint, credentials, requestTimeoutMs: 1000, connectionTimeoutMs: 1000 });
    expect(withRecorder.regional('rds', 'us-east-1', RDSClient).middlewareStack.identify().join(' ')).toContain(
      CALL_RECORDER_MIDDLEWARE,
    );
    expect(without.regional('rds', 'us-east-1', RDSClient).middlewareStack.identify().join(' ')).not.toContain(
      CALL_RECORDER_MIDDLEWARE,
    );
    withRecorder.destroy();
    without.destroy();
  });
});

describe('calls through the adapters', () => {
  it('records a successful call with its latency from the injected clock', async () => {
    handler = (_req, res) => res.writeHead(200, { 'content-type': 'text/xml' }).end(insync);
    const ticks = [1_000, 1_042];
    const { cloud, calls } = makeCloud({ now: () => ticks.shift() ?? 9_999 });
    await expect(cloud.dns.getChangeStatus('C1')).resolves.toBe('INSYNC');
    expect(calls).toEqual([
      { service: 'route53', operation: 'GetChange', region: 'us-east-1', ok: true, latencyMs: 42, at: 1_042 },
    ]);
    cloud.destroy();
  });

  it('maps Throttling to throttled, keeps the message, and does not retry inside the SDK', async () => {
    handler = (_req, res) =>
      res.writeHead(400, { 'content-type': 'text/xml' }).end(errorBody('Throttling', 'Rate exceeded'));
    const { cloud, calls } = makeCloud();
    const err = await failure(cloud.dns.getChangeStatus('C1'));
    expect(err).toMatchObject({ kind: 'throttled', code: 'Throttling', message: 'Rate exceeded', service: 'route53' });
    expect(requests).toBe(1);
    expect(calls).toMatchObject([
      { operation: 'GetChange', ok: false, errorCode: 'Throttling', errorKind: 'throttled' },
    ]);
    cloud.destroy();
  });

  it('maps PriorRequestNotComplete to busy', async () => {
    handler = (_req, res) =>
      res.writeHead(400, { 'content-type': 'text/xml' }).end(errorBody('PriorRequestNotComplete', 'still processing'));
    const { cloud } = makeCloud();
    const err = await failure(
      cloud.dns.upsertRecords('Z1', [{ name: 'a.example.com.', type: 'A', ttl: 60, values: ['10.0.0.1'] }], 'c'),
    );
    expect(err).toMatchObject({ kind: 'busy', code: 'PriorRequestNotComplete', operation: 'ChangeResourceRecordSets' });
    expect(requests).toBe(1);
    cloud.destroy();
  });

  it('maps a bare 503 to retryable after exactly one request', async () => {
    handler = (_req, res) => res.writeHead(503).end();
    const { cloud, calls } = makeCloud();
    const err = await failure(cloud.dns.getChangeStatus('C1'));
    expect(err.kind).toBe('retryable');
    expect(requests).toBe(1);
    expect(calls[0]).toMatchObject({ ok: false, errorKind: 'retryable' });
    cloud.destroy();
  });

  it('turns a hung call into a timeout within the request timeout', async () => {
    handler = () => {}; // never answers
    const { cloud, calls } = makeCloud({ requestTimeoutMs: 300, now: Date.now });
    const started = Date.now();
    const err = await failure(cloud.dns.getChangeStatus('C1'));
    const elapsed = Date.now() - started;
    expect(err).toMatchObject({ kind: 'timeout', code: 'TimeoutError' });
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1_500);
    expect(calls[0]).toMatchObject({ ok: false, errorKind: 'timeout' });
    expect(calls[0]?.latencyMs).toBeGreaterThanOrEqual(250);
    cloud.destroy();
  });

  it('passes the AbortSignal down to the HTTP request', async () => {
    handler = () => {};
    const { cloud } = makeCloud({ requestTimeoutMs: 10_000 });
    const started = Date.now();
    const err = await failure(cloud.dns.getChangeStatus('C1', { signal: AbortSignal.timeout(100) }));
    expect(err).toMatchObject({ kind: 'timeout', code: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(2_000);
    cloud.destroy();
  });

  it('maps a reset connection to retryable', async () => {
    handler = (req) => req.socket.destroy();
    const { cloud } = makeCloud();
    const err = await failure(cloud.dns.getChangeStatus('C1'));
    // The SDK renames ECONNRESET to TimeoutError; a dropped connection is still not a hang.
    expect(err).toMatchObject({ kind: 'retryable', code: 'ECONNRESET' });
    expect(requests).toBe(1);
    cloud.destroy();
  });

  it('does not let a throwing onCall change the outcome of the call', async () => {
    handler = (_req, res) => res.writeHead(200, { 'content-type': 'text/xml' }).end(insync);
    const { cloud } = makeCloud({
      onCall: () => {
        throw new Error('metrics sink down');
      },
    });
    await expect(cloud.dns.getChangeStatus('C1')).resolves.toBe('INSYNC');
    cloud.destroy();
  });
});
