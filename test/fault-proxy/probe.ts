// Probe forwards: a plain HTTP request on a proxy port under `/probe/<host:port>/<path>` is sent to
// `http://<host:port>/<path>`, so an operator whose probe URLs point there reaches its probe targets through the
// proxy (and through its own route), and fault rules can break the path between it and the target.
//
// Only loopback targets are forwarded: the proxy is a test tool, not an open relay.

export const PROBE_PREFIX = '/probe/';

export interface ProbeForward {
  /** `host:port` as written in the URL, e.g. `127.0.0.1:4567`. */
  target: string;
  hostname: string;
  port: number;
  /** Path and query sent to the target, always starting with `/`. */
  path: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Parses `/probe/<host:port>[/path][?query]`. Returns undefined when the URL is not a probe forward, and a string
 * (the problem) when it is one the proxy will not forward.
 */
export function parseProbeForward(url: string): ProbeForward | string | undefined {
  if (!url.startsWith(PROBE_PREFIX)) return undefined;
  const rest = url.slice(PROBE_PREFIX.length);
  const end = rest.search(/[/?]/);
  const target = (end === -1 ? rest : rest.slice(0, end)).toLowerCase();
  let path = end === -1 ? '/' : rest.slice(end);
  if (path.startsWith('?')) path = `/${path}`;
  const m = /^(\[::1\]|[^:[\]]+):(\d{1,5})$/.exec(target);
  if (!m?.[1] || !m[2]) return `probe target must be host:port, got "${target}"`;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return `probe target port out of range: ${target}`;
  if (!LOOPBACK.has(m[1])) return `probe targets must be on loopback (127.0.0.1, localhost, [::1]), got ${m[1]}`;
  return { target, hostname: m[1] === '[::1]' ? '::1' : m[1], port, path };
}

/**
 * The URL that reaches `targetUrl` (`http://127.0.0.1:4567/some/{zone}`) through a proxy listener
 * (`http://127.0.0.1:PORT`): `http://127.0.0.1:PORT/probe/127.0.0.1:4567/some/{zone}`. Plain string work, so
 * templates such as `{zone}` pass through unencoded.
 */
export function probeUrlVia(proxyUrl: string, targetUrl: string): string {
  const m = /^http:\/\/([^/?#]+)(.*)$/i.exec(targetUrl);
  if (!m?.[1]) throw new Error(`probe target must be an http:// URL, got ${targetUrl}`);
  const hostPort = m[1].includes(':') && !m[1].endsWith(']') ? m[1] : `${m[1]}:80`;
  return `${proxyUrl.replace(/\/+$/, '')}${PROBE_PREFIX}${hostPort}${m[2] ?? ''}`;
}
