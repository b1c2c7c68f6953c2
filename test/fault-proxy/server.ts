// The fault-injecting HTTP proxy between the AWS SDK clients and moto, and (probe forwards, probe.ts) between an
// operator and its loopback HTTP probe targets.
//
// Routes: besides its main port (route `default`) the proxy can listen on more ports, each labelled with a route
// name (`a`, `b`, ...; one per vantage point). A call carries the name of the port it arrived on, rules can select
// it (`route`), and the log records it, so a test can break one vantage's path to AWS or to a probe target alone.
// Every port serves the same handler: AWS calls go to moto, `/probe/<host:port>/...` to that target, and the
// control API answers on each.
//
// Requests are buffered whole (AWS API bodies are small) because the operation name of a query-protocol call
// is in the form body. Responses stream through untouched unless a rewrite applies; then they are buffered,
// edited and re-measured. The control API lives under /__faults on the same port so a test needs one address.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import net, { type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ClassifiedCall, classifyCall } from './classify.ts';
import { renderAwsError } from './errors.ts';
import { parseProbeForward } from './probe.ts';
import {
  applyRewrites,
  describePlan,
  type FaultPlan,
  FaultRuleBook,
  type MatchableCall,
  validateRule,
} from './rules.ts';

/** DynamoDB operations that write items (conditionally or not). */
const DYNAMODB_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
export interface LogEntry {
  at: string;
  /** Listener the call arrived on: `default` or a route name. */
  route: string;
  /** Probe forwards: the `host:port` forwarded to; '' for AWS calls. */
  target: string;
  service: string;
  region: string;
  action: string;
  /** Status sent to the client; 0 when the call was hung or reset. */
  status: number;
  effect: string;
  method: string;
  path: string;
  ruleIds: string[];
}

export interface FaultProxyOptions {
  /** Base URL of the real service (moto), e.g. http://127.0.0.1:5000. */
  upstream: string;
  /** How many recent calls GET /__faults/log keeps. */
  logLimit?: number;
  random?: () => number;
}

export interface RouteInfo {
  name: string;
  port: number;
}

export interface FaultProxy {
  /** The main listener (route `default`); the caller listens on it. */
  server: http.Server;
  rules: FaultRuleBook;
  log(): LogEntry[];
  /** Opens a listener for route `name` on `port` (0: any free port) at `host`; resolves with its port. */
  openRoute(name: string, port?: number, host?: string): Promise<RouteInfo>;
  closeRoute(name: string): Promise<boolean>;
  /** Every listener, `default` (when listening) first. */
  routes(): RouteInfo[];
  /** Stops listening and drops every open connection, including hung calls. */
  close(): Promise<void>;
}

const controlPrefix = '/__faults';
export const DEFAULT_ROUTE = 'default';
const ROUTE_NAME = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

/** Why a route name cannot be used, or undefined when it can. */
export function routeNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || !ROUTE_NAME.test(name)) {
    return 'route name must be a DNS label of at most 32 characters (a-z, 0-9, -)';
  }
  if (name === DEFAULT_ROUTE) return `"${DEFAULT_ROUTE}" is the main port's route`;
  return undefined;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

