// Per-vantage routes and probe forwards in the fault proxy: rule selection by route, target and path, the
// parsing of `/probe/<host:port>/...`, and the URL a test gives an operator to reach a probe target through a route.
import { describe, expect, it } from 'vitest';
import { parseProbeForward, probeUrlVia } from '../../fault-proxy/probe.ts';
import { FaultRuleBook, type MatchableCall, ruleMatches, validateRule } from '../../fault-proxy/rules.ts';
import { routeNameProblem } from '../../fault-proxy/server.ts';

const listZones = { service: 'route53', region: 'us-east-1', action: 'ListHostedZones' };
const onRoute = (route: string | undefined, call: MatchableCall = listZones): MatchableCall => ({ ...call, route });
const probe = (route: string, target: string, path: string): MatchableCall => ({
  service: 'probe',
  region: '',
  action: 'GET',
  route,
  target,
  path,
});

describe('ruleMatches: route', () => {
  it('selects calls by the listener they arrived on; an unset route matches every listener', () => {
    const rule = { route: 'a', reset: true };
    expect(ruleMatches(rule, onRoute('a'))).toBe(true);
    expect(ruleMatches(rule, onRoute('A'))).toBe(true);
    expect(ruleMatches(rule, onRoute('b'))).toBe(false);
    expect(ruleMatches(rule, onRoute('default'))).toBe(false);
    expect(ruleMatches(rule, listZones)).toBe(false); // no route: the main port, `default`
    for (const route of ['a', 'b', 'default', undefined])
      expect(ruleMatches({ reset: true }, onRoute(route))).toBe(true);
    expect(ruleMatches({ route: 'default', reset: true }, listZones)).toBe(true);
  });

  it('combines with the AWS selectors', () => {
    const rule = { route: 'a', region: 'us-east-1', hang: true };
    expect(ruleMatches(rule, onRoute('a'))).toBe(true);
    expect(ruleMatches(rule, onRoute('a', { ...listZones, region: 'us-west-2' }))).toBe(false);
    expect(ruleMatches(rule, onRoute('b'))).toBe(false);
  });
});

describe('ruleMatches: target and path', () => {
  it('selects probe forwards by target; AWS calls never match a target', () => {
    const rule = { target: '127.0.0.1:4567', hang: true };
    expect(ruleMatches(rule, probe('a', '127.0.0.1:4567', '/us-east-1a'))).toBe(true);
    expect(ruleMatches(rule, probe('a', '127.0.0.1:4568', '/us-east-1a'))).toBe(false);
    expect(ruleMatches(rule, { ...onRoute('a'), target: '', path: '/2013-04-01/hostedzone' })).toBe(false);
    expect(ruleMatches(rule, listZones)).toBe(false);
  });

  it('searches path as a regular expression in the forwarded path (or an AWS call request path)', () => {
    const east = { route: 'a', service: 'probe', path: 'us-east-1', reset: true };
    expect(ruleMatches(east, probe('a', '127.0.0.1:1', '/us-east-1a'))).toBe(true);
    expect(ruleMatches(east, probe('a', '127.0.0.1:1', '/warm/us-east-1b?x=1'))).toBe(true);
    expect(ruleMatches(east, probe('a', '127.0.0.1:1', '/us-west-2a'))).toBe(false);
    expect(ruleMatches(east, probe('b', '127.0.0.1:1', '/us-east-1a'))).toBe(false);
    expect(ruleMatches({ path: '^/us-east-1a$', reset: true }, probe('c', 't:1', '/x/us-east-1a'))).toBe(false);
    // AWS calls: the request path as received.
    const zone = { ...listZones, action: 'GetHostedZone', path: '/2013-04-01/hostedzone/Z123' };
    expect(ruleMatches({ path: 'hostedzone/Z123$', reset: true }, zone)).toBe(true);
    expect(ruleMatches({ path: 'hostedzone/Z9', reset: true }, zone)).toBe(false);
    // service `probe` tells forwards from AWS calls.
    expect(ruleMatches({ service: 'probe', reset: true }, zone)).toBe(false);
  });

  it('partitions one vantage from one region while the others and AWS pass (FaultRuleBook.plan)', () => {
    const book = new FaultRuleBook();
    const id = book.add({ route: 'a', service: 'probe', path: 'us-east-1', hang: true });
    expect(book.plan(probe('a', '127.0.0.1:9', '/us-east-1b')).ruleIds).toEqual([id]);
    expect(book.plan(probe('b', '127.0.0.1:9', '/us-east-1b')).terminal).toBeUndefined();
    expect(book.plan(probe('a', '127.0.0.1:9', '/us-west-2a')).terminal).toBeUndefined();
    expect(book.plan(onRoute('a')).terminal).toBeUndefined();
  });
});

