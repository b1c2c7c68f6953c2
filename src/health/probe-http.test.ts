import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpProbe, type FetchLike, MAX_PROBE_BODY_BYTES, redactUrl } from './probe-http.ts';
import { createTcpProbe } from './probe-tcp.ts';

// Real node:http servers on loopback: one healthy, one failing, one that never answers, one slow.
let server: Server;
let base = '';
const seenPaths: string[] = [];
let floodBytes = 0;
const floodClosed: number[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seenPaths.push(req.url ?? '');
    if (req.url?.startsWith('/ok')) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('status: serving');
    } else if (req.url?.startsWith('/fail')) {
      res.writeHead(500).end('boom');
    } else if (req.url?.startsWith('/slow')) {
      setTimeout(() => res.writeHead(200).end('status: serving'), 150);
    } else if (req.url?.startsWith('/flood')) {
      // An endpoint that streams forever: the probe must read a prefix and hang up.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('status: serving\n');
      const chunk = 'x'.repeat(16 * 1024);
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) floodBytes += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => floodClosed.push(floodBytes));
      pump();
    } else if (req.url?.startsWith('/stall-body')) {
      res.writeHead(200);
      res.write('status: ');
      // never ends
    }
    // /hang: never answers
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const now = () => performance.now();
const run = (p: ReturnType<typeof createHttpProbe>) => p.run({ signal: new AbortController().signal, now });