export function createFaultProxy(options: FaultProxyOptions): FaultProxy {
  const upstream = new URL(options.upstream);
  const logLimit = options.logLimit ?? 500;
  const rules = new FaultRuleBook(options.random);
  const entries: LogEntry[] = [];
  const hung = new Set<Socket>();

  const routeServers = new Map<string, net.Server>();
  const routeOf = new WeakMap<Socket, string>();

  function record(call: MatchableCall, req: http.IncomingMessage, plan: FaultPlan, status: number): void {
    entries.push({
      at: new Date().toISOString(),
      route: call.route ?? DEFAULT_ROUTE,
      target: call.target ?? '',
      service: call.service,
      region: call.region,
      action: call.action,
      status,
      effect: describePlan(plan),
      method: req.method ?? '',
      path: req.url ?? '',
      ruleIds: plan.ruleIds,
    });
    if (entries.length > logLimit) entries.splice(0, entries.length - logLimit);
  }

  async function handleControl(req: http.IncomingMessage, res: http.ServerResponse, path: string): Promise<void> {
    const method = req.method ?? 'GET';
    if (path === '/health' && method === 'GET') return sendJson(res, 200, { ok: true, upstream: upstream.origin });
    if (path === '/rules' && method === 'GET') return sendJson(res, 200, rules.list());
    if (path === '/rules' && method === 'DELETE') {
      rules.clear();
      return sendJson(res, 200, { cleared: true });
    }
    if (path === '/rules' && method === 'POST') {
      let parsed: unknown;
      try {
        parsed = JSON.parse((await readBody(req)).toString('utf8'));
      } catch {
        return sendJson(res, 400, { problems: ['body must be JSON'] });
      }
      const checked = validateRule(parsed);
      if (!checked.ok) return sendJson(res, 400, { problems: checked.problems });
      return sendJson(res, 201, { id: rules.add(checked.rule) });
    }
    const one = /^\/rules\/([^/]+)$/.exec(path);
    if (one?.[1] && method === 'DELETE') {
      return rules.remove(one[1]) ? sendJson(res, 200, { removed: one[1] }) : sendJson(res, 404, { missing: one[1] });
    }
    if (path === '/routes' && method === 'GET') return sendJson(res, 200, listRoutes());
    if (path === '/routes' && method === 'POST') {
      let parsed: { name?: unknown; port?: unknown };
      try {
        parsed = JSON.parse((await readBody(req)).toString('utf8')) as typeof parsed;
      } catch {
        return sendJson(res, 400, { problems: ['body must be JSON {name, port?}'] });
      }
      const problem = routeNameProblem(parsed?.name);
      const port = parsed?.port ?? 0;
      if (problem) return sendJson(res, 400, { problems: [problem] });
      if (!(Number.isInteger(port) && (port as number) >= 0 && (port as number) <= 65535)) {
        return sendJson(res, 400, { problems: ['port must be an integer in [0, 65535] (0: any free port)'] });
      }
      const name = parsed.name as string;
      const existing = listRoutes().find((r) => r.name === name);
      if (existing) {
        // Idempotent: asking again for an open route (on any port, or on its port) returns it.
        if (port === 0 || port === existing.port) return sendJson(res, 200, existing);
        return sendJson(res, 409, { problems: [`route ${name} is open on port ${existing.port}`] });
      }
      const host = (req.socket.localAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
      try {
        return sendJson(res, 201, await openRoute(name, port as number, host));
      } catch (err) {
        return sendJson(res, 409, { problems: [`cannot listen on ${host}:${port}: ${(err as Error).message}`] });
      }
    }
    const oneRoute = /^\/routes\/([^/]+)$/.exec(path);
    if (oneRoute?.[1] && method === 'DELETE') {
      const name = decodeURIComponent(oneRoute[1]);
      return (await closeRoute(name)) ? sendJson(res, 200, { removed: name }) : sendJson(res, 404, { missing: name });
    }
    if (path === '/log' && method === 'GET') return sendJson(res, 200, entries);
    if (path === '/log' && method === 'DELETE') {
      entries.length = 0;
      return sendJson(res, 200, { cleared: true });
    }
    return sendJson(res, 404, { problems: [`no control endpoint ${method} ${controlPrefix}${path}`] });
  }

  // DynamoDB writes in flight upstream, one at a time (see handleAws).
  let dynamoWrites: Promise<void> = Promise.resolve();

  async function handleCall(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req);
    const text = body.toString('utf8');
    const route = routeOf.get(req.socket) ?? DEFAULT_ROUTE;
    const probe = parseProbeForward(req.url ?? '/');
    if (typeof probe === 'string') return sendJson(res, 400, { problems: [probe] });
    // A probe forward is plain HTTP to a loopback target: no AWS classification, no AWS error envelope.
    const aws: ClassifiedCall | undefined = probe
      ? undefined
      : classifyCall({
          method: req.method ?? 'GET',
          url: req.url ?? '/',
          headers: req.headers,
          body: text,
        });
    const call: MatchableCall = probe
      ? {
          service: 'probe',
          region: '',
          action: req.method ?? 'GET',
          route,
          target: probe.target,
          path: probe.path,
          body: text,
        }
      : { ...(aws as ClassifiedCall), route, target: '', path: req.url ?? '/', body: text };
    const destination = probe
      ? {
          protocol: 'http:',
          hostname: probe.hostname,
          port: probe.port,
          path: probe.path,
          origin: `http://${probe.target}`,
        }
      : {
          protocol: upstream.protocol,
          hostname: upstream.hostname,
          port: upstream.port,
          path: req.url,
          origin: upstream.origin,
        };
    const plan = rules.plan(call);
    if (plan.latencyMs > 0) await sleep(plan.latencyMs);

    const terminal = plan.terminal;
    if (terminal?.kind === 'hang') {
      // Keep the socket open and silent; the client's requestTimeout must end it. Tracked so close() can drop it.
      record(call, req, plan, 0);
      hung.add(req.socket);
      req.socket.once('close', () => hung.delete(req.socket));
      return;
    }
    if (terminal?.kind === 'reset') {
      record(call, req, plan, 0);
      req.socket.resetAndDestroy();
      return;
    }
    if (terminal?.kind === 'error') {
      const requestId = randomUUID();
      const rendered = aws
        ? renderAwsError(aws.protocol, terminal.error, requestId, req.headers['content-type'] ?? '')
        : {
            status: terminal.error.status,
            headers: { 'content-type': 'text/plain; charset=utf-8' },
            body: `${terminal.error.code}: ${terminal.error.message ?? 'injected by the fault proxy'}\n`,
          };
      record(call, req, plan, rendered.status);
      res.writeHead(rendered.status, { ...rendered.headers, 'content-length': Buffer.byteLength(rendered.body) });
      res.end(rendered.body);
      return;
    }

    // moto applies a DynamoDB condition as check-then-set on its own request thread, so two conditional writes to
    // one item at the same instant can both pass (2 in 200 racing PutItems did). DynamoDB applies the writes to an
    // item one at a time; so that tests of conditional writes see that, DynamoDB writes go upstream one at a time.
    if (call.service === 'dynamodb' && DYNAMODB_WRITES.has(call.action)) {
      const previous = dynamoWrites;
      let release = () => {};
      dynamoWrites = new Promise((resolve) => {
        release = resolve;
      });
      res.once('close', () => release());
      await previous;
    }

    const headers = { ...req.headers };
    if (probe) headers.host = probe.target;
    // A rewrite needs a plain-text body to search; ask upstream not to compress it.
    if (plan.rewrites.length > 0) delete headers['accept-encoding'];
    const upstreamReq = http.request({
      protocol: destination.protocol,
      hostname: destination.hostname,
      port: destination.port,
      method: req.method,
      path: destination.path,
      headers,
    });
    upstreamReq.on('response', (upstreamRes) => {
      const status = upstreamRes.statusCode ?? 502;
      if (plan.rewrites.length === 0) {
        record(call, req, plan, status);
        res.writeHead(status, upstreamRes.headers);
        upstreamRes.pipe(res);
        return;
      }
      readBody(upstreamRes).then((raw) => {
        const edited = applyRewrites(raw.toString('utf8'), plan.rewrites);
        const outHeaders = { ...upstreamRes.headers, 'content-length': String(Buffer.byteLength(edited)) };
        delete outHeaders['transfer-encoding'];
        record(call, req, plan, status);
        res.writeHead(status, outHeaders);
        res.end(edited);
      }, fail);
    });
    upstreamReq.on('error', fail);
    upstreamReq.end(body);

    function fail(err: Error): void {
      // Upstream itself failed: say so plainly (502) rather than hanging the test.
      record(call, req, plan, 502);
      if (!res.headersSent) sendJson(res, 502, { problems: [`upstream ${destination.origin}: ${err.message}`] });
      else res.destroy(err);
    }
  }

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://proxy').pathname;
    const work = path.startsWith(`${controlPrefix}/`)
      ? handleControl(req, res, path.slice(controlPrefix.length))
      : handleCall(req, res);
    work.catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { problems: [String(err)] });
      else res.destroy();
    });
  });
  // Hung calls must stay hung for as long as the client waits, not for Node's default limits.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;

  function listRoutes(): RouteInfo[] {
    const out: RouteInfo[] = [];
    const main = server.address();
    if (main && typeof main === 'object') out.push({ name: DEFAULT_ROUTE, port: main.port });
    for (const [name, listener] of routeServers) {
      const address = listener.address();
      if (address && typeof address === 'object') out.push({ name, port: address.port });
    }
    return out;
  }

  function openRoute(name: string, port = 0, host = '127.0.0.1'): Promise<RouteInfo> {
    const problem = routeNameProblem(name);
    if (problem) return Promise.reject(new Error(problem));
    if (routeServers.has(name)) return Promise.reject(new Error(`route ${name} is already open`));
    // A plain TCP listener whose connections the one HTTP server handles: same handler, same connection tracking
    // (closeAllConnections), and the socket remembers its route.
    const listener = net.createServer((socket) => {
      routeOf.set(socket, name);
      server.emit('connection', socket);
    });
    routeServers.set(name, listener);
    return new Promise((resolve, reject) => {
      listener.once('error', (err) => {
        routeServers.delete(name);
        reject(err);
      });
      listener.listen(port, host, () => {
        resolve({ name, port: (listener.address() as net.AddressInfo).port });
      });
    });
  }

  function closeRoute(name: string): Promise<boolean> {
    const listener = routeServers.get(name);
    if (!listener) return Promise.resolve(false);
    routeServers.delete(name);
    return new Promise((resolve) => listener.close(() => resolve(true)));
  }

  return {
    server,
    rules,
    log: () => [...entries],
    openRoute,
    closeRoute,
    routes: listRoutes,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of hung) socket.destroy();
        for (const name of [...routeServers.keys()]) void closeRoute(name);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