describe('validateRule: route, target, path', () => {
  it('accepts strings and rejects other types and bad regular expressions', () => {
    const rule = { route: 'a', target: '127.0.0.1:80', path: '^/us-east-1', hang: true };
    expect(validateRule(rule)).toEqual({ ok: true, rule });
    expect(validateRule({ route: 1, target: true, path: '(', reset: true })).toEqual({
      ok: false,
      problems: [
        'route must be a string',
        'target must be a string',
        expect.stringContaining('path is not a valid regular expression'),
      ],
    });
  });
});

describe('parseProbeForward', () => {
  it('splits /probe/<host:port>/<path> and keeps the query', () => {
    expect(parseProbeForward('/probe/127.0.0.1:4567/us-east-1a?x=1')).toEqual({
      target: '127.0.0.1:4567',
      hostname: '127.0.0.1',
      port: 4567,
      path: '/us-east-1a?x=1',
    });
    expect(parseProbeForward('/probe/localhost:80')).toMatchObject({ target: 'localhost:80', path: '/' });
    expect(parseProbeForward('/probe/LOCALHOST:80?q')).toMatchObject({ target: 'localhost:80', path: '/?q' });
    expect(parseProbeForward('/probe/[::1]:8080/h')).toMatchObject({ hostname: '::1', port: 8080, path: '/h' });
  });

  it('leaves other paths alone and refuses non-loopback or malformed targets', () => {
    expect(parseProbeForward('/2013-04-01/hostedzone')).toBeUndefined();
    expect(parseProbeForward('/probex/127.0.0.1:1/')).toBeUndefined();
    expect(parseProbeForward('/probe/example.com:80/')).toMatch(/loopback/);
    expect(parseProbeForward('/probe/10.0.0.1:80/')).toMatch(/loopback/);
    expect(parseProbeForward('/probe/127.0.0.1/')).toMatch(/host:port/);
    expect(parseProbeForward('/probe/127.0.0.1:0/')).toMatch(/out of range/);
  });
});

describe('probeUrlVia', () => {
  it('puts the target under /probe/ on the route URL and keeps templates unencoded', () => {
    expect(probeUrlVia('http://127.0.0.1:5001', 'http://127.0.0.1:4567/{zone}')).toBe(
      'http://127.0.0.1:5001/probe/127.0.0.1:4567/{zone}',
    );
    expect(probeUrlVia('http://127.0.0.1:5001/', 'http://localhost')).toBe('http://127.0.0.1:5001/probe/localhost:80');
    expect(parseProbeForward(new URL(probeUrlVia('http://p:1', 'http://127.0.0.1:9/a/b?c=d')).pathname)).toMatchObject({
      target: '127.0.0.1:9',
      path: '/a/b',
    });
    expect(() => probeUrlVia('http://p:1', 'https://127.0.0.1:9/')).toThrow(/http:\/\//);
  });
});

describe('routeNameProblem', () => {
  it('takes DNS labels other than "default"', () => {
    expect(routeNameProblem('a')).toBeUndefined();
    expect(routeNameProblem('use1-b')).toBeUndefined();
    expect(routeNameProblem('default')).toMatch(/main port/);
    for (const bad of ['', 'A', '-a', 'a_b', 'x'.repeat(33), 3]) expect(routeNameProblem(bad)).toMatch(/DNS label/);
  });
});
