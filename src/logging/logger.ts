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

export function createLogger(opts: { level: string; name: string }, destination?: DestinationStream): Logger {
  const options = {
    level: opts.level,
    name: opts.name,
    redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
