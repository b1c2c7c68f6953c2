// The metrics server on loopback: plain HTTP as before; HTTPS with a self-signed certificate and the authorizer's
// answers; a mounted certificate re-read when it changes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { MetricsAccessDecision } from './metrics-auth.ts';
import { type MetricsServer, startMetricsServer } from './metrics-server.ts';
import { CERT_RELOAD_CHECK_MS, readServingCert, selfSignedServingCert } from './serving-cert.ts';

const logger = pino({ level: 'silent' });
let server: MetricsServer | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await server?.close();
  server = undefined;
});

function registryWithSample(): Registry {
  const registry = new Registry();
  new Counter({ name: 'fo_test_total', help: 'test', registers: [registry] }).inc();
  return registry;
}

/** GET over HTTPS without verifying the self-signed certificate; status, body and the certificate seen. */
function httpsGet(port: number, headers: Record<string, string> = {}, pathname = '/metrics') {
  return new Promise<{ status: number; body: string; fingerprint: string }>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: pathname, headers, rejectUnauthorized: false, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            fingerprint: (
              res.socket as unknown as { getPeerCertificate(): { fingerprint256: string } }
            ).getPeerCertificate().fingerprint256,
          }),
        );
      },
    );
    req.once('error', reject);
    req.end();
  });
}

describe('startMetricsServer', () => {
  it('plain: serves /metrics to anyone, and nothing else', async () => {
    server = await startMetricsServer({ port: 0, host: '127.0.0.1', registry: registryWithSample(), logger });
    const base = `http://127.0.0.1:${server.port}`;
    expect(await (await fetch(`${base}/metrics`)).text()).toContain('fo_test_total 1');
    expect((await fetch(`${base}/healthz`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('secure: HTTPS only, the authorizer decides each request from its Authorization header', async () => {
    const seen: Array<string | undefined> = [];
    const authorize = async (header: string | undefined): Promise<MetricsAccessDecision> => {
      seen.push(header);
      if (header === 'Bearer good') return { status: 200, reason: 'allowed', user: 'reader' };
      if (header === 'Bearer other') return { status: 403, reason: 'user other may not get /metrics', user: 'other' };
      return { status: 401, reason: 'no bearer token' };
    };
    const cert = await selfSignedServingCert(['failover-operator-0', 'localhost', '127.0.0.1']);
    server = await startMetricsServer({
      port: 0,
      host: '127.0.0.1',
      registry: registryWithSample(),
      secure: { cert, authorize },
      logger,
    });
    expect(server.secure).toBe(true);
    const ok = await httpsGet(server.port, { authorization: 'Bearer good' });
    expect(ok).toMatchObject({ status: 200 });
    expect(ok.body).toContain('fo_test_total 1');
    expect(await httpsGet(server.port, { authorization: 'Bearer other' })).toMatchObject({
      status: 403,
      body: 'Forbidden: user other may not get /metrics\n',
    });
    expect(await httpsGet(server.port)).toMatchObject({ status: 401, body: 'Unauthorized: no bearer token\n' });
    expect(seen).toEqual(['Bearer good', 'Bearer other', undefined]);
    // Plain HTTP on the secure port gets no metrics.
    await expect(fetch(`http://127.0.0.1:${server.port}/metrics`)).rejects.toThrow();
  });

  it('a mounted certificate is re-read when its files change, without a restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fo-cert-'));
    const write = async (cn: string) => {
      const c = await selfSignedServingCert([cn]);
      writeFileSync(path.join(dir, 'tls.crt'), c.cert);
      writeFileSync(path.join(dir, 'tls.key'), c.key);
    };
    await write('first');
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    server = await startMetricsServer({
      port: 0,
      host: '127.0.0.1',
      registry: registryWithSample(),
      secure: { cert: await readServingCert(dir), certDir: dir, authorize: async () => ({ status: 200, reason: '' }) },
      logger,
    });
    const before = (await httpsGet(server.port)).fingerprint;
    await new Promise((r) => setTimeout(r, 20)); // a later mtime
    await write('second');
    await vi.advanceTimersByTimeAsync(CERT_RELOAD_CHECK_MS);
    await vi.waitFor(async () => expect((await httpsGet(server!.port)).fingerprint).not.toBe(before));
  });
});
