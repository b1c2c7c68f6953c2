// Per-vantage routes through the fault proxy (issue #14): every route is its own port, a call carries the route it
// arrived on, and a rule with `route` breaks that route only. Probe forwards (`/probe/<host:port>/...`) put the
// proxy between an operator and its HTTP probe targets, so one vantage can be cut off from one region's endpoints
// while the others still reach them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ListHostedZonesCommand, Route53Client } from '@aws-sdk/client-route-53';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type Testbed, testbed } from '../../env/testbed.ts';

let tb: Testbed;
let target: Server;
let targetBase = '';
const seen: string[] = [];

beforeAll(async () => {
  target = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} host=${req.headers.host}`);
    res.end(`hello from ${req.url}`);
  });
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve));
  targetBase = `http://127.0.0.1:${(target.address() as AddressInfo).port}`;
});
afterAll(async () => {
  target.closeAllConnections();
  await new Promise((resolve) => target.close(resolve));
});
beforeEach(async () => {
  tb = testbed();
  await tb.faults.clear();
  seen.length = 0;
});

const r53Via = (endpoint: string) =>
  new Route53Client({ endpoint, region: 'us-east-1', credentials: tb.aws.credentials, maxAttempts: 1 });

/** GET through a route; `timeout` when nothing answered within ms, `error` when the connection failed. */
async function get(url: string, ms = 1_500): Promise<{ status: number; body: string } | 'timeout' | 'error'> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(ms) });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    return (err as Error).name === 'TimeoutError' ? 'timeout' : 'error';
  }
}

describe('routes', () => {
  it('are open on their own ports, listed by the proxy', async () => {
    expect(tb.routes).toEqual(['a', 'b', 'c']);
    const listed = await tb.faults.routes();
    expect(listed.map((r) => r.name)).toEqual(['default', 'a', 'b', 'c']);
    expect(listed.find((r) => r.name === 'a')?.port).toBe(tb.route('a').port);
    expect(new Set(listed.map((r) => r.port)).size).toBe(4);
    expect(() => tb.route('zz')).toThrow(/no route "zz"/);
  });

  it('a rule with route "a" breaks AWS calls on route a only; the log names each call\'s route', async () => {
    const viaA = r53Via(tb.route('a').endpoint);
    const viaB = r53Via(tb.route('b').endpoint);
    const viaMain = r53Via(tb.aws.endpoint);
    await tb.faults.add({ route: 'a', service: 'route53', error: { status: 400, code: 'Throttling' } });

    await expect(viaA.send(new ListHostedZonesCommand({}))).rejects.toMatchObject({ name: 'Throttling' });
    await viaB.send(new ListHostedZonesCommand({}));
    await viaMain.send(new ListHostedZonesCommand({}));
    const log = await tb.faults.log();
    expect(log.map((e) => `${e.route}:${e.action}:${e.status}:${e.effect}`)).toEqual([
      'a:ListHostedZones:400:error',
      'b:ListHostedZones:200:pass',
      'default:ListHostedZones:200:pass',
    ]);
    for (const c of [viaA, viaB, viaMain]) c.destroy();
  });

  it('a rule without route applies on every route, as before routes existed', async () => {
    await tb.faults.add({ action: 'ListHostedZones', error: { status: 503, code: 'ServiceUnavailable' } });
    for (const endpoint of [tb.route('a').endpoint, tb.route('c').endpoint, tb.aws.endpoint]) {
      const c = r53Via(endpoint);
      await expect(c.send(new ListHostedZonesCommand({}))).rejects.toMatchObject({ name: 'ServiceUnavailable' });
      c.destroy();
    }
  });

  it('opens and closes more routes at run time', async () => {
    const d = await tb.faults.openRoute('d');
    try {
      expect(await tb.faults.openRoute('d')).toMatchObject({ port: d.port }); // idempotent
      const viaD = r53Via(d.endpoint);
      await viaD.send(new ListHostedZonesCommand({}));
      viaD.destroy();
      expect((await tb.faults.log()).map((e) => e.route)).toEqual(['d']);
    } finally {
      await tb.faults.closeRoute('d');
    }
    expect((await tb.faults.routes()).map((r) => r.name)).not.toContain('d');
  });
});

describe('probe forwards through a route', () => {
  it('reach the loopback target with its path, query and Host', async () => {
    const url = tb.route('a').probeUrl(`${targetBase}/us-east-1a?x=1`);
    expect(url).toBe(`${tb.route('a').endpoint}/probe/${targetBase.slice('http://'.length)}/us-east-1a?x=1`);
    expect(await get(url)).toEqual({ status: 200, body: 'hello from /us-east-1a?x=1' });
    expect(seen).toEqual([`GET /us-east-1a?x=1 host=${targetBase.slice('http://'.length)}`]);
    const [entry] = await tb.faults.log();
    expect(entry).toMatchObject({
      route: 'a',
      service: 'probe',
      action: 'GET',
      target: targetBase.slice('http://'.length),
      path: expect.stringContaining('/probe/'),
      status: 200,
      effect: 'pass',
    });
  });

  it('partition: vantage a cannot reach us-east-1 endpoints (hang), while b and c can and a still reaches us-west-2', async () => {
    await tb.faults.add({ route: 'a', service: 'probe', path: 'us-east-1', hang: true });
    const east = (route: string) => get(tb.route(route).probeUrl(`${targetBase}/us-east-1b`), 800);
    expect(await east('a')).toBe('timeout');
    expect(await east('b')).toEqual({ status: 200, body: 'hello from /us-east-1b' });
    expect(await east('c')).toEqual({ status: 200, body: 'hello from /us-east-1b' });
    expect(await get(tb.route('a').probeUrl(`${targetBase}/us-west-2a`))).toMatchObject({ status: 200 });
    // The hung call never reached the target.
    expect(seen).toEqual(['/us-east-1b', '/us-east-1b', '/us-west-2a'].map((p) => expect.stringContaining(p)));
  });

  it('applies reset, error and latency to probe forwards, selected by target', async () => {
    const hostPort = targetBase.slice('http://'.length);
    const url = tb.route('b').probeUrl(`${targetBase}/z`);
    await tb.faults.add({ route: 'b', target: hostPort, reset: true, times: 1 });
    expect(await get(url)).toBe('error');
    await tb.faults.add({
      target: hostPort,
      error: { status: 503, code: 'Unavailable', message: 'zone down' },
      times: 1,
    });
    expect(await get(url)).toEqual({ status: 503, body: 'Unavailable: zone down\n' });
    await tb.faults.add({ target: '127.0.0.1:1', reset: true }); // another target: not this one
    await tb.faults.add({ route: 'b', latencyMs: 600, times: 1 });
    const start = performance.now();
    expect(await get(url)).toMatchObject({ status: 200 });
    expect(performance.now() - start).toBeGreaterThanOrEqual(600);
    expect((await tb.faults.log()).map((e) => `${e.route}:${e.status}:${e.effect}`)).toEqual([
      'b:0:reset',
      'b:503:error',
      'b:200:latency',
    ]);
  });

  it('refuses targets that are not on loopback, and answers 502 for a target that is down', async () => {
    const refused = await get(`${tb.route('a').endpoint}/probe/example.com:80/`);
    expect(refused).toMatchObject({ status: 400, body: expect.stringContaining('loopback') });
    const down = await get(tb.route('a').probeUrl('http://127.0.0.1:1/x'));
    expect(down).toMatchObject({ status: 502 });
  });
});
