// The HTTP probe's real client: node:http / node:https with the probe target guard's lookup on the socket, so the
// address checked is the address connected to (probe-target-guard.ts). Global fetch (undici) does not take a
// per-request lookup without a dispatcher from the undici package, which is not a dependency; a probe needs one GET
// with a status and a body prefix, which node:http gives directly.
//
// Redirects are never followed (a 3xx is an answer like any other status, judged against expectStatus), so a
// redirect to a metadata address is not a way around the guard: nothing connects to its Location.

import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import type { FetchLike } from './probe-http.ts';
import type { ProbeTargetGuard } from './probe-target-guard.ts';

export function createGuardedFetch(guard: ProbeTargetGuard): FetchLike {
  return (url, init) =>
    new Promise((resolve, reject) => {
      const target = new URL(url);
      try {
        guard.checkLiteral(target.hostname);
      } catch (err) {
        reject(err);
        return;
      }
      const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = request(
        target,
        {
          method: init.method,
          signal: init.signal,
          lookup: guard.lookup,
          // One connection per probe run: a pooled socket would skip the lookup (and so the check) next time.
          agent: false,
          headers: { 'user-agent': 'failover-operator-probe', ...init.headers },
        },
        (res: IncomingMessage) => {
          resolve({
            status: res.statusCode ?? 0,
            body: Readable.toWeb(res) as ReadableStream<Uint8Array>,
            text: async () => {
              const chunks: Buffer[] = [];
              for await (const chunk of res) chunks.push(chunk as Buffer);
              return Buffer.concat(chunks).toString('utf8');
            },
          });
        },
      );
      req.once('error', reject);
      req.end();
    });
}
