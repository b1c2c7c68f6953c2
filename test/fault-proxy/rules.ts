// Fault rules: what to break, for which calls, how often. Pure apart from the injected random source, so the
// matching and expiry semantics are unit-tested without a server.
//
// Semantics (documented here because tests rely on them):
// - A rule matches a call when every selector it sets (service, action, region, route, target) equals the call's,
//   and its `path` (a regular expression) finds a match in the call's path; unset selectors match anything.
//   Comparison ignores case; `cloudwatch` is accepted for CloudWatch's signing name `monitoring` and
//   `route 53`/`route-53` for `route53`.
// - `route` is the name of the proxy listener the call arrived on (`default` for the main port; `a`, `b`, ... for
//   the per-vantage ports). `target` is the `host:port` a probe forward (`/probe/<host:port>/...`) goes to; AWS
//   calls have no target, so a rule with `target` never matches them. Probe forwards have service `probe`.
// - `body` (a regular expression) is searched in the request body as received: the form of a query-protocol call
//   (`Action=PromoteReadReplica&...&DBInstanceIdentifier=orders-usw2`, URL-encoded), the JSON of a DynamoDB call.
//   It tells apart calls of one action on different resources when the path does not (RDS, EC2, DynamoDB).
// - Every matching rule whose probability draw passes applies: latencies add up, rewrites run in the order the
//   rules were added, and the first terminal effect (hang, reset, error) in that order ends the call.
// - `times` counts calls a rule applied to; at zero the rule is removed. A rule that lost its probability draw
//   did not apply and keeps its count.
import type { ClassifiedCall } from './classify.ts';

export interface Rewrite {
  /** A JavaScript regular expression source, applied to the response body. */
  find: string;
  replace: string;
  /** RegExp flags; default `g`. */
  flags?: string;
}

export interface FaultRule {
  service?: string;
  action?: string;
  region?: string;
  /** Listener the call arrived on: `default` (the main port) or a route name (`a`, `b`, ...). Unset: any. */
  route?: string;
  /** Probe forwards only: the `host:port` they go to (`127.0.0.1:4567`). Unset: any call. */
  target?: string;
  /**
   * A JavaScript regular expression (source, unanchored, case-sensitive) searched in the call's path: the path and
   * query forwarded to a probe target (`/us-east-1a`), or an AWS call's request path (`/2013-04-01/hostedzone/Z1`).
   */
  path?: string;
  /**
   * A JavaScript regular expression (source, unanchored, case-sensitive) searched in the request body as received
   * (`DBInstanceIdentifier=orders-usw2(&|$)` selects one instance's RDS calls). A call without a body never matches.
   */
  body?: string;
  latencyMs?: number;
  /** Never answer; the client's own timeout ends the call. */
  hang?: boolean;
  /** Reset the TCP connection (the client sees ECONNRESET). */
  reset?: boolean;
  /** Answer with this AWS error, in the service's wire format, without calling upstream. */
  error?: { status: number; code: string; message?: string };
  /** Ordered find/replace pairs on the upstream response body. */
  rewrite?: Rewrite[];
  /** Apply to this many calls, then expire. Default: forever. */
  times?: number;
  /** Chance in [0, 1] that the rule applies to a matching call. Default 1. */
  probability?: number;
}

export interface StoredRule {
  id: string;
  rule: FaultRule;
  /** Calls left before the rule expires; undefined = forever. */
  remaining: number | undefined;
}

export type Terminal = { kind: 'hang' } | { kind: 'reset' } | { kind: 'error'; error: NonNullable<FaultRule['error']> };

export interface FaultPlan {
  ruleIds: string[];
  latencyMs: number;
  terminal: Terminal | undefined;
  rewrites: Rewrite[];
}

const ruleKeys = new Set([
  'service',
  'action',
  'region',
  'route',
  'target',
  'path',
  'body',
  'latencyMs',
  'hang',
  'reset',
  'error',
  'rewrite',
  'times',
  'probability',
]);

const serviceAliases: Record<string, string> = {
  cloudwatch: 'monitoring',
  'route 53': 'route53',
  'route-53': 'route53',
};

