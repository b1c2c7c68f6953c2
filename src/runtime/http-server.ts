import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';

/**
 * The kubelet's probe endpoint, plain HTTP on its own port (as controller-runtime's health probe address), so the
 * metrics port can require TLS and a token without the kubelet needing either:
 * - `/healthz` — 200 while the process serves requests (liveness: restart only a wedged process).
 * - `/readyz`  — 200 when every readiness check passes, else 503 listing them (informers synced, not stopping).
 * /metrics is served by metrics-server.ts.
 */
export interface HealthServerOptions {
  port: number;
  host?: string;
  readiness: () => Record<string, boolean>;
  logger: Logger;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const { readiness, logger } = options;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
    if (path === '/healthz' || path === '/livez') return send(res, 200, 'text/plain', 'ok\n');
    if (path === '/readyz') {
      const checks = readiness();
      const ready = Object.values(checks).every(Boolean);
      const body = Object.entries(checks)
        .map(([name, ok]) => `[${ok ? '+' : '-'}]${name} ${ok ? 'ok' : 'failed'}`)
        .join('\n');
      return send(res, ready ? 200 : 503, 'text/plain', `${body}\n${ready ? 'ok' : 'not ready'}\n`);
    }
    return send(res, 404, 'text/plain', 'not found\n');
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err, url: req.url }, 'Health server request failed');
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  logger.info({ port, host: options.host }, 'Started health probe server');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}
