import { InternalServiceFault } from '@aws-sdk/client-cloudwatch';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { DBInstanceNotFoundFault, InvalidDBInstanceStateFault } from '@aws-sdk/client-rds';
import {
  ConcurrentModification,
  InvalidChangeBatch,
  NoSuchHostedZone,
  PriorRequestNotComplete,
  Route53ServiceException,
  ThrottlingException,
} from '@aws-sdk/client-route-53';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CloudError, type CloudErrorKind } from '../errors.ts';
import { awsErrorCode, callAws, classifyAwsError, normalizeAwsError } from './errors.ts';

const meta = (httpStatusCode: number) => ({ $metadata: { httpStatusCode } });

/** An unmodeled service error as the SDK builds it: a ServiceException whose name is the wire code. */
function route53Unmodeled(name: string, status: number, message = `${name} happened`) {
  return new Route53ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', message, ...meta(status) });
}
function ec2Error(name: string, status: number, message = `${name} happened`) {
  return new EC2ServiceException({ name, $fault: status >= 500 ? 'server' : 'client', message, ...meta(status) });
}
function nodeError(code: string, message: string) {
  return Object.assign(new Error(message), { code });
}

describe('classifyAwsError with the SDK exception classes', () => {
  const cases: [string, unknown, CloudErrorKind][] = [
    ['Route 53 Throttling (unmodeled)', route53Unmodeled('Throttling', 400, 'Rate exceeded'), 'throttled'],
    ['Route 53 ThrottlingException', new ThrottlingException({ message: 'slow down', ...meta(400) }), 'throttled'],
    ['Route 53 PriorRequestNotComplete', new PriorRequestNotComplete({ message: 'busy', ...meta(400) }), 'busy'],
    ['Route 53 ConcurrentModification', new ConcurrentModification({ message: 'again', ...meta(400) }), 'busy'],
    ['Route 53 NoSuchHostedZone', new NoSuchHostedZone({ message: 'gone', ...meta(404) }), 'not-found'],
    ['Route 53 InvalidChangeBatch', new InvalidChangeBatch({ message: 'bad', ...meta(400) }), 'terminal'],
    ['RDS InvalidDBInstanceStateFault', new InvalidDBInstanceStateFault({ message: 'x', ...meta(400) }), 'busy'],
    ['RDS DBInstanceNotFoundFault', new DBInstanceNotFoundFault({ message: 'x', ...meta(404) }), 'not-found'],
    ['EC2 RequestLimitExceeded', ec2Error('RequestLimitExceeded', 503), 'throttled'],
    ['EC2 IncorrectState', ec2Error('IncorrectState', 400), 'busy'],
    ['EC2 InvalidInstanceID.NotFound', ec2Error('InvalidInstanceID.NotFound', 400), 'not-found'],
    ['EC2 Unavailable', ec2Error('Unavailable', 503), 'retryable'],
    ['EC2 InsufficientInstanceCapacity', ec2Error('InsufficientInstanceCapacity', 500), 'retryable'],
    ['EC2 UnauthorizedOperation', ec2Error('UnauthorizedOperation', 403), 'terminal'],
    ['CloudWatch InternalServiceFault', new InternalServiceFault({ message: 'oops', ...meta(500) }), 'retryable'],
  ];
  it.each(cases)('%s', (_label, err, kind) => {
    expect(classifyAwsError(err)).toBe(kind);
  });
});

