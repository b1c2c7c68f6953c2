// /metrics on its own port, plain HTTP or — as kubebuilder scaffolds it by default — HTTPS with authentication and
// authorization (metrics-auth.ts: TokenReview, then a SubjectAccessReview for GET /metrics). The certificate comes
// from a mounted directory, re-read when it changes, or is self-signed at start-up (serving-cert.ts).

import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { send } from './http-server.ts';
import type { MetricsAccessDecision } from './metrics-auth.ts';
import { CERT_RELOAD_CHECK_MS, certVersion, readServingCert, type ServingCert } from './serving-cert.ts';

export interface SecureMetricsOptions {
  cert: ServingCert;
  /** The directory `cert` was read from: checked every CERT_RELOAD_CHECK_MS and re-read when it changes. */
  certDir?: string;
  /** Decides each request from its Authorization header (createMetricsAuthorizer). */
  authorize: (authorization: string | undefined, path: string) => Promise<MetricsAccessDecision>;
}

export interface MetricsServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  /** HTTPS with a bearer token reviewed by the apiserver; absent: plain HTTP, no authentication. */
  secure?: SecureMetricsOptions;
  logger: Logger;
}

export interface MetricsServer {
  port: number;
  secure: boolean;
  close(): Promise<void>;
}

export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const { registry, secure, logger } = options;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
    if (path !== '/metrics') return send(res, 404, 'text/plain', 'not found\n');
    if (secure) {
      const decision = await secure.authorize(req.headers.authorization, path);
      if (decision.status !== 200) {
        logger.debug(
          { status: decision.status, user: decision.user, reason: decision.reason, remote: req.socket.remoteAddress },
          'Refused metrics request',
        );
        const headers = decision.status === 401 ? { 'www-authenticate': 'Bearer' } : {};
        res.writeHead(decision.status, { 'content-type': 'text/plain', 'cache-control': 'no-store', ...headers });
        res.end(
          `${decision.status === 401 ? 'Unauthorized' : decision.status === 403 ? 'Forbidden' : 'Internal Server Error'}: ${decision.reason}\n`,
        );
        return;
      }
    }
    return send(res, 200, registry.contentType, await registry.metrics());
  };
  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err, url: req.url }, 'Metrics request failed');
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
      else res.destroy();
    });
  };
  const server = secure
    ? createHttpsServer({ cert: secure.cert.cert, key: secure.cert.key, minVersion: 'TLSv1.2' }, listener)
    : createHttpServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });

  // A renewed certificate (cert-manager rotates the Secret; kubelet swaps the files) is served without a restart.
  let reload: NodeJS.Timeout | undefined;
  if (secure?.certDir !== undefined && 'setSecureContext' in server) {
    const dir = secure.certDir;
    let version = await certVersion(dir).catch(() => '');
    reload = setInterval(() => {
      void (async () => {
        const now = await certVersion(dir);
        if (now === version) return;
        const cert = await readServingCert(dir);
        server.setSecureContext({ cert: cert.cert, key: cert.key });
        version = now;
        logger.info({ certDir: dir }, 'Reloaded metrics serving certificate');
      })().catch((err: unknown) => logger.warn({ err, certDir: dir }, 'Could not reload metrics serving certificate'));
    }, CERT_RELOAD_CHECK_MS);
    reload.unref();
  }

  const { port } = server.address() as AddressInfo;
  logger.info(
    {
      port,
      host: options.host,
      secure: secure !== undefined,
      ...(secure ? { cert: secure.cert.source } : {}),
    },
    secure ? 'Started metrics server (HTTPS, authenticated and authorized)' : 'Started metrics server (plain HTTP)',
  );
  return {
    port,
    secure: secure !== undefined,
    close: () =>
      new Promise<void>((resolve) => {
        if (reload) clearInterval(reload);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