export function canonicalService(name: string): string {
  const lower = name.toLowerCase();
  return serviceAliases[lower] ?? lower;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a rule received over the control API; returns the rule or a list of problems a person can act on. */
export function validateRule(input: unknown): { ok: true; rule: FaultRule } | { ok: false; problems: string[] } {
  if (!isRecord(input)) return { ok: false, problems: ['a rule must be a JSON object'] };
  const problems: string[] = [];
  for (const key of Object.keys(input)) {
    if (!ruleKeys.has(key)) problems.push(`unknown field "${key}"`);
  }
  for (const key of ['service', 'action', 'region', 'route', 'target', 'path', 'body'] as const) {
    if (input[key] !== undefined && typeof input[key] !== 'string') problems.push(`${key} must be a string`);
  }
  for (const key of ['path', 'body'] as const) {
    const source = input[key];
    if (typeof source !== 'string') continue;
    try {
      new RegExp(source);
    } catch (e) {
      problems.push(`${key} is not a valid regular expression: ${(e as Error).message}`);
    }
  }
  for (const key of ['hang', 'reset'] as const) {
    if (input[key] !== undefined && typeof input[key] !== 'boolean') problems.push(`${key} must be a boolean`);
  }
  const { latencyMs, times, probability, error, rewrite } = input;
  if (latencyMs !== undefined && !(typeof latencyMs === 'number' && latencyMs >= 0 && Number.isFinite(latencyMs))) {
    problems.push('latencyMs must be a number >= 0');
  }
  if (times !== undefined && !(Number.isInteger(times) && (times as number) >= 1)) {
    problems.push('times must be an integer >= 1');
  }
  if (probability !== undefined && !(typeof probability === 'number' && probability >= 0 && probability <= 1)) {
    problems.push('probability must be a number in [0, 1]');
  }
  if (error !== undefined) {
    if (!isRecord(error)) problems.push('error must be an object {status, code, message?}');
    else {
      const { status, code, message } = error;
      if (!(Number.isInteger(status) && (status as number) >= 400 && (status as number) <= 599)) {
        problems.push('error.status must be an HTTP error status (400-599)');
      }
      if (typeof code !== 'string' || code === '') problems.push('error.code must be a non-empty string');
      if (message !== undefined && typeof message !== 'string') problems.push('error.message must be a string');
    }
  }
  if (rewrite !== undefined) {
    if (!Array.isArray(rewrite)) problems.push('rewrite must be an array of {find, replace, flags?}');
    else {
      rewrite.forEach((pair: unknown, i) => {
        if (!isRecord(pair) || typeof pair.find !== 'string' || typeof pair.replace !== 'string') {
          problems.push(`rewrite[${i}] must be {find: string, replace: string, flags?: string}`);
          return;
        }
        try {
          new RegExp(pair.find, (pair.flags as string | undefined) ?? 'g');
        } catch (e) {
          problems.push(`rewrite[${i}] is not a valid regular expression: ${(e as Error).message}`);
        }
      });
    }
  }
  const terminals = [input.hang === true, input.reset === true, error !== undefined].filter(Boolean).length;
  if (terminals > 1) problems.push('choose at most one of hang, reset, error');
  if (terminals === 0 && latencyMs === undefined && rewrite === undefined) {
    problems.push('a rule needs an effect: latencyMs, hang, reset, error or rewrite');
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, rule: input as FaultRule };
}

/** What rules select on: an AWS call as classified, or a probe forward; plus where it arrived. */
export interface MatchableCall extends Pick<ClassifiedCall, 'service' | 'action' | 'region'> {
  /** Listener name; absent = `default`. */
  route?: string;
  /** Probe forwards: `host:port`; absent or '' for AWS calls. */
  target?: string;
  /** Path and query (probe forwards: as sent to the target). */
  path?: string;
  /** The request body as received ('' or absent when there is none). */
  body?: string;
}

const equalsIgnoringCase = (selector: string | undefined, value: string | undefined) =>
  selector === undefined || selector.toLowerCase() === (value ?? '').toLowerCase();

export function ruleMatches(rule: FaultRule, call: MatchableCall): boolean {
  if (rule.service !== undefined && canonicalService(rule.service) !== canonicalService(call.service)) return false;
  if (!equalsIgnoringCase(rule.action, call.action)) return false;
  if (!equalsIgnoringCase(rule.region, call.region)) return false;
  if (!equalsIgnoringCase(rule.route, call.route ?? 'default')) return false;
  if (rule.target !== undefined && (call.target === undefined || call.target === '')) return false;
  if (!equalsIgnoringCase(rule.target, call.target)) return false;
  if (rule.path !== undefined && !new RegExp(rule.path).test(call.path ?? '')) return false;
  if (
    rule.body !== undefined &&
    (call.body === undefined || call.body === '' || !new RegExp(rule.body).test(call.body))
  )
    return false;
  return true;
}

function terminalOf(rule: FaultRule): Terminal | undefined {
  if (rule.hang) return { kind: 'hang' };
  if (rule.reset) return { kind: 'reset' };
  if (rule.error) return { kind: 'error', error: rule.error };
  return undefined;
}

/** The active rules, in the order they were added. Not shared between proxies; one per server. */
export class FaultRuleBook {
  #rules: StoredRule[] = [];
  #nextId = 1;
  readonly #random: () => number;

  constructor(random: () => number = Math.random) {
    this.#random = random;
  }

  add(rule: FaultRule): string {
    const id = `rule-${this.#nextId++}`;
    this.#rules.push({ id, rule, remaining: rule.times });
    return id;
  }

  remove(id: string): boolean {
    const before = this.#rules.length;
    this.#rules = this.#rules.filter((r) => r.id !== id);
    return this.#rules.length < before;
  }

  clear(): void {
    this.#rules = [];
  }

  list(): StoredRule[] {
    return this.#rules.map((r) => ({ ...r }));
  }

  /** Decides what to do to one call and spends one use of every rule that applied. */
  plan(call: MatchableCall): FaultPlan {
    const plan: FaultPlan = { ruleIds: [], latencyMs: 0, terminal: undefined, rewrites: [] };
    for (const stored of this.#rules) {
      const { rule } = stored;
      if (!ruleMatches(rule, call)) continue;
      if (rule.probability !== undefined && this.#random() >= rule.probability) continue;
      plan.ruleIds.push(stored.id);
      plan.latencyMs += rule.latencyMs ?? 0;
      plan.terminal ??= terminalOf(rule);
      plan.rewrites.push(...(rule.rewrite ?? []));
      if (stored.remaining !== undefined) stored.remaining -= 1;
    }
    this.#rules = this.#rules.filter((r) => r.remaining === undefined || r.remaining > 0);
    return plan;
  }
}

/** Short label for the request log: `pass`, or the effects joined by `+` (`latency+error`). */
export function describePlan(plan: FaultPlan): string {
  const parts: string[] = [];
  if (plan.latencyMs > 0) parts.push('latency');
  if (plan.terminal) parts.push(plan.terminal.kind);
  else if (plan.rewrites.length > 0) parts.push('rewrite');
  return parts.length > 0 ? parts.join('+') : 'pass';
}

export function applyRewrites(body: string, rewrites: readonly Rewrite[]): string {
  return rewrites.reduce(
    (text, { find, replace, flags }) => text.replace(new RegExp(find, flags ?? 'g'), replace),
    body,
  );
}