describe('http probe against loopback servers', () => {
  it('ok: expected status, body matches, within budget', async () => {
    const probe = createHttpProbe(
      {
        url: `${base}/ok/{zone}`,
        region: 'us-east-1',
        zone: 'us-east-1a',
        timeoutMs: 1000,
        latencyBudgetMs: 500,
        bodyMatch: 'serving',
      },
      { now },
    );
    const [r] = await run(probe);
    expect(r).toMatchObject({ kind: 'http', region: 'us-east-1', zone: 'us-east-1a', ok: true, source: 'operator' });
    expect(r!.detail).toMatch(/^GET http:\/\/127\.0\.0\.1:\d+\/ok\/us-east-1a: status 200 in \d+ms$/);
    expect(seenPaths).toContain('/ok/us-east-1a');
  });

  it('reads at most a prefix of an endless body, matches within it, and hangs up', async () => {
    const probe = createHttpProbe(
      { url: `${base}/flood`, region: 'us-east-1', timeoutMs: 2000, bodyMatch: 'serving' },
      { now },
    );
    const [r] = await run(probe);
    expect(r).toMatchObject({ ok: true });
    await new Promise((resolve) => setTimeout(resolve, 100));
    // The server saw the connection closed after the prefix (plus what the sockets buffered), not a full read.
    expect(floodClosed.length).toBe(1);
    expect(floodClosed[0]).toBeLessThan(MAX_PROBE_BODY_BYTES + 8 * 1024 * 1024);
  });

  it('never shows a query string or user-info in its detail', async () => {
    expect(redactUrl('https://user:secret@api.example.com/healthz?token=abc#x')).toBe(
      'https://api.example.com/healthz?…',
    );
    expect(redactUrl('https://api.example.com/healthz')).toBe('https://api.example.com/healthz');
    const [r] = await run(
      createHttpProbe({ url: `${base}/fail?token=abc`, region: 'us-east-1', timeoutMs: 1000 }, { now }),
    );
    expect(r!.detail).not.toContain('token');
    expect(r!.detail).toMatch(/\/fail\?…: status 500/);
  });

  it('500 is down', async () => {
    const [r] = await run(createHttpProbe({ url: `${base}/fail`, region: 'us-east-1', timeoutMs: 1000 }, { now }));
    expect(r).toMatchObject({ ok: false, severity: 'down' });
    expect(r!.timedOut).toBeUndefined(); // an answer, a wrong one: hard down
    expect(r!.detail).toContain('status 500, expected 2xx');
    expect(r!.zone).toBeUndefined();
  });

  it('a hanging endpoint is down after the probe timeout, not later', async () => {
    const started = performance.now();
    const [r] = await run(
      createHttpProbe({ url: `${base}/hang`, region: 'us-east-1', zone: 'us-east-1b', timeoutMs: 200 }, { now }),
    );
    const took = performance.now() - started;
    expect(r).toMatchObject({ ok: false, severity: 'down', zone: 'us-east-1b', timedOut: true, timeoutMs: 200 });
    expect(r!.detail).toContain('timeout after 200ms');
    expect(took).toBeGreaterThanOrEqual(190);
    expect(took).toBeLessThan(1000);
  });

  it('headers then a stalled body is still a timeout', async () => {
    const [r] = await run(createHttpProbe({ url: `${base}/stall-body`, region: 'us-east-1', timeoutMs: 200 }, { now }));
    expect(r).toMatchObject({ ok: false, severity: 'down' });
    expect(r!.detail).toContain('timeout after 200ms');
  });

  it('slow but answering is degraded when over the latency budget, ok within it', async () => {
    const [over] = await run(
      createHttpProbe({ url: `${base}/slow`, region: 'us-east-1', timeoutMs: 2000, latencyBudgetMs: 50 }, { now }),
    );
    expect(over).toMatchObject({ ok: false, severity: 'degraded' });
    expect(over!.detail).toContain('over budget 50ms');
    expect(over!.latencyMs).toBeGreaterThanOrEqual(140);
    const [within] = await run(
      createHttpProbe({ url: `${base}/slow`, region: 'us-east-1', timeoutMs: 2000, latencyBudgetMs: 1000 }, { now }),
    );
    expect(within).toMatchObject({ ok: true });
  });

  it('a body that does not match is down; an unexpected-but-allowed status is ok', async () => {
    const [mismatch] = await run(
      createHttpProbe({ url: `${base}/ok`, region: 'us-east-1', timeoutMs: 1000, bodyMatch: '^ready$' }, { now }),
    );
    expect(mismatch).toMatchObject({ ok: false, severity: 'down' });
    expect(mismatch!.detail).toContain('body did not match /^ready$/');
    const [allowed] = await run(
      createHttpProbe({ url: `${base}/fail`, region: 'us-east-1', timeoutMs: 1000, expectStatus: [200, 500] }, { now }),
    );
    expect(allowed!.ok).toBe(true);
  });

  it('connection refused is down', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const [r] = await run(
      createHttpProbe({ url: `http://127.0.0.1:${port}/`, region: 'us-east-1', timeoutMs: 1000 }, { now }),
    );
    expect(r).toMatchObject({ ok: false, severity: 'down' });
    expect(r!.detail).toMatch(/fetch failed|ECONNREFUSED/);
  });

  it('uses an injected fetch (simulated endpoints) and expands {region}', async () => {
    const urls: string[] = [];
    const fetch: FetchLike = async (url) => {
      urls.push(url);
      return { status: 503, text: async () => 'zone drained' };
    };
    const probe = createHttpProbe(
      { url: 'https://api.{region}.example.com/healthz', region: 'us-west-2', timeoutMs: 1000 },
      { fetch, now, source: 'sim' },
    );
    const [r] = await run(probe);
    expect(urls).toEqual(['https://api.us-west-2.example.com/healthz']);
    expect(r).toMatchObject({ ok: false, severity: 'down', source: 'sim' });
  });

  it('gives equal keys to equal targets and different keys to different ones', () => {
    const mk = (zone: string, headers?: Record<string, string>) =>
      createHttpProbe(
        { url: `${base}/ok/{zone}`, region: 'us-east-1', zone, timeoutMs: 1000, ...(headers ? { headers } : {}) },
        { now },
      ).key;
    expect(mk('us-east-1a')).toBe(mk('us-east-1a'));
    expect(mk('us-east-1a')).not.toBe(mk('us-east-1b'));
    expect(mk('us-east-1a', { a: '1', b: '2' })).toBe(mk('us-east-1a', { b: '2', a: '1' }));
  });
});

describe('tcp probe against loopback', () => {
  it('connects to a listening port, and reports a closed one down', async () => {
    const port = (server.address() as AddressInfo).port;
    const ok = await createTcpProbe(
      { host: '127.0.0.1', port, region: 'us-east-1', zone: 'us-east-1a', timeoutMs: 1000 },
      { now },
    ).run({
      signal: new AbortController().signal,
      now,
    });
    expect(ok[0]).toMatchObject({ kind: 'tcp', ok: true, zone: 'us-east-1a' });

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const down = await createTcpProbe(
      { host: '127.0.0.1', port: closedPort, region: 'us-east-1', timeoutMs: 1000 },
      { now },
    ).run({
      signal: new AbortController().signal,
      now,
    });
    expect(down[0]).toMatchObject({ ok: false, severity: 'down' });
    expect(down[0]!.detail).toContain('ECONNREFUSED');
  });

  it('gives up when its signal aborts (scheduler timeout or shutdown)', async () => {
    const port = (server.address() as AddressInfo).port;
    const [r] = await createTcpProbe({ host: '127.0.0.1', port, region: 'us-east-1', timeoutMs: 150 }, { now }).run({
      signal: AbortSignal.abort(),
      now,
    });
    expect(r).toMatchObject({ ok: false, severity: 'down' });
    expect(r!.detail).toContain('timeout after 150ms');
  });
});