describe('classifyAwsError with plain objects shaped like SDK and Node errors', () => {
  const cases: [string, unknown, CloudErrorKind][] = [
    ['TooManyRequestsException', { name: 'TooManyRequestsException', ...meta(400) }, 'throttled'],
    ['SlowDown', { name: 'SlowDown', ...meta(503) }, 'throttled'],
    ['HTTP 429 without a code', { name: 'Unknown', ...meta(429) }, 'throttled'],
    ['$retryable throttling', { name: 'Whatever', $retryable: { throttling: true }, ...meta(400) }, 'throttled'],
    ['InvalidDBInstanceState (wire code)', { name: 'InvalidDBInstanceState', ...meta(400) }, 'busy'],
    [
      'DynamoDB ReplicatedWriteConflictException (MRSC)',
      { name: 'ReplicatedWriteConflictException', ...meta(400) },
      'busy',
    ],
    ['DBInstanceNotFound (wire code)', { name: 'DBInstanceNotFound', ...meta(404) }, 'not-found'],
    ['request timeout from the http handler', { name: 'TimeoutError', code: 'ETIMEDOUT' }, 'timeout'],
    ['our AbortSignal fired', { name: 'AbortError', message: 'Request aborted' }, 'timeout'],
    ['RequestTimeout from the service', { name: 'RequestTimeout', ...meta(400) }, 'timeout'],
    ['ECONNRESET', nodeError('ECONNRESET', 'read ECONNRESET'), 'retryable'],
    [
      'ECONNRESET renamed TimeoutError by the SDK',
      Object.assign(nodeError('ECONNRESET', 'socket hang up'), { name: 'TimeoutError' }),
      'retryable',
    ],
    ['socket hang up', new Error('socket hang up'), 'retryable'],
    ['ECONNREFUSED', nodeError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1'), 'retryable'],
    ['503 with an unparseable body', { name: 'Unknown', message: 'UnknownError', ...meta(503) }, 'retryable'],
    ['InternalFailure', { name: 'InternalFailure', ...meta(500) }, 'retryable'],
    ['ServiceUnavailable', { name: 'ServiceUnavailable', ...meta(503) }, 'retryable'],
    ['$fault server without a status', { name: 'Odd', $fault: 'server' }, 'retryable'],
    ['AccessDenied', { name: 'AccessDenied', ...meta(403) }, 'terminal'],
    ['ValidationError', { name: 'ValidationError', ...meta(400) }, 'terminal'],
    ['a string', 'boom', 'terminal'],
    ['undefined', undefined, 'terminal'],
  ];
  it.each(cases)('%s', (_label, err, kind) => {
    expect(classifyAwsError(err)).toBe(kind);
  });
});

describe('normalizeAwsError', () => {
  it('keeps the service message, the code, the call site and the original error', () => {
    const original = new InvalidChangeBatch({
      message:
        "Tried to create resource record set [name='api.example.com.', type='A', set-identifier='a'] but it already exists",
      ...meta(400),
    });
    const err = normalizeAwsError(original, 'route53', 'ChangeResourceRecordSets');
    expect(err).toBeInstanceOf(CloudError);
    expect(err).toMatchObject({
      kind: 'terminal',
      service: 'route53',
      operation: 'ChangeResourceRecordSets',
      code: 'InvalidChangeBatch',
      message: original.message,
      retryable: false,
    });
    expect(err.cause).toBe(original);
  });

  it('uses the Node error code when the name says nothing', () => {
    const err = normalizeAwsError(nodeError('ECONNRESET', 'read ECONNRESET'), 'ec2', 'DescribeInstances');
    expect(err.code).toBe('ECONNRESET');
    expect(err.kind).toBe('retryable');
    expect(err.retryable).toBe(true);
  });

  it('passes a CloudError through unchanged', () => {
    const inner = new CloudError({ kind: 'busy', service: 'rds', operation: 'X', code: 'C', message: 'm' });
    expect(normalizeAwsError(inner, 'ec2', 'Y')).toBe(inner);
  });

  it('falls back to the code as message when the error has none', () => {
    expect(normalizeAwsError({ name: 'Throttling', ...meta(400) }, 'route53', 'GetChange').message).toBe('Throttling');
  });

  it('never throws and always yields a known kind, whatever is thrown', () => {
    const kinds = new Set(['retryable', 'throttled', 'busy', 'timeout', 'not-found', 'terminal']);
    fc.assert(
      fc.property(fc.anything(), (thrown) => {
        const err = normalizeAwsError(thrown, 'ec2', 'Op');
        expect(err).toBeInstanceOf(CloudError);
        expect(kinds.has(err.kind)).toBe(true);
        expect(typeof err.code).toBe('string');
        expect(typeof awsErrorCode(thrown)).toBe('string');
      }),
    );
  });
});

describe('callAws', () => {
  it('returns the result of a successful call', async () => {
    await expect(callAws('rds', 'Op', async () => 42)).resolves.toBe(42);
  });

  it('rethrows failures as CloudError only', async () => {
    const failing = callAws('route53', 'ChangeResourceRecordSets', async () => {
      throw new PriorRequestNotComplete({
        message: 'The request was rejected because Route 53 was still processing a prior request.',
        ...meta(400),
      });
    });
    await expect(failing).rejects.toBeInstanceOf(CloudError);
    await expect(failing).rejects.toMatchObject({ kind: 'busy', code: 'PriorRequestNotComplete' });
  });
});
