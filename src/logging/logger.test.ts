import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, formatConsoleLine } from './logger.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'info', name: 'test' }, stream) };
}

describe('createLogger', () => {
  it('never writes credentials, wherever they sit in a logged object', () => {
    const { lines, logger } = capture();
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    logger.info({ credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: secret } }, 'loaded config');
    logger.info({ config: { awsCredentials: { secretAccessKey: secret, sessionToken: 'tok-123' } } }, 'started');
    logger.warn({ err: { request: { headers: { authorization: `AWS4-HMAC-SHA256 Signature=${secret}` } } } }, 'failed');
    logger.info({ token: 'k8s-bearer-token' }, 'minted');
    const out = lines.join('');
    expect(out).not.toContain(secret);
    expect(out).not.toContain('tok-123');
    expect(out).not.toContain('k8s-bearer-token');
    expect(out).toContain('[redacted]');
  });

  it('keeps the operational fields: policy, zone, region, action, rule', () => {
    const { lines, logger } = capture();
    logger.info(
      { policy: 'shop/orders', zone: 'us-east-1a', region: 'us-east-1', action: 'SetWeights', rule: 'PB-5' },
      'drained zone',
    );
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({
      policy: 'shop/orders',
      zone: 'us-east-1a',
      region: 'us-east-1',
      action: 'SetWeights',
      rule: 'PB-5',
      msg: 'drained zone',
    });
  });
});

describe('log lines as Kubernetes tooling reads them', () => {
  it('writes the level as a string and the time as ISO 8601', () => {
    const { lines, logger } = capture();
    logger.warn({ policy: 'shop/orders' }, 'drained zone');
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line.level).toBe('warn');
    expect(line.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(line.msg).toBe('drained zone');
  });

  it('console format: time, level, message, then key=value fields', () => {
    expect(
      formatConsoleLine(
        JSON.stringify({
          level: 'info',
          time: '2026-12-06T03:16:13.000Z',
          pid: 1,
          hostname: 'h',
          name: 'failover-operator',
          msg: 'Started workers',
          controller: 'failoverpolicy',
          workers: 16,
          reason: 'two words',
        }),
      ),
    ).toBe('2026-12-06T03:16:13.000Z INFO  Started workers controller=failoverpolicy workers=16 reason="two words"');
    const out: string[] = [];
    const logger = createLogger(
      { level: 'info', name: 'test', format: 'console' },
      { write: (s: string) => void out.push(s) },
    );
    logger.info({ zone: 'us-east-1a' }, 'drained zone');
    expect(out.join('')).toMatch(/^\S+Z INFO {2}drained zone zone=us-east-1a\n$/);
  });
});
