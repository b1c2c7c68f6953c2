// Probes are not a weapon (#15): link-local and instance-metadata addresses are refused on the address connected
// to — literal, in any spelling the URL parser or getaddrinfo accepts, or behind a name that resolves (or rebinds)
// there — for HTTP, TCP and RDS connect probes, unless the probe opts in. A loopback server stands in for a real
// target and an injected resolver for DNS.

import type { LookupAddress } from 'node:dns';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHealthState, healthView, observeResults, resolveHealthSettings } from './health-model.ts';
import { createHttpProbe } from './probe-http.ts';
import { createTcpDatabaseConnector } from './probe-rds-connect.ts';
import { createProbeTargetGuard, type Resolver, refusedAddressKind } from './probe-target-guard.ts';
import { createTcpProbe } from './probe-tcp.ts';

let server: Server;
let port = 0;
const served: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    served.push(req.url ?? '');
    if (req.url === '/redirect') {
      res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' }).end();
    } else {
      res.writeHead(200).end('ok');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A resolver from a table; each name's answers are taken in turn (the last repeats), and every call is recorded. */
function tableResolver(table: Record<string, string[][]>): Resolver & { asked: string[] } {
  const asked: string[] = [];
  const resolver = async (hostname: string): Promise<LookupAddress[]> => {
    asked.push(hostname);
    const answers = table[hostname];
    if (!answers) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    const next = answers.length > 1 ? (answers.shift() as string[]) : (answers[0] as string[]);
    return next.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolver, { asked });
}

const now = () => performance.now();
const ctx = () => ({ signal: new AbortController().signal, now });
const target = { region: 'us-east-1', zone: 'us-east-1a', timeoutMs: 1000 };

describe('which addresses are refused', () => {
  it.each([
    ['169.254.169.254', 'the EC2 instance metadata service (IMDS)'],
    ['fd00:ec2::254', 'the EC2 instance metadata service (IMDS, IPv6)'],
    ['[fd00:ec2::254]', 'the EC2 instance metadata service (IMDS, IPv6)'],
    ['::ffff:169.254.169.254', 'the EC2 instance metadata service (IMDS)'],
    ['[::ffff:a9fe:a9fe]', 'the EC2 instance metadata service (IMDS)'],
    ['169.254.170.2', 'the ECS task metadata and credentials endpoint'],
    ['169.254.170.23', 'the EKS Pod Identity agent'],
    ['fd00:ec2::23', 'the EKS Pod Identity agent (IPv6)'],
    ['fd00:ec2::253', 'an AWS instance-local service address (fd00:ec2::/64)'],
    ['169.254.1.1', 'a link-local address (169.254.0.0/16)'],
    ['fe80::1', 'a link-local address (fe80::/10)'],
    ['febf::1', 'a link-local address (fe80::/10)'],
  ])('%s is %s', (address, what) => {
    expect(refusedAddressKind(address)).toBe(what);
  });

  it.each(['127.0.0.1', '10.0.0.1', '169.255.0.1', '::1', 'fec0::1', 'fd00:ec3::254', 'api.example.com'])(
    '%s is not refused',
    (address) => {
      expect(refusedAddressKind(address)).toBeUndefined();
    },
  );

  it('the URL parser turns decimal, hex and octal spellings of an IPv4 address into the dotted form checked', () => {
    for (const url of [
      'http://2852039166/',
      'http://0xa9fea9fe/',
      'http://0251.0376.0251.0376/',
      'http://169.254.43518/',
      'http://0xa9.0xfe.0xa9.0xfe/',
    ]) {
      expect(new URL(url).hostname).toBe('169.254.169.254');
    }
  });

  it('with the opt-in, the lookup passes link-local answers on', async () => {
    const guard = createProbeTargetGuard({
      allowLinkLocal: true,
      optInField: 'x',
      resolver: tableResolver({ imds: [['169.254.169.254']] }),
    });
    guard.checkLiteral('169.254.169.254');
    const answer = await new Promise((resolve, reject) =>
      guard.lookup('imds', { all: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
    );
    expect(answer).toEqual([{ address: '169.254.169.254', family: 4 }]);
  });
});

describe('http probe', () => {
  const field = 'spec.probes[0].http.allowLinkLocal';

  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://2852039166/latest/meta-data/',
    'http://0xa9fea9fe/',
    'http://0251.0376.0251.0376/',
    'http://[fd00:ec2::254]/',
    'http://[::ffff:169.254.169.254]/',
    'http://169.254.170.2/v2/credentials',
  ])('refuses the literal %s without resolving or connecting, naming the opt-in', async (url) => {
    const resolver = tableResolver({});
    const probe = createHttpProbe({ url, ...target, optInField: field }, { now, resolver });
    const [result] = await probe.run(ctx());
    expect(result).toMatchObject({ ok: false, severity: 'degraded', callFailed: true });
    expect(result?.detail).toMatch(/refused to connect to .*: probes may not reach link-local or instance-metadata/);
    expect(result?.detail).toContain(`unless ${field} is true`);
    expect(resolver.asked).toEqual([]);
  });

  it('refuses a name that resolves to the metadata service, checked at connect time', async () => {
    const resolver = tableResolver({ 'metadata.attacker.test': [['169.254.169.254']] });
    const probe = createHttpProbe(
      { url: `http://metadata.attacker.test:${port}/latest`, ...target, optInField: field },
      { now, resolver },
    );
    const before = served.length;
    const [result] = await probe.run(ctx());
    expect(result?.detail).toBe(
      `GET http://metadata.attacker.test:${port}/latest: refused to connect to 169.254.169.254, the EC2 instance metadata service (IMDS): probes may not reach link-local or instance-metadata addresses unless ${field} is true`,
    );
    expect(result).toMatchObject({ ok: false, callFailed: true });
    expect(resolver.asked).toEqual(['metadata.attacker.test']);
    expect(served.length).toBe(before);
  });

  it('DNS rebinding: a name that answered a public address and then the metadata address is refused the second time', async () => {
    const resolver = tableResolver({ 'rebind.test': [['127.0.0.1'], ['169.254.169.254']] });
    const probe = createHttpProbe({ url: `http://rebind.test:${port}/ok`, ...target }, { now, resolver });
    expect((await probe.run(ctx()))[0]).toMatchObject({ ok: true });
    const [second] = await probe.run(ctx());
    expect(second).toMatchObject({ ok: false, callFailed: true });
    expect(second?.detail).toContain('unless probes[].http.allowLinkLocal is true');
    expect(resolver.asked).toEqual(['rebind.test', 'rebind.test']);
  });

  it('one refused address among several refuses the name', async () => {
    const resolver = tableResolver({ 'mixed.test': [['127.0.0.1', 'fd00:ec2::254']] });
    const probe = createHttpProbe({ url: `http://mixed.test:${port}/ok`, ...target }, { now, resolver });
    const [result] = await probe.run(ctx());
    expect(result?.detail).toContain('refused to connect to fd00:ec2::254');
  });

  it('does not follow a redirect to the metadata service: the 3xx is the answer', async () => {
    const resolver = tableResolver({ 'app.test': [['127.0.0.1']] });
    const probe = createHttpProbe({ url: `http://app.test:${port}/redirect`, ...target }, { now, resolver });
    const [result] = await probe.run(ctx());
    expect(result).toMatchObject({ ok: false, severity: 'down' });
    expect(result?.detail).toBe(`GET http://app.test:${port}/redirect: status 302, expected 2xx`);
    expect(resolver.asked).toEqual(['app.test']);
  });

  it('an ordinary name that resolves to an ordinary address is probed as before', async () => {
    const resolver = tableResolver({ 'app.test': [['127.0.0.1']] });
    const probe = createHttpProbe({ url: `http://app.test:${port}/ok`, ...target }, { now, resolver });
    expect((await probe.run(ctx()))[0]).toMatchObject({ ok: true });
  });

  it('an injected fetch (the simulation) still gets no literal metadata address', async () => {
    let called = 0;
    const probe = createHttpProbe(
      { url: 'http://2852039166/', ...target },
      {
        now,
        fetch: async () => {
          called++;
          return { status: 200, text: async () => '' };
        },
      },
    );
    expect((await probe.run(ctx()))[0]).toMatchObject({ ok: false, callFailed: true });
    expect(called).toBe(0);
  });
});

describe('tcp probe', () => {
  const field = 'spec.probes[1].tcp.allowLinkLocal';

  it('refuses a literal link-local host without resolving', async () => {
    const resolver = tableResolver({});
    const probe = createTcpProbe({ host: 'fe80::1', port: 80, ...target, optInField: field }, { now, resolver });
    const [result] = await probe.run(ctx());
    expect(result).toMatchObject({ ok: false, severity: 'degraded', callFailed: true });
    expect(result?.detail).toBe(
      `connect fe80::1:80: refused to connect to fe80::1, a link-local address (fe80::/10): probes may not reach link-local or instance-metadata addresses unless ${field} is true`,
    );
    expect(resolver.asked).toEqual([]);
  });

  it('refuses a decimal host that getaddrinfo turns into the metadata address (the system resolver)', async () => {
    const probe = createTcpProbe({ host: '2852039166', port: 80, ...target }, { now });
    const [result] = await probe.run(ctx());
    expect(result?.detail).toContain('refused to connect to 169.254.169.254, the EC2 instance metadata service (IMDS)');
  });

  it('refuses a name resolving to the EKS Pod Identity agent, and connects to an ordinary one', async () => {
    const resolver = tableResolver({ 'pod-id.test': [['169.254.170.23']], 'db.test': [['127.0.0.1']] });
    const refused = createTcpProbe({ host: 'pod-id.test', port: 80, ...target }, { now, resolver });
    expect((await refused.run(ctx()))[0]?.detail).toContain('the EKS Pod Identity agent');
    const allowed = createTcpProbe({ host: 'db.test', port, ...target }, { now, resolver });
    expect((await allowed.run(ctx()))[0]).toMatchObject({ ok: true });
  });
});

describe('rds connect probe', () => {
  it('an endpoint that resolves to a link-local address is unknown (never asked), not down', async () => {
    const connect = createTcpDatabaseConnector({
      databases: {
        describeInstance: async () => ({
          region: 'us-east-1',
          id: 'orders',
          arn: 'arn:aws:rds:us-east-1:123456789012:db:orders',
          status: 'available',
          zone: 'us-east-1a',
          endpoint: 'orders.rebound.test',
          port: 5432,
          backupRetentionPeriod: 7,
          multiAz: false,
        }),
      },
      now: () => 0,
      resolver: tableResolver({ 'orders.rebound.test': [['169.254.169.254']] }),
    });
    const opts = { timeoutMs: 1000, signal: AbortSignal.timeout(1000) };
    await connect('us-east-1', 'orders', opts);
    await new Promise((r) => setTimeout(r, 0));
    const answer = await connect('us-east-1', 'orders', opts);
    expect(answer.outcome).toBe('unknown');
    expect(answer.detail).toContain('refused to connect to 169.254.169.254');
  });
});

describe('what a refused probe does to health', () => {
  it('keeps its zone from Healthy (Degraded, naming the opt-in) but never makes it Impaired, however long it lasts', async () => {
    const settings = resolveHealthSettings({ intervalSeconds: 5, failureThreshold: 2 });
    const topology = { regions: [{ name: 'us-east-1', zones: ['us-east-1a', 'us-east-1b'] }] };
    const probe = createHttpProbe(
      { url: 'http://169.254.169.254/latest/meta-data/', ...target, optInField: 'spec.probes[0].http.allowLinkLocal' },
      { now: () => 0 },
    );
    const [refused] = await probe.run(ctx());
    let state = createHealthState(settings, topology);
    for (let round = 1; round <= 20; round++) {
      const results = [{ ...refused!, probe: 'api', at: round * 5000 }];
      state = observeResults(state, settings, results, round * 5000).state;
    }
    const zone = healthView(state, 100_000).zones.find((z) => z.name === 'us-east-1a');
    expect(zone?.state).toBe('Degraded');
    expect(zone?.reasons.join(' ')).toContain('unless spec.probes[0].http.allowLinkLocal is true');
    expect(healthView(state, 100_000).regions[0]?.evidence.dataPlaneDownZones).toEqual([]);
  });
});
