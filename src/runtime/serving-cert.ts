// The serving certificate of the secure metrics port, as controller-runtime's metrics server finds one: `tls.crt`
// and `tls.key` in a directory (a mounted Secret, e.g. one cert-manager issues and renews), re-read when they
// change so a renewal needs no restart; or, when no directory is given, a self-signed certificate generated at
// start-up (Prometheus then scrapes with insecureSkipVerify, still with a bearer token).

import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { generate } from 'selfsigned';

export interface ServingCert {
  cert: string;
  key: string;
  /** Where it came from, for the start-up log: the directory, or `self-signed`. */
  source: string;
}

/** How often a mounted certificate is checked for a change (kubelet updates a Secret volume within about a minute). */
export const CERT_RELOAD_CHECK_MS = 30_000;

/** `tls.crt` and `tls.key` from `dir`, as Kubernetes TLS Secrets name them. */
export async function readServingCert(dir: string): Promise<ServingCert> {
  const [cert, key] = await Promise.all([
    readFile(path.join(dir, 'tls.crt'), 'utf8'),
    readFile(path.join(dir, 'tls.key'), 'utf8'),
  ]);
  return { cert, key, source: dir };
}

/** A fingerprint of the files' change times: a Secret volume swaps both files at once (atomic symlink). */
export async function certVersion(dir: string): Promise<string> {
  const [crt, key] = await Promise.all([stat(path.join(dir, 'tls.crt')), stat(path.join(dir, 'tls.key'))]);
  return `${crt.mtimeMs}/${crt.size}/${key.mtimeMs}/${key.size}`;
}

/** A self-signed certificate for `hosts` (the pod's names), valid a year: the pod restarts long before. */
export async function selfSignedServingCert(hosts: readonly string[], now: Date = new Date()): Promise<ServingCert> {
  const notAfter = new Date(now.getTime() + 365 * 24 * 3600 * 1000);
  const pems = await generate([{ name: 'commonName', value: hosts[0] ?? 'failover-operator' }], {
    keyType: 'ec',
    curve: 'P-256',
    notBeforeDate: now,
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: hosts.map((h) =>
          /^[\d.]+$|:/.test(h) ? { type: 7 as const, ip: h } : { type: 2 as const, value: h },
        ),
      },
    ],
  });
  return { cert: pems.cert, key: pems.private, source: 'self-signed' };
}
