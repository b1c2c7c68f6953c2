// The fault-injecting HTTP proxy between the AWS SDK clients and moto.
//
// Requests are buffered whole (AWS API bodies are small) because the operation name of a query-protocol call
// is in the form body. Responses stream through untouched unless a rewrite applies; then they are buffered,
// edited and re-measured. The control API lives under /__faults on the same port so a test needs one address.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ClassifiedCall, classifyCall } from './classify.ts';
import { renderAwsError } from './errors.ts';
import { applyRewrites, describePlan, type FaultPlan, FaultRuleBook, validateRule } from './rules.ts';

/** DynamoDB operations that write items (conditionally or not). */
const DYNAMODB_WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);
export interface LogEntry {
  at: string;
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

export interface FaultProxy {
  server: http.Server;
  rules: FaultRuleBook;
  log(): LogEntry[];
  /** Stops listening and drops every open connection, including hung calls. */
  close(): Promise<void>;
}

const controlPrefix = '/__faults';

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

  function record(call: ClassifiedCall, req: http.IncomingMessage, plan: FaultPlan, status: number): void {
    entries.push({
      at: new Date().toISOString(),
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
    if (path === '/log' && method === 'GET') return sendJson(res, 200, entries);
    if (path === '/log' && method === 'DELETE') {
      entries.length = 0;
      return sendJson(res, 200, { cleared: true });
    }
    return sendJson(res, 404, { problems: [`no control endpoint ${method} ${controlPrefix}${path}`] });
  }

  // DynamoDB writes in flight upstream, one at a time (see handleAws).
  let dynamoWrites: Promise<void> = Promise.resolve();

  async function handleAws(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readBody(req);
    const call = classifyCall({
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      body: body.toString('utf8'),
    });
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
      const rendered = renderAwsError(call.protocol, terminal.error, requestId, req.headers['content-type'] ?? '');
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
    // A rewrite needs a plain-text body to search; ask upstream not to compress it.
    if (plan.rewrites.length > 0) delete headers['accept-encoding'];
    const upstreamReq = http.request({
      protocol: upstream.protocol,
      hostname: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
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
      if (!res.headersSent) sendJson(res, 502, { problems: [`upstream ${upstream.origin}: ${err.message}`] });
      else res.destroy(err);
    }
  }

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://proxy').pathname;
    const work = path.startsWith(`${controlPrefix}/`)
      ? handleControl(req, res, path.slice(controlPrefix.length))
      : handleAws(req, res);
    work.catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { problems: [String(err)] });
      else res.destroy();
    });
  });
  // Hung calls must stay hung for as long as the client waits, not for Node's default limits.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;

  return {
    server,
    rules,
    log: () => [...entries],
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of hung) socket.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
