// The operator's logger: structured pino lines (Kubernetes style: past tense, key-value fields naming policy,
// zone, region, action and rule), with credentials redacted wherever they appear in a logged object. Nothing the
// operator logs on purpose carries a secret; the redaction is the net under mistakes (an SDK error that echoes a
// request, a config object logged whole).

import pino, { type DestinationStream, type Logger } from 'pino';

/** Field paths whose values are replaced by "[redacted]" in every log line. */
export const REDACTED_PATHS: readonly string[] = [
  'accessKeyId',
  'secretAccessKey',
  'sessionToken',
  'credentials',
  'authorization',
  'token',
  'password',
  '*.accessKeyId',
  '*.secretAccessKey',
  '*.sessionToken',
  '*.credentials',
  '*.authorization',
  '*.Authorization',
  '*.token',
  '*.password',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.*.secretAccessKey',
  '*.*.sessionToken',
  '*.*.authorization',
  '*.*.Authorization',
  // SDK and HTTP errors nest the signed request: err.request.headers.authorization, err.$response.headers…
  '*.*.headers.authorization',
  '*.*.headers.Authorization',
  '*.*.headers["x-amz-security-token"]',
];

/** json: one JSON object per line (for log pipelines); console: one readable line per entry (for a terminal). */
export type LogFormat = 'json' | 'console';

/**
 * Lines as Kubernetes log tooling reads them: `"level":"info"` (not pino's 30), an ISO 8601 `time`, and the
 * message under `msg`.
 */
export function createLogger(
  opts: { level: string; name: string; format?: LogFormat },
  destination?: DestinationStream,
): Logger {
  const options = {
    level: opts.level,
    name: opts.name,
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
    formatters: { level: (label: string) => ({ level: label }) },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  const out = destination ?? pino.destination(1);
  return pino(options, opts.format === 'console' ? consoleStream(out) : out);
}

const CONSOLE_OMIT = new Set(['level', 'time', 'msg', 'name', 'pid', 'hostname']);

/** One JSON line as `2026-12-06T03:16:13.000Z INFO  Started workers controller=failoverpolicy workers=16`. */
export function formatConsoleLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const fields = Object.entries(entry)
    .filter(([k]) => !CONSOLE_OMIT.has(k))
    .map(([k, v]) => {
      if (k === 'err' && v !== null && typeof v === 'object') {
        const e = v as { message?: unknown; stack?: unknown };
        return `err=${JSON.stringify(e.message ?? '')}${typeof e.stack === 'string' ? `\n${e.stack}` : ''}`;
      }
      const text = typeof v === 'string' ? v : JSON.stringify(v);
      return `${k}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
    });
  const level = String(entry.level ?? '')
    .toUpperCase()
    .padEnd(5);
  return [entry.time, level, entry.msg, ...fields].filter((p) => p !== undefined && p !== '').join(' ');
}

function consoleStream(out: DestinationStream): DestinationStream {
  return {
    write(chunk: string) {
      for (const line of chunk.split('\n')) if (line !== '') out.write(`${formatConsoleLine(line)}\n`);
    },
  };
}
