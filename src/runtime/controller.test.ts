import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createVirtualClock } from '../clock.ts';
import { Controller, describeError } from './controller.ts';
import { Informer } from './informer.ts';
import { fakeListWatch, type Widget } from './testing/fake-list-watch.ts';

function setup(reconcile: () => Promise<undefined>) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      done();
    },
  });
  const logger = pino({ level: 'debug' }, stream);
  const clock = createVirtualClock(1_700_000_000_000);
  const server = fakeListWatch<Widget>();
  const informer = new Informer<Widget>({
    resource: { group: 'x.io', version: 'v1', plural: 'widgets' },
    list: server.list,
    watch: server.watch,
    clock,
    logger,
    resyncPeriodMs: 0,
  });
  const controller = new Controller({ name: 'widgets', informer, reconcile, clock, logger });
  return { controller, lines };
}

describe('Controller reconcile logging', () => {
  it('gives each reconcile its own reconcileID', async () => {
    const { controller, lines } = setup(async () => undefined);
    await controller.reconcileKey('ns/a', new AbortController().signal);
    await controller.reconcileKey('ns/a', new AbortController().signal);
    const ids = lines.filter((l) => l.msg === 'Reconciled').map((l) => l.reconcileID);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids[0]).not.toBe(ids[1]);
  });

  it('logs an expected retry without a stack, and a bug with its stack', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingError', code: 'Throttling' });
    let next: Error = throttled;
    const { controller, lines } = setup(async () => {
      throw next;
    });
    await controller.reconcileKey('ns/a', new AbortController().signal);
    next = new TypeError("cannot read properties of undefined (reading 'zones')");
    await controller.reconcileKey('ns/b', new AbortController().signal);
    const [retry, bug] = lines.filter((l) => l.msg === 'Reconcile failed; requeued with backoff');
    expect(retry).toMatchObject({ error: 'ThrottlingError: Rate exceeded', errorCode: 'Throttling' });
    expect(retry).not.toHaveProperty('err');
    expect(JSON.stringify(retry)).not.toContain('    at ');
    expect(bug?.err).toMatchObject({ type: 'TypeError', stack: expect.stringContaining('TypeError') });
    expect(describeError('plain')).toEqual({ error: 'plain' });
  });
});
